package media_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/media/mediatest"

	"github.com/lepus-ai/lepus/internal/media/synth"

	"github.com/lepus-ai/lepus/internal/media"

	"github.com/lepus-ai/lepus/internal/media/audioframe"
)

// mp3TestFrame builds one zero-filled MPEG audio Layer III frame. versionBits
// is 3 (MPEG-1), 2 (MPEG-2) or 0 (MPEG-2.5); brIndex and srIndex index the
// header's tables.
func mp3TestFrame(t *testing.T, versionBits, brIndex, srIndex byte, pad, mono bool) []byte {
	t.Helper()
	hdr := []byte{0xFF, 0xE0 | versionBits<<3 | 1<<1 | 1, brIndex<<4 | srIndex<<2, 0}
	if pad {
		hdr[2] |= 2
	}
	if mono {
		hdr[3] = 0xC0
	}
	h, ok := audioframe.ParseMP3Header(hdr)
	if !ok {
		t.Fatalf("test frame header % x is invalid", hdr)
	}
	return append(hdr, make([]byte, h.Size-4)...)
}

// id3Tag returns an ID3v2.4 tag with body bytes of padding.
func id3Tag(body int) []byte {
	tag := []byte{'I', 'D', '3', 4, 0, 0}
	tag = append(tag, byte(body>>21&0x7F), byte(body>>14&0x7F), byte(body>>7&0x7F), byte(body&0x7F))
	// A frame-sync-like pattern inside the tag must not be taken for audio.
	pad := make([]byte, body)
	copy(pad, []byte{0xFF, 0xFB, 0x90, 0xC0})
	return append(tag, pad...)
}

func TestAudioDuration(t *testing.T) {
	t.Parallel()

	// VBR without a tag: 40 frames cycling through four bitrates, with
	// padding on some. A duration from the first frame's bitrate and the
	// file size would be about 5.6 times too long.
	var vbr []byte
	for i := range 40 {
		vbr = append(vbr, mp3TestFrame(t, 3, []byte{1, 5, 9, 14}[i%4], 0, i%3 == 0, i%2 == 0)...)
	}
	vbrSecs := 40 * 1152 / 44100.0

	// Junk between frames, including a lone frame header whose "next
	// frame" is not there, must be skipped.
	var junky []byte
	junky = append(junky, id3Tag(300)...)
	junky = append(junky, mp3TestFrame(t, 3, 9, 0, false, true)...)
	junky = append(junky, 0xFF, 0xFB, 0x90, 0xC0, 1, 2, 3, 4, 5)
	for range 9 {
		junky = append(junky, mp3TestFrame(t, 3, 9, 0, false, true)...)
	}
	junky = append(junky, append([]byte("TAG"), make([]byte, 125)...)...) // ID3v1

	// MPEG-2 Layer III: 576 samples per frame at 22.05 kHz.
	var mpeg2 []byte
	for i := range 30 {
		mpeg2 = append(mpeg2, mp3TestFrame(t, 2, byte(1+i%14), 0, false, false)...)
	}

	// A Xing header that claims more frames than the file holds is not
	// believed: the frames are walked, and the tag frame is not sound.
	xing := synth.SilentMP3(1, true)
	binary.BigEndian.PutUint32(xing[4+17+8:], 1000)

	// Nor is a VBRI header (Fraunhofer; 32 bytes after the header).
	vbri := mp3TestFrame(t, 3, 9, 0, false, false)
	copy(vbri[36:], "VBRI")
	binary.BigEndian.PutUint32(vbri[36+14:], 500)
	vbri = append(vbri, synth.SilentMP3(0.5, false)...)

	oddChunk := mediatest.WAVWith(mediatest.WAVChunk{ID: "fmt ", Body: mediatest.FmtChunk(2, 8000, 16)}, mediatest.WAVChunk{ID: "LIST", Body: []byte("odd")},
		mediatest.WAVChunk{ID: "data", Body: make([]byte, 32000)})
	streaming := mediatest.WAVWith(mediatest.WAVChunk{ID: "fmt ", Body: mediatest.FmtChunk(1, 16000, 16)},
		mediatest.WAVChunk{ID: "data", Body: make([]byte, 16000), UnknownSize: true})
	truncated := mediatest.WAVWith(mediatest.WAVChunk{ID: "fmt ", Body: mediatest.FmtChunk(1, 16000, 16)}, mediatest.WAVChunk{ID: "data", Body: make([]byte, 16000)})
	binary.LittleEndian.PutUint32(truncated[len(truncated)-16000-4:], 1<<30)

	adtsCRC := synth.SilentADTS(1)
	adtsCRC = adtsWithCRC(adtsCRC)

	tests := []struct {
		name   string
		data   []byte
		format string
		want   float64
	}{
		{"WAV_Sine", synth.SineWAV(2.5, 44100), media.AudioWAV, 2.5},
		{"WAV_OddChunkPadded", oddChunk, media.AudioWAV, 1},
		{"WAV_StreamingSize", streaming, media.AudioWAV, 0.5},
		{"WAV_SizeBeyondFile", truncated, media.AudioWAV, 0.5},
		{"MP3_CBR", synth.SilentMP3(2, false), media.AudioMP3, 77 * 1152 / 44100.0},
		{"MP3_XingFrames", synth.SilentMP3(2, true), media.AudioMP3, 77 * 1152 / 44100.0},
		{"MP3_XingCountWalked", xing, media.AudioMP3, 38 * 1152 / 44100.0},
		{"MP3_VBRICountWalked", vbri, media.AudioMP3, 19 * 1152 / 44100.0},
		{"MP3_MixedBitrates", vbr, media.AudioMP3, vbrSecs},
		{"MP3_ID3AndJunk", junky, media.AudioMP3, 10 * 1152 / 44100.0},
		{"MP3_MPEG2", mpeg2, media.AudioMP3, 30 * 576 / 22050.0},
		{"AAC_ADTS", synth.SilentADTS(3), media.AudioAAC, 129 * 1024 / 44100.0},
		{"AAC_ID3AndCRC", append(id3Tag(64), adtsCRC...), media.AudioAAC, 43 * 1024 / 44100.0},
		{"M4A", synth.SilentM4A(3), media.AudioM4A, 129 * 1024 / 44100.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.AudioDuration(bytes.NewReader(tt.data), tt.format)
			if err != nil {
				t.Fatalf("media.AudioDuration: %v", err)
			}
			if math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("duration %v s, want %v s", got, tt.want)
			}
		})
	}
}

// adtsWithCRC rewrites ADTS frames with protection_absent 0 and a (dummy)
// 2-byte CRC after each header.
func adtsWithCRC(in []byte) []byte {
	var out []byte
	for len(in) > 0 {
		h, _ := audioframe.ParseADTSHeader(in)
		hdr := append([]byte{}, in[:audioframe.ADTSHeaderLen]...)
		hdr[1] &^= 1
		size := h.Size + 2
		hdr[3] = hdr[3]&^3 | byte(size>>11)
		hdr[4] = byte(size >> 3)
		hdr[5] = hdr[5]&0x1F | byte(size&7)<<5
		out = append(out, hdr...)
		out = append(out, 0xAB, 0xCD)
		out = append(out, in[audioframe.ADTSHeaderLen:h.Size]...)
		in = in[h.Size:]
	}
	return out
}

func TestAudioDuration_Err(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, format string
		data         []byte
		want         string
	}{
		{"ErrUnknownFormat", "ogg", synth.SineWAV(1, 8000), "unknown format"},
		{"ErrMP3Text", media.AudioMP3, []byte(strings.Repeat("not an mp3 ", 20)), "no audio frames"},
		{"ErrMP3Empty", media.AudioMP3, nil, "no audio frames"},
		{"ErrAACIsMP3", media.AudioAAC, synth.SilentMP3(1, false), "no adts frames"},
		{"ErrWAVNotRIFF", media.AudioWAV, synth.SilentMP3(1, false), "not a RIFF WAVE"},
		{"ErrWAVNoData", media.AudioWAV, mediatest.WAVWith(mediatest.WAVChunk{ID: "fmt ", Body: mediatest.FmtChunk(1, 8000, 16)}), "no data chunk"},
		{"ErrWAVNoFmt", media.AudioWAV, mediatest.WAVWith(mediatest.WAVChunk{ID: "data", Body: make([]byte, 10)}), "before fmt"},
		{"ErrM4AIsADTS", media.AudioM4A, synth.SilentADTS(1), "mp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := media.AudioDuration(bytes.NewReader(tt.data), tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("duration %v, error %v; want an error mentioning %q", d, err, tt.want)
			}
		})
	}
}

// TestAudioDuration_LyingHeader checks that a header claiming a length
// the data does not have is measured by the data, or refused.
func TestAudioDuration_LyingHeader(t *testing.T) {
	t.Parallel()

	// A byte rate of 1 would make 16000 bytes of 16 kHz mono last 4.4 hours.
	slowRate := mediatest.FmtChunk(1, 16000, 16)
	binary.LittleEndian.PutUint32(slowRate[8:], 1)
	byteRate := mediatest.WAVWith(mediatest.WAVChunk{ID: "fmt ", Body: slowRate}, mediatest.WAVChunk{ID: "data", Body: make([]byte, 16000)})

	// A data chunk claiming 1 GB in a file that holds 16000 bytes of it.
	bigData := mediatest.WAVWith(mediatest.WAVChunk{ID: "fmt ", Body: mediatest.FmtChunk(1, 16000, 16)}, mediatest.WAVChunk{ID: "data", Body: make([]byte, 16000)})
	binary.LittleEndian.PutUint32(bigData[len(bigData)-16000-4:], 1<<30)

	// A block align of 1 for 16-bit stereo.
	badAlign := mediatest.FmtChunk(2, 16000, 16)
	binary.LittleEndian.PutUint16(badAlign[12:], 1)

	// An M4A whose movie and track headers say an hour.
	longM4A := synth.SilentM4A(3)
	for _, typ := range []string{"mvhd", "mdhd"} {
		i := bytes.Index(longM4A, []byte(typ))
		ts := binary.BigEndian.Uint32(longM4A[i+16:])
		binary.BigEndian.PutUint32(longM4A[i+20:], 3600*ts)
	}
	// An M4A cut off in its audio.
	m4a := synth.SilentM4A(3)
	cutM4A := m4a[:len(m4a)-100] // moov comes first: this cuts the mdat

	tests := []struct {
		name, format string
		data         []byte
		want         float64 // 0: refused
		wantErr      string
	}{
		{name: "WAV_ByteRate", format: media.AudioWAV, data: byteRate, want: 0.5},
		{name: "WAV_DataSize", format: media.AudioWAV, data: bigData, want: 0.5},
		{name: "WAV_BlockAlign", format: media.AudioWAV, data: mediatest.WAVWith(mediatest.WAVChunk{ID: "fmt ", Body: badAlign}, mediatest.WAVChunk{ID: "data", Body: make([]byte, 6400)}), wantErr: "block align"},
		{name: "M4A_Headers", format: media.AudioM4A, data: longM4A, want: 129 * 1024 / 44100.0},
		{name: "M4A_Truncated", format: media.AudioM4A, data: cutM4A, wantErr: "past the end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.AudioDuration(bytes.NewReader(tt.data), tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("duration %v, error %v; want an error mentioning %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("media.AudioDuration: %v", err)
			}
			if math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("duration %v s, want %v s", got, tt.want)
			}
		})
	}
}

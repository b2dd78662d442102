package media

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
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
	h, ok := parseMP3Header(hdr)
	if !ok {
		t.Fatalf("test frame header % x is invalid", hdr)
	}
	return append(hdr, make([]byte, h.size-4)...)
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

// wavChunk is one RIFF chunk; unknownSize writes 0xFFFFFFFF as its size,
// as streaming writers do.
type wavChunk struct {
	id          string
	body        []byte
	unknownSize bool
}

// wavWith builds a WAV file from chunks, padding odd ones.
func wavWith(chunks ...wavChunk) []byte {
	out := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		out = append(out, c.id...)
		size := uint32(len(c.body))
		if c.unknownSize {
			size = wavUnknownSize
		}
		out = binary.LittleEndian.AppendUint32(out, size)
		out = append(out, c.body...)
		if len(c.body)%2 == 1 {
			out = append(out, 0)
		}
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// fmtChunk is a PCM fmt chunk body.
func fmtChunk(channels, rate, bits int) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint16(b, wavFormatPCM)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*bits/8))
	return binary.LittleEndian.AppendUint16(b, uint16(bits))
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
	xing := SilentMP3(1, true)
	binary.BigEndian.PutUint32(xing[4+17+8:], 1000)

	// Nor is a VBRI header (Fraunhofer; 32 bytes after the header).
	vbri := mp3TestFrame(t, 3, 9, 0, false, false)
	copy(vbri[36:], "VBRI")
	binary.BigEndian.PutUint32(vbri[36+14:], 500)
	vbri = append(vbri, SilentMP3(0.5, false)...)

	oddChunk := wavWith(wavChunk{id: "fmt ", body: fmtChunk(2, 8000, 16)}, wavChunk{id: "LIST", body: []byte("odd")},
		wavChunk{id: "data", body: make([]byte, 32000)})
	streaming := wavWith(wavChunk{id: "fmt ", body: fmtChunk(1, 16000, 16)},
		wavChunk{id: "data", body: make([]byte, 16000), unknownSize: true})
	truncated := wavWith(wavChunk{id: "fmt ", body: fmtChunk(1, 16000, 16)}, wavChunk{id: "data", body: make([]byte, 16000)})
	binary.LittleEndian.PutUint32(truncated[len(truncated)-16000-4:], 1<<30)

	adtsCRC := SilentADTS(1)
	adtsCRC = adtsWithCRC(adtsCRC)

	tests := []struct {
		name   string
		data   []byte
		format string
		want   float64
	}{
		{"WAV_Sine", SineWAV(2.5, 44100), AudioWAV, 2.5},
		{"WAV_OddChunkPadded", oddChunk, AudioWAV, 1},
		{"WAV_StreamingSize", streaming, AudioWAV, 0.5},
		{"WAV_SizeBeyondFile", truncated, AudioWAV, 0.5},
		{"MP3_CBR", SilentMP3(2, false), AudioMP3, 77 * 1152 / 44100.0},
		{"MP3_XingFrames", SilentMP3(2, true), AudioMP3, 77 * 1152 / 44100.0},
		{"MP3_XingCountWalked", xing, AudioMP3, 38 * 1152 / 44100.0},
		{"MP3_VBRICountWalked", vbri, AudioMP3, 19 * 1152 / 44100.0},
		{"MP3_MixedBitrates", vbr, AudioMP3, vbrSecs},
		{"MP3_ID3AndJunk", junky, AudioMP3, 10 * 1152 / 44100.0},
		{"MP3_MPEG2", mpeg2, AudioMP3, 30 * 576 / 22050.0},
		{"AAC_ADTS", SilentADTS(3), AudioAAC, 129 * 1024 / 44100.0},
		{"AAC_ID3AndCRC", append(id3Tag(64), adtsCRC...), AudioAAC, 43 * 1024 / 44100.0},
		{"M4A", SilentM4A(3), AudioM4A, 129 * 1024 / 44100.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := AudioDuration(bytes.NewReader(tt.data), tt.format)
			if err != nil {
				t.Fatalf("AudioDuration: %v", err)
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
		h, _ := parseADTSHeader(in)
		hdr := append([]byte{}, in[:adtsHeaderLen]...)
		hdr[1] &^= 1
		size := h.size + 2
		hdr[3] = hdr[3]&^3 | byte(size>>11)
		hdr[4] = byte(size >> 3)
		hdr[5] = hdr[5]&0x1F | byte(size&7)<<5
		out = append(out, hdr...)
		out = append(out, 0xAB, 0xCD)
		out = append(out, in[adtsHeaderLen:h.size]...)
		in = in[h.size:]
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
		{"ErrUnknownFormat", "ogg", SineWAV(1, 8000), "unknown format"},
		{"ErrMP3Text", AudioMP3, []byte(strings.Repeat("not an mp3 ", 20)), "no audio frames"},
		{"ErrMP3Empty", AudioMP3, nil, "no audio frames"},
		{"ErrAACIsMP3", AudioAAC, SilentMP3(1, false), "no adts frames"},
		{"ErrWAVNotRIFF", AudioWAV, SilentMP3(1, false), "not a RIFF WAVE"},
		{"ErrWAVNoData", AudioWAV, wavWith(wavChunk{id: "fmt ", body: fmtChunk(1, 8000, 16)}), "no data chunk"},
		{"ErrWAVNoFmt", AudioWAV, wavWith(wavChunk{id: "data", body: make([]byte, 10)}), "before fmt"},
		{"ErrM4AIsADTS", AudioM4A, SilentADTS(1), "mp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := AudioDuration(bytes.NewReader(tt.data), tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("duration %v, error %v; want an error mentioning %q", d, err, tt.want)
			}
		})
	}
}

// TestSilentMP3_Frames checks the generator makes the constant bitrate it
// claims: every frame a valid 128 kbit/s header, padding spread so the
// average is exact.
func TestSilentMP3_Frames(t *testing.T) {
	t.Parallel()

	data := SilentMP3(10, false)
	frames := 0
	for p := data; len(p) > 0; frames++ {
		h, ok := parseMP3Header(p)
		if !ok || h.bitrate != 128000 || h.sampleRate != 44100 || !h.mono {
			t.Fatalf("frame %d: header % x invalid or not 128k/44.1k mono", frames, p[:4])
		}
		p = p[h.size:]
	}
	if want := int(math.Round(10 * 44100 / 1152.0)); frames != want {
		t.Fatalf("%d frames, want %d", frames, want)
	}
	if got, want := float64(len(data))*8/(float64(frames)*1152/44100), 128000.0; math.Abs(got-want) > 50 {
		t.Errorf("average bitrate %v, want %v", got, want)
	}
}

func TestSineWAV(t *testing.T) {
	t.Parallel()

	data := SineWAV(0.5, 8000)
	w, err := readWAV(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if w.channels != 1 || w.bitsPerSample != 16 || w.sampleRate != 8000 || w.dataLen != 8000 {
		t.Fatalf("wav %+v, want mono 16-bit 8 kHz with 4000 samples", w)
	}
	var peak int16
	for i := w.dataOff; i < w.dataOff+w.dataLen; i += 2 {
		peak = max(peak, int16(binary.LittleEndian.Uint16(data[i:])))
	}
	if peak < 3000 || peak > 3300 {
		t.Errorf("peak %d, want a quiet tone near a tenth of full scale", peak)
	}
}

// TestAudioDuration_LyingHeader checks that a header claiming a length
// the data does not have is measured by the data, or refused.
func TestAudioDuration_LyingHeader(t *testing.T) {
	t.Parallel()

	// A byte rate of 1 would make 16000 bytes of 16 kHz mono last 4.4 hours.
	slowRate := fmtChunk(1, 16000, 16)
	binary.LittleEndian.PutUint32(slowRate[8:], 1)
	byteRate := wavWith(wavChunk{id: "fmt ", body: slowRate}, wavChunk{id: "data", body: make([]byte, 16000)})

	// A data chunk claiming 1 GB in a file that holds 16000 bytes of it.
	bigData := wavWith(wavChunk{id: "fmt ", body: fmtChunk(1, 16000, 16)}, wavChunk{id: "data", body: make([]byte, 16000)})
	binary.LittleEndian.PutUint32(bigData[len(bigData)-16000-4:], 1<<30)

	// A block align of 1 for 16-bit stereo.
	badAlign := fmtChunk(2, 16000, 16)
	binary.LittleEndian.PutUint16(badAlign[12:], 1)

	// An M4A whose movie and track headers say an hour.
	longM4A := SilentM4A(3)
	for _, typ := range []string{"mvhd", "mdhd"} {
		i := bytes.Index(longM4A, []byte(typ))
		ts := binary.BigEndian.Uint32(longM4A[i+16:])
		binary.BigEndian.PutUint32(longM4A[i+20:], 3600*ts)
	}
	// An M4A cut off in its audio.
	m4a := SilentM4A(3)
	cutM4A := m4a[:len(m4a)-100] // moov comes first: this cuts the mdat

	tests := []struct {
		name, format string
		data         []byte
		want         float64 // 0: refused
		wantErr      string
	}{
		{name: "WAV_ByteRate", format: AudioWAV, data: byteRate, want: 0.5},
		{name: "WAV_DataSize", format: AudioWAV, data: bigData, want: 0.5},
		{name: "WAV_BlockAlign", format: AudioWAV, data: wavWith(wavChunk{id: "fmt ", body: badAlign}, wavChunk{id: "data", body: make([]byte, 6400)}), wantErr: "block align"},
		{name: "M4A_Headers", format: AudioM4A, data: longM4A, want: 129 * 1024 / 44100.0},
		{name: "M4A_Truncated", format: AudioM4A, data: cutM4A, wantErr: "past the end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := AudioDuration(bytes.NewReader(tt.data), tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("duration %v, error %v; want an error mentioning %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("AudioDuration: %v", err)
			}
			if math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("duration %v s, want %v s", got, tt.want)
			}
		})
	}
}

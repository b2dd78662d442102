package synth

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/lepus-ai/lepus/internal/media/audioframe"
)

// These generators make small, valid audio files in code, so tests (and
// the sandbox) need no binary fixtures. Each makes at least one frame (or
// PCM sample), however short the length asked for.

const (
	genRate     = 44100
	genToneHz   = 440
	genToneGain = 0.1 // quiet: a tenth of full scale
	// silentMP3Bitrate is 128 kbit/s; at 44.1 kHz a frame is 417.96 bytes,
	// so some frames carry the padding byte, as encoders do.
	silentMP3Bitrate = 128000
)

// SineWAV returns a 16-bit mono PCM WAV of a quiet 440 Hz tone lasting
// seconds (rounded to whole samples) at sampleRate (44.1 kHz if not
// positive), for tests.
func SineWAV(seconds float64, sampleRate int) []byte {
	if sampleRate <= 0 {
		sampleRate = genRate
	}
	n := max(1, int(math.Round(seconds*float64(sampleRate))))
	out := make([]byte, 0, 44+2*n)
	out = append(out, "RIFF"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(36+2*n))
	out = append(out, "WAVEfmt "...)
	out = binary.LittleEndian.AppendUint32(out, 16)
	out = binary.LittleEndian.AppendUint16(out, audioframe.FormatPCM)
	out = binary.LittleEndian.AppendUint16(out, 1) // mono
	out = binary.LittleEndian.AppendUint32(out, uint32(sampleRate))
	out = binary.LittleEndian.AppendUint32(out, uint32(2*sampleRate)) // byte rate
	out = binary.LittleEndian.AppendUint16(out, 2)                    // block align
	out = binary.LittleEndian.AppendUint16(out, 16)                   // bits per sample
	out = append(out, "data"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(2*n))
	for i := range n {
		v := genToneGain * math.MaxInt16 * math.Sin(2*math.Pi*genToneHz*float64(i)/float64(sampleRate))
		out = binary.LittleEndian.AppendUint16(out, uint16(int16(math.Round(v))))
	}
	return out
}

// SilentMP3 returns an MPEG-1 Layer III stream (128 kbit/s, 44.1 kHz,
// mono) of seconds rounded to whole 1152-sample frames. Each frame is a
// valid header with zeroed side information and main data, which decoders
// play as silence. withXing puts a Xing header frame (frame and byte
// counts) first, as LAME does; it is not counted in the length.
func SilentMP3(seconds float64, withXing bool) []byte {
	n := max(1, int(math.Round(seconds*genRate/1152)))
	var out []byte
	if withXing {
		out = silentMP3Frame(out, false)
		off := 4 + 17 // header and mono MPEG-1 side information
		copy(out[off:], "Xing")
		binary.BigEndian.PutUint32(out[off+4:], 3) // frames and bytes fields present
		binary.BigEndian.PutUint32(out[off+8:], uint32(n))
	}
	for i := range n {
		// Frame i carries the padding byte when the running byte count
		// (144 * bitrate / rate per frame) crosses another whole byte.
		pad := mp3FrameBytes(i+1)-mp3FrameBytes(i) > 417
		out = silentMP3Frame(out, pad)
	}
	if withXing {
		binary.BigEndian.PutUint32(out[4+17+12:], uint32(len(out)))
	}
	return out
}

// mp3FrameBytes is the total size of the first k frames at 128 kbit/s.
func mp3FrameBytes(k int) int { return k * 144 * silentMP3Bitrate / genRate }

// silentMP3Frame appends one silent 128 kbit/s 44.1 kHz mono frame.
func silentMP3Frame(out []byte, pad bool) []byte {
	hdr := []byte{0xFF, 0xFB, 0x90, 0xC0} // MPEG-1 Layer III, no CRC, 128 kbit/s, 44.1 kHz, mono
	if pad {
		hdr[2] |= 0x02
	}
	h, _ := audioframe.ParseMP3Header(hdr)
	out = append(out, hdr...)
	return append(out, make([]byte, h.Size-4)...)
}

// silentAACFrame is a raw AAC-LC frame that decodes to 1024 samples of
// silence on one channel: a single channel element (global gain 140, a
// long window, no scale factor bands, so no spectral data), then the end
// element. The often quoted 21 10 04 60 8C 1C is the two-channel (channel
// pair element) version: decoders turn it into stereo.
var silentAACFrame = []byte{0x01, 0x18, 0x00, 0x07}

// SilentADTS returns an AAC-LC ADTS stream (44.1 kHz, mono) of seconds
// rounded to whole 1024-sample frames of silence, for tests.
func SilentADTS(seconds float64) []byte {
	n := max(1, int(math.Round(seconds*genRate/audioframe.AACFrameSamples)))
	size := audioframe.ADTSHeaderLen + len(silentAACFrame)
	hdr := []byte{
		0xFF, 0xF1, // sync, MPEG-4, layer 0, no CRC
		1<<6 | 4<<2, // profile AAC LC, 44.1 kHz (index 4), channel config bit 2 = 0
		1<<6 | byte(size>>11),
		byte(size >> 3),
		byte(size&7)<<5 | 0x1F, // buffer fullness 0x7FF: variable rate
		0xFC,                   // rest of buffer fullness, one raw data block
	}
	out := make([]byte, 0, n*size)
	for range n {
		out = append(out, hdr...)
		out = append(out, silentAACFrame...)
	}
	return out
}

// SilentM4A returns the frames of SilentADTS(seconds) in an MP4 audio
// container (M4A, moov first), for tests.
func SilentM4A(seconds float64) []byte {
	t, err := adtsTrack(SilentADTS(seconds))
	if err != nil {
		panic("media: silent m4a: " + err.Error()) // the frames are built above
	}
	var buf bytes.Buffer
	ftyp := brandsBox("M4A ", "M4A ", "isom", "iso2", "mp41")
	if err := writeMovie(&buf, ftyp, t.timescale, []*muxTrack{t}); err != nil {
		panic("media: silent m4a: " + err.Error()) // writing to memory cannot fail
	}
	return buf.Bytes()
}

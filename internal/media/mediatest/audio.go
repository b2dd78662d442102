package mediatest

import (
	"encoding/binary"

	"github.com/lepus-ai/lepus/internal/media/audioframe"
)

// WAVChunk is one RIFF chunk; UnknownSize writes 0xFFFFFFFF as its size,
// as streaming writers do.
type WAVChunk struct {
	ID          string
	Body        []byte
	UnknownSize bool
}

// WAVWith builds a WAV file from chunks, padding odd ones.
func WAVWith(chunks ...WAVChunk) []byte {
	out := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		out = append(out, c.ID...)
		size := uint32(len(c.Body))
		if c.UnknownSize {
			size = 0xFFFFFFFF
		}
		out = binary.LittleEndian.AppendUint32(out, size)
		out = append(out, c.Body...)
		if len(c.Body)%2 == 1 {
			out = append(out, 0)
		}
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// FmtChunk is a PCM fmt chunk body.
func FmtChunk(channels, rate, bits int) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint16(b, audioframe.FormatPCM)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*bits/8))
	return binary.LittleEndian.AppendUint16(b, uint16(bits))
}

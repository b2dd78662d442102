package audioframe

import (
	"errors"
	"fmt"
	"io"
)

// aacSampleRates maps the MPEG-4 sampling frequency index to Hz.
var aacSampleRates = [13]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// AACFrameSamples is the number of samples an AAC-LC raw data block codes.
const AACFrameSamples = 1024

// ADTSHeaderLen is the length of an ADTS header without its CRC.
const ADTSHeaderLen = 7

// ADTSHeader is a decoded ADTS frame header.
type ADTSHeader struct {
	Profile    int // MPEG-4 audio object type minus one (1 = AAC LC)
	RateIndex  int
	Channels   int // channel configuration
	Size       int // frame bytes, header included
	HeaderLen  int // 7, or 9 when a CRC follows the header
	RawBlocks  int // raw data blocks in the frame
	SampleRate int
}

// ParseADTSHeader decodes the 7-byte ADTS fixed and variable header.
func ParseADTSHeader(b []byte) (ADTSHeader, bool) {
	if len(b) < ADTSHeaderLen || b[0] != 0xFF || b[1]&0xF6 != 0xF0 {
		return ADTSHeader{}, false // 12-bit sync and layer 0
	}
	h := ADTSHeader{
		Profile:   int(b[2] >> 6),
		RateIndex: int(b[2] >> 2 & 0xF),
		Channels:  int(b[2]&1)<<2 | int(b[3]>>6),
		Size:      int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5]>>5),
		HeaderLen: ADTSHeaderLen,
		RawBlocks: int(b[6]&3) + 1,
	}
	if b[1]&1 == 0 {
		h.HeaderLen += 2 // protection_absent is 0: CRC present
	}
	if h.RateIndex >= len(aacSampleRates) || h.Size < h.HeaderLen+1 {
		return ADTSHeader{}, false
	}
	h.SampleRate = aacSampleRates[h.RateIndex]
	return h, true
}

// ADTSFrame adapts ParseADTSHeader to the frame scanner. Frames of one
// stream share MPEG version, profile, rate and channel configuration.
func ADTSFrame(head []byte) (Frame, bool) {
	h, ok := ParseADTSHeader(head)
	if !ok {
		return Frame{}, false
	}
	key := uint32(head[1]&0x08)<<16 | uint32(head[2]&0xFD)<<8 | uint32(head[3]&0xC0)
	return Frame{
		Size: h.Size, Samples: h.RawBlocks * AACFrameSamples, Rate: h.SampleRate,
		Channels: h.Channels, Key: key,
	}, true
}

// ADTSDuration walks every ADTS frame and sums 1024 samples per raw data
// block.
func ADTSDuration(r io.Reader) (float64, error) {
	sc := NewScanner(r, ADTSHeaderLen, ADTSFrame)
	var secs float64
	for {
		f, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("aac: %w", err)
		}
		secs += float64(f.Samples) / float64(f.Rate)
	}
	if secs == 0 {
		return 0, errors.New("aac: no adts frames")
	}
	return secs, nil
}

package media

import (
	"errors"
	"fmt"
	"io"
)

// aacSampleRates maps the MPEG-4 sampling frequency index to Hz.
var aacSampleRates = [13]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// aacFrameSamples is the number of samples an AAC-LC raw data block codes.
const aacFrameSamples = 1024

const adtsHeaderLen = 7

// adtsHeader is a decoded ADTS frame header.
type adtsHeader struct {
	profile    int // MPEG-4 audio object type minus one (1 = AAC LC)
	rateIndex  int
	channels   int // channel configuration
	size       int // frame bytes, header included
	headerLen  int // 7, or 9 when a CRC follows the header
	rawBlocks  int // raw data blocks in the frame
	sampleRate int
}

// parseADTSHeader decodes the 7-byte ADTS fixed and variable header.
func parseADTSHeader(b []byte) (adtsHeader, bool) {
	if len(b) < adtsHeaderLen || b[0] != 0xFF || b[1]&0xF6 != 0xF0 {
		return adtsHeader{}, false // 12-bit sync and layer 0
	}
	h := adtsHeader{
		profile:   int(b[2] >> 6),
		rateIndex: int(b[2] >> 2 & 0xF),
		channels:  int(b[2]&1)<<2 | int(b[3]>>6),
		size:      int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5]>>5),
		headerLen: adtsHeaderLen,
		rawBlocks: int(b[6]&3) + 1,
	}
	if b[1]&1 == 0 {
		h.headerLen += 2 // protection_absent is 0: CRC present
	}
	if h.rateIndex >= len(aacSampleRates) || h.size < h.headerLen+1 {
		return adtsHeader{}, false
	}
	h.sampleRate = aacSampleRates[h.rateIndex]
	return h, true
}

// adtsFrame adapts parseADTSHeader to the frame scanner. Frames of one
// stream share MPEG version, profile, rate and channel configuration.
func adtsFrame(head []byte) (audioFrame, bool) {
	h, ok := parseADTSHeader(head)
	if !ok {
		return audioFrame{}, false
	}
	key := uint32(head[1]&0x08)<<16 | uint32(head[2]&0xFD)<<8 | uint32(head[3]&0xC0)
	return audioFrame{
		size: h.size, samples: h.rawBlocks * aacFrameSamples, rate: h.sampleRate,
		channels: h.channels, key: key,
	}, true
}

// adtsDuration walks every ADTS frame and sums 1024 samples per raw data
// block.
func adtsDuration(r io.Reader) (float64, error) {
	sc := newFrameScanner(r, adtsHeaderLen, adtsFrame)
	var secs float64
	for {
		f, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("aac: %w", err)
		}
		secs += float64(f.samples) / float64(f.rate)
	}
	if secs == 0 {
		return 0, errors.New("aac: no adts frames")
	}
	return secs, nil
}

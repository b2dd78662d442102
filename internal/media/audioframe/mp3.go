package audioframe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MP3Header is a decoded MPEG audio Layer III frame header.
type MP3Header struct {
	Version    int // 1 (MPEG-1), 2 (MPEG-2) or 25 (MPEG-2.5)
	Bitrate    int // bits per second
	SampleRate int
	Padding    bool
	CRC        bool // a 16-bit CRC follows the header
	Mono       bool
	Size       int // frame bytes, header included
	Samples    int // 1152 for MPEG-1, 576 for MPEG-2 and 2.5
}

// Layer III bitrates in kbit/s by bitrate index (0 is free format, 15 is
// invalid; neither is accepted).
var (
	mp3BitratesV1 = [15]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	mp3BitratesV2 = [15]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
	mp3RatesV1    = [3]int{44100, 48000, 32000}
)

// ParseMP3Header decodes a 4-byte MPEG audio frame header, accepting only
// Layer III with a known bitrate and sample rate.
func ParseMP3Header(b []byte) (MP3Header, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return MP3Header{}, false
	}
	versionBits := b[1] >> 3 & 3
	layerBits := b[1] >> 1 & 3
	brIndex := int(b[2] >> 4)
	srIndex := int(b[2] >> 2 & 3)
	if versionBits == 1 || layerBits != 1 || brIndex == 0 || brIndex == 15 || srIndex == 3 || b[3]&3 == 2 {
		return MP3Header{}, false // reserved version, not Layer III, free/bad bitrate, bad rate or emphasis
	}
	h := MP3Header{
		CRC:     b[1]&1 == 0,
		Padding: b[2]>>1&1 == 1,
		Mono:    b[3]>>6 == 3,
	}
	rate := mp3RatesV1[srIndex]
	switch versionBits {
	case 3:
		h.Version, h.Bitrate, h.SampleRate, h.Samples = 1, mp3BitratesV1[brIndex]*1000, rate, 1152
	case 2:
		h.Version, h.Bitrate, h.SampleRate, h.Samples = 2, mp3BitratesV2[brIndex]*1000, rate/2, 576
	default:
		h.Version, h.Bitrate, h.SampleRate, h.Samples = 25, mp3BitratesV2[brIndex]*1000, rate/4, 576
	}
	// bytes = samples/8 * bitrate / rate, plus one padding byte.
	h.Size = h.Samples / 8 * h.Bitrate / h.SampleRate
	if h.Padding {
		h.Size++
	}
	return h, true
}

// sideInfoLen is the Layer III side information size, after which Xing and
// Info tags sit.
func (h MP3Header) sideInfoLen() int {
	switch {
	case h.Version == 1 && h.Mono:
		return 17
	case h.Version == 1:
		return 32
	case h.Mono:
		return 9
	}
	return 17
}

// Channels is 1 for a mono frame, else 2.
func (h MP3Header) Channels() int {
	if h.Mono {
		return 1
	}
	return 2
}

// MP3Frame adapts ParseMP3Header to the frame scanner. Frames of one
// stream share version, layer and sample rate (header byte 1, and the rate
// bits of byte 2).
func MP3Frame(head []byte) (Frame, bool) {
	h, ok := ParseMP3Header(head)
	if !ok {
		return Frame{}, false
	}
	key := uint32(head[1])<<8 | uint32(head[2]&0x0C)
	return Frame{Size: h.Size, Samples: h.Samples, Rate: h.SampleRate, Channels: h.Channels(), Key: key}, true
}

// MP3TagFrames reads the frame count of a Xing/Info or VBRI header in the
// first frame. ok is false when the frame is ordinary audio. Encoders put
// these headers in a silent frame that is not part of the sound.
func MP3TagFrames(frame []byte) (frames uint32, isTag bool) {
	h, ok := ParseMP3Header(frame)
	if !ok {
		return 0, false
	}
	if off := 4 + h.sideInfoLen(); len(frame) >= off+8 {
		tag := string(frame[off : off+4])
		if tag == "Xing" || tag == "Info" {
			flags := binary.BigEndian.Uint32(frame[off+4:])
			if flags&1 != 0 && len(frame) >= off+12 {
				return binary.BigEndian.Uint32(frame[off+8:]), true
			}
			return 0, true
		}
	}
	// VBRI: tag, version, delay, quality, bytes, then frames.
	if off := 4 + 32; len(frame) >= off+18 && string(frame[off:off+4]) == "VBRI" {
		return binary.BigEndian.Uint32(frame[off+14:]), true
	}
	return 0, false
}

// MP3Duration returns the length of an MP3 stream by walking every frame
// and summing its samples: the only exact way for VBR files, and what a
// decoder plays. The frame count of a Xing/Info or VBRI header is not
// used: it is a claim the frames may not back (a 1 s file can say 1000
// frames), and the provider hears the frames. The tag's own frame is
// silent and not counted.
func MP3Duration(r io.Reader) (float64, error) {
	sc := NewScanner(r, 4, MP3Frame)
	var secs float64
	for first := true; ; first = false {
		f, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("mp3: %w", err)
		}
		if _, isTag := MP3TagFrames(f.Data); first && isTag {
			continue
		}
		secs += float64(f.Samples) / float64(f.Rate)
	}
	if secs == 0 {
		return 0, errors.New("mp3: no audio frames")
	}
	return secs, nil
}

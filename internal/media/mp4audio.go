package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MPEG-4 objectTypeIndication values for the esds decoder configuration.
const (
	otiAAC      = 0x40 // MPEG-4 audio; the AudioSpecificConfig says which
	otiMP3      = 0x6B // MPEG-1 audio (Layer III here)
	otiMP3LSF   = 0x69 // MPEG-2 audio: the lower sample rates of MPEG-2/2.5
	audioStream = 0x05 // streamType of the decoder configuration
	// maxEntryRate is the highest sample rate the 16.16 field of a sample
	// entry can hold.
	maxEntryRate = 65535
)

// audioEntry builds an AudioSampleEntry (version 0) of type typ with the
// given child boxes.
func audioEntry(typ string, channels, bits, rate int, children ...[]byte) []byte {
	var x box
	x.zeros(6)
	x.u16(1) // data_reference_index
	x.zeros(8)
	x.u16(uint16(channels))
	x.u16(uint16(bits))
	x.u16(0) // pre_defined
	x.u16(0)
	x.u32(uint32(rate) << 16)
	return mkbox(typ, append([][]byte{x.b}, children...)...)
}

// esdsBox builds the MPEG-4 elementary stream descriptor: a decoder
// configuration for oti with an optional decoder specific info (the AAC
// AudioSpecificConfig; MP3 has none).
func esdsBox(oti byte, bufferSize, maxBitrate, avgBitrate uint32, specific []byte) []byte {
	var dc box
	dc.u8(oti)
	dc.u8(audioStream<<2 | 1) // upStream 0, reserved 1
	dc.u8(uint8(bufferSize >> 16))
	dc.u16(uint16(bufferSize))
	dc.u32(maxBitrate)
	dc.u32(avgBitrate)
	if specific != nil {
		dc.b = append(dc.b, descriptor(0x05, specific)...) // DecSpecificInfoTag
	}
	var es box
	es.u16(0)                                           // ES_ID
	es.u8(0)                                            // no dependency, URL or OCR stream
	es.b = append(es.b, descriptor(0x04, dc.b)...)      // DecoderConfigDescrTag
	es.b = append(es.b, descriptor(0x06, []byte{2})...) // SLConfigDescrTag: predefined MP4
	var x box
	x.fullHeader(0, 0)
	x.b = append(x.b, descriptor(0x03, es.b)...) // ES_DescrTag
	return mkbox("esds", x.b)
}

// descriptor wraps body in an MPEG-4 descriptor with a 4-byte size field,
// which every parser accepts whatever the size.
func descriptor(tag byte, body []byte) []byte {
	n := len(body)
	out := []byte{tag, byte(n>>21) | 0x80, byte(n>>14)&0x7F | 0x80, byte(n>>7)&0x7F | 0x80, byte(n) & 0x7F}
	return append(out, body...)
}

// audioStats are the bitrate fields of a decoder configuration.
func audioStats(t *muxTrack) (bufferSize, maxBitrate, avgBitrate uint32) {
	var total uint64
	for i := range t.count() {
		_, size, _ := t.sample(i)
		bufferSize = max(bufferSize, size)
		total += uint64(size)
	}
	if d := t.duration(); d > 0 {
		avgBitrate = uint32(total * 8 * uint64(t.timescale) / d)
	}
	return bufferSize, avgBitrate, avgBitrate
}

// adtsTrack turns ADTS frames into raw AAC samples (headers and CRCs
// stripped) with an AudioSpecificConfig built from the first header.
func adtsTrack(audio []byte) (*muxTrack, error) {
	t := &muxTrack{handler: "soun", src: bytes.NewReader(audio)}
	sc := newFrameScanner(bytes.NewReader(audio), adtsHeaderLen, adtsFrame)
	var first adtsHeader
	for {
		f, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("aac: %w", err)
		}
		h, _ := parseADTSHeader(f.data)
		if h.rawBlocks != 1 {
			return nil, errors.New("aac: adts frames with several raw data blocks are not supported")
		}
		if len(t.sizes) == 0 {
			first = h
		}
		t.srcOffs = append(t.srcOffs, f.off+int64(h.headerLen))
		t.sizes = append(t.sizes, uint32(h.size-h.headerLen))
		t.deltas = append(t.deltas, aacFrameSamples)
	}
	if len(t.sizes) == 0 {
		return nil, errors.New("aac: no adts frames")
	}
	if first.sampleRate > maxEntryRate || first.channels == 0 {
		return nil, fmt.Errorf("aac: %d Hz, channel configuration %d not supported", first.sampleRate, first.channels)
	}
	t.timescale = uint32(first.sampleRate)
	// AudioSpecificConfig: object type, rate index, channels, then a
	// GASpecificConfig of three zero flags (1024-sample frames).
	objectType := first.profile + 1
	asc := []byte{byte(objectType<<3 | first.rateIndex>>1), byte(first.rateIndex&1<<7 | first.channels<<3)}
	buf, maxBR, avgBR := audioStats(t)
	t.entry = audioEntry("mp4a", first.channels, 16, first.sampleRate, esdsBox(otiAAC, buf, maxBR, avgBR, asc))
	return t, nil
}

// mp3Track stores each MP3 frame as one sample of an 'mp4a' entry whose
// decoder configuration names MPEG audio, as ffmpeg and browsers expect.
// A Xing/Info/VBRI frame is left out: it holds no sound.
func mp3Track(audio []byte) (*muxTrack, error) {
	t := &muxTrack{handler: "soun", src: bytes.NewReader(audio)}
	sc := newFrameScanner(bytes.NewReader(audio), 4, mp3Frame)
	var first mp3Header
	for {
		f, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("mp3: %w", err)
		}
		if _, isTag := mp3TagFrames(f.data); isTag && len(t.sizes) == 0 {
			continue
		}
		if len(t.sizes) == 0 {
			first, _ = parseMP3Header(f.data)
		}
		t.srcOffs = append(t.srcOffs, f.off)
		t.sizes = append(t.sizes, uint32(f.size))
		t.deltas = append(t.deltas, uint32(f.samples))
	}
	if len(t.sizes) == 0 {
		return nil, errors.New("mp3: no audio frames")
	}
	t.timescale = uint32(first.sampleRate)
	oti := byte(otiMP3)
	if first.version != 1 {
		oti = otiMP3LSF
	}
	buf, maxBR, avgBR := audioStats(t)
	t.entry = audioEntry("mp4a", first.channels(), 16, first.sampleRate, esdsBox(oti, buf, maxBR, avgBR, nil))
	return t, nil
}

// wavTrack stores 16-bit PCM as a QuickTime 'sowt' (little-endian signed)
// entry, one sample per PCM frame. ffmpeg and QuickTime play it; browsers
// generally do not play PCM in MP4, which is acceptable for the sandbox.
// 'sowt' was chosen over ISO 'lpcm'/'ipcm' because it needs no version 2
// sound description or extra boxes and every ffmpeg version reads it.
func wavTrack(audio []byte) (*muxTrack, error) {
	w, err := readWAV(bytes.NewReader(audio))
	if err != nil {
		return nil, err
	}
	if w.format != wavFormatPCM || w.bitsPerSample != 16 || w.blockAlign != 2*w.channels {
		return nil, fmt.Errorf("wav: only 16-bit PCM can be muxed (format %d, %d bits)", w.format, w.bitsPerSample)
	}
	if w.sampleRate <= 0 || w.sampleRate > maxEntryRate {
		return nil, fmt.Errorf("wav: sample rate %d not supported", w.sampleRate)
	}
	n := int(w.dataLen / int64(w.blockAlign))
	if n == 0 {
		return nil, errors.New("wav: no samples")
	}
	t := &muxTrack{
		handler: "soun", timescale: uint32(w.sampleRate), src: bytes.NewReader(audio),
		fixed: &fixedSamples{count: n, size: uint32(w.blockAlign), delta: 1, srcStart: w.dataOff},
	}
	t.entry = audioEntry("sowt", w.channels, 16, w.sampleRate)
	return t, nil
}

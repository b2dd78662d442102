package synth

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	mp4 "github.com/abema/go-mp4"

	"github.com/lepus-ai/lepus/internal/media/audioframe"
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
func audioEntry(typ string, channels, bits, rate int, children ...boxNode) boxNode {
	n := node(&mp4.AudioSampleEntry{
		SampleEntry:  mp4.SampleEntry{AnyTypeBox: mp4.AnyTypeBox{Type: mp4.BoxTypeMp4a()}, DataReferenceIndex: 1},
		ChannelCount: uint16(channels),
		SampleSize:   uint16(bits),
		SampleRate:   uint32(rate) << 16,
	}, children...)
	n.typ = mp4.StrToBoxType(typ) // see boxNode.typ
	return n
}

// esdsBox builds the MPEG-4 elementary stream descriptor: a decoder
// configuration for oti with an optional decoder specific info (the AAC
// AudioSpecificConfig; MP3 has none). go-mp4 lists the nested descriptors
// flat and leaves their sizes to us: a header is a tag and a 4-byte size.
func esdsBox(oti byte, bufferSize, maxBitrate, avgBitrate uint32, specific []byte) boxNode {
	const header, esBody, configBody = 5, 3, 13
	config := mp4.Descriptor{Tag: mp4.DecoderConfigDescrTag, Size: configBody,
		DecoderConfigDescriptor: &mp4.DecoderConfigDescriptor{
			ObjectTypeIndication: oti, StreamType: audioStream, Reserved: true,
			BufferSizeDB: bufferSize, MaxBitrate: maxBitrate, AvgBitrate: avgBitrate,
		}}
	var info []mp4.Descriptor
	if specific != nil {
		info = []mp4.Descriptor{{Tag: mp4.DecSpecificInfoTag, Size: uint32(len(specific)), Data: specific}}
		config.Size += header + uint32(len(specific))
	}
	sl := mp4.Descriptor{Tag: mp4.SLConfigDescrTag, Size: 1, Data: []byte{2}} // predefined: MP4
	es := mp4.Descriptor{Tag: mp4.ESDescrTag, Size: esBody + header + config.Size + header + sl.Size,
		ESDescriptor: &mp4.ESDescriptor{}} // ES_ID 0, no dependency, URL or OCR stream
	descs := append(append([]mp4.Descriptor{es, config}, info...), sl)
	return node(&mp4.Esds{Descriptors: descs})
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
	sc := audioframe.NewScanner(bytes.NewReader(audio), audioframe.ADTSHeaderLen, audioframe.ADTSFrame)
	var first audioframe.ADTSHeader
	for {
		f, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("aac: %w", err)
		}
		h, _ := audioframe.ParseADTSHeader(f.Data)
		if h.RawBlocks != 1 {
			return nil, errors.New("aac: adts frames with several raw data blocks are not supported")
		}
		if len(t.sizes) == 0 {
			first = h
		}
		t.srcOffs = append(t.srcOffs, f.Off+int64(h.HeaderLen))
		t.sizes = append(t.sizes, uint32(h.Size-h.HeaderLen))
		t.deltas = append(t.deltas, audioframe.AACFrameSamples)
	}
	if len(t.sizes) == 0 {
		return nil, errors.New("aac: no adts frames")
	}
	if first.SampleRate > maxEntryRate || first.Channels == 0 {
		return nil, fmt.Errorf("aac: %d Hz, channel configuration %d not supported", first.SampleRate, first.Channels)
	}
	t.timescale = uint32(first.SampleRate)
	// AudioSpecificConfig: object type, rate index, channels, then a
	// GASpecificConfig of three zero flags (1024-sample frames).
	objectType := first.Profile + 1
	asc := []byte{byte(objectType<<3 | first.RateIndex>>1), byte(first.RateIndex&1<<7 | first.Channels<<3)}
	buf, maxBR, avgBR := audioStats(t)
	t.entry = audioEntry("mp4a", first.Channels, 16, first.SampleRate, esdsBox(otiAAC, buf, maxBR, avgBR, asc))
	return t, nil
}

// mp3Track stores each MP3 frame as one sample of an 'mp4a' entry whose
// decoder configuration names MPEG audio, as ffmpeg and browsers expect.
// A Xing/Info/VBRI frame is left out: it holds no sound.
func mp3Track(audio []byte) (*muxTrack, error) {
	t := &muxTrack{handler: "soun", src: bytes.NewReader(audio)}
	sc := audioframe.NewScanner(bytes.NewReader(audio), 4, audioframe.MP3Frame)
	var first audioframe.MP3Header
	for {
		f, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("mp3: %w", err)
		}
		if _, isTag := audioframe.MP3TagFrames(f.Data); isTag && len(t.sizes) == 0 {
			continue
		}
		if len(t.sizes) == 0 {
			first, _ = audioframe.ParseMP3Header(f.Data)
		}
		t.srcOffs = append(t.srcOffs, f.Off)
		t.sizes = append(t.sizes, uint32(f.Size))
		t.deltas = append(t.deltas, uint32(f.Samples))
	}
	if len(t.sizes) == 0 {
		return nil, errors.New("mp3: no audio frames")
	}
	t.timescale = uint32(first.SampleRate)
	oti := byte(otiMP3)
	if first.Version != 1 {
		oti = otiMP3LSF
	}
	buf, maxBR, avgBR := audioStats(t)
	t.entry = audioEntry("mp4a", first.Channels(), 16, first.SampleRate, esdsBox(oti, buf, maxBR, avgBR, nil))
	return t, nil
}

// wavTrack stores 16-bit PCM as a QuickTime 'sowt' (little-endian signed)
// entry, one sample per PCM frame. ffmpeg and QuickTime play it; browsers
// generally do not play PCM in MP4, which is acceptable for the sandbox.
// 'sowt' was chosen over ISO 'lpcm'/'ipcm' because it needs no version 2
// sound description or extra boxes and every ffmpeg version reads it.
func wavTrack(audio []byte) (*muxTrack, error) {
	w, err := audioframe.ReadWAV(bytes.NewReader(audio))
	if err != nil {
		return nil, err
	}
	if w.Format != audioframe.FormatPCM || w.BitsPerSample != 16 || w.BlockAlign != 2*w.Channels {
		return nil, fmt.Errorf("wav: only 16-bit PCM can be muxed (format %d, %d bits)", w.Format, w.BitsPerSample)
	}
	if w.SampleRate <= 0 || w.SampleRate > maxEntryRate {
		return nil, fmt.Errorf("wav: sample rate %d not supported", w.SampleRate)
	}
	n := int(w.DataLen / int64(w.BlockAlign))
	if n == 0 {
		return nil, errors.New("wav: no samples")
	}
	t := &muxTrack{
		handler: "soun", timescale: uint32(w.SampleRate), src: bytes.NewReader(audio),
		fixed: &fixedSamples{count: n, size: uint32(w.BlockAlign), delta: 1, srcStart: w.DataOff},
	}
	t.entry = audioEntry("sowt", w.Channels, 16, w.SampleRate)
	return t, nil
}

package synth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	mp4 "github.com/abema/go-mp4"

	"github.com/lepus-ai/lepus/internal/media"
)

// maxEntryLen bounds a copied sample entry (an avc1 with its avcC, or an
// mp4a with its esds, is a few hundred bytes).
const maxEntryLen = 1 << 20

// readMP4Track finds the first track of codec in an MP4 and describes it
// as a muxTrack whose samples are copied from r as they are: sample entry
// (with avcC or esds), sizes, durations, composition offsets and sync
// samples. Of an edit list only where presentation starts is kept (the
// usual single edit that skips B-frame delay); empty edits are ignored.
func readMP4Track(r io.ReadSeeker, codec mp4.Codec) (*muxTrack, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	info, err := media.ProbeMP4(r)
	if err != nil {
		return nil, err
	}
	idx := -1
	for i, t := range info.Tracks {
		if t.Codec == codec && !t.Encrypted {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, errors.New("no track of the wanted codec")
	}
	pt := info.Tracks[idx]
	traks, err := mp4.ExtractBox(r, nil, mp4.BoxPath{mp4.BoxTypeMoov(), mp4.BoxTypeTrak()})
	if err != nil {
		return nil, err
	}
	if idx >= len(traks) {
		return nil, errors.New("track boxes disagree with the probe")
	}
	trak := traks[idx]

	t := &muxTrack{handler: "soun", timescale: pt.Timescale, src: r}
	if codec == mp4.CodecAVC1 {
		t.handler = "vide"
	}
	if t.timescale == 0 {
		return nil, errors.New("track has no timescale")
	}
	if t.entry.raw, err = rawSampleEntry(r, trak); err != nil {
		return nil, err
	}
	if err := t.readExtras(r, trak); err != nil {
		return nil, err
	}
	if err := t.readSamples(pt); err != nil {
		return nil, err
	}
	for _, e := range pt.EditList {
		if e.MediaTime >= 0 && e.MediaTime <= math.MaxInt32 && info.Timescale > 0 {
			t.edit = &trackEdit{
				mediaStart: uint64(e.MediaTime),
				length:     rescale(e.SegmentDuration, info.Timescale, t.timescale),
			}
			if t.edit.length == 0 { // "the rest of the media"
				t.edit.length = t.duration() - min(t.duration(), t.edit.mediaStart)
			}
			break
		}
	}
	return t, nil
}

// rawSampleEntry returns the bytes of the first sample entry in the
// track's stsd box.
func rawSampleEntry(r io.ReadSeeker, trak *mp4.BoxInfo) ([]byte, error) {
	stsds, err := mp4.ExtractBox(r, trak, mp4.BoxPath{mp4.BoxTypeMdia(), mp4.BoxTypeMinf(), mp4.BoxTypeStbl(), mp4.BoxTypeStsd()})
	if err != nil {
		return nil, err
	}
	if len(stsds) != 1 {
		return nil, errors.New("track has no sample description")
	}
	// FullBox header and entry_count, then the first entry.
	start := int64(stsds[0].Offset + stsds[0].HeaderSize + 8)
	var hdr [4]byte
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("read sample entry: %w", err)
	}
	n := int64(binary.BigEndian.Uint32(hdr[:]))
	if n < 16 || n > maxEntryLen || uint64(start+n) > stsds[0].Offset+stsds[0].Size {
		return nil, fmt.Errorf("sample entry of %d bytes", n)
	}
	entry := make([]byte, n)
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(r, entry); err != nil {
		return nil, fmt.Errorf("read sample entry: %w", err)
	}
	return entry, nil
}

// readExtras reads what go-mp4's probe leaves out: the display size, the
// sync sample table and a constant sample size.
func (t *muxTrack) readExtras(r io.ReadSeeker, trak *mp4.BoxInfo) error {
	stbl := []mp4.BoxType{mp4.BoxTypeMdia(), mp4.BoxTypeMinf(), mp4.BoxTypeStbl()}
	boxes, err := mp4.ExtractBoxesWithPayload(r, trak, []mp4.BoxPath{
		{mp4.BoxTypeTkhd()},
		append(append(mp4.BoxPath{}, stbl...), mp4.BoxTypeStss()),
		append(append(mp4.BoxPath{}, stbl...), mp4.BoxTypeStsz()),
	})
	if err != nil {
		return err
	}
	for _, b := range boxes {
		switch p := b.Payload.(type) {
		case *mp4.Tkhd:
			if t.handler == "vide" {
				t.width, t.height = p.Width, p.Height
			}
		case *mp4.Stss:
			t.sync = append([]uint32{}, p.SampleNumber...)
		case *mp4.Stsz:
			if p.SampleSize != 0 {
				t.sizes = make([]uint32, p.SampleCount)
				for i := range t.sizes {
					t.sizes[i] = p.SampleSize
				}
			}
		}
	}
	return nil
}

// readSamples fills in the per-sample tables from the probed track.
func (t *muxTrack) readSamples(pt *mp4.Track) error {
	n := len(pt.Samples)
	if n == 0 {
		return errors.New("track has no samples")
	}
	if t.sizes == nil {
		t.sizes = make([]uint32, n)
		for i, s := range pt.Samples {
			t.sizes[i] = s.Size
		}
	}
	if len(t.sizes) != n {
		return errors.New("sample tables disagree on the sample count")
	}
	t.deltas = make([]uint32, n)
	hasCTS := false
	for i, s := range pt.Samples {
		t.deltas[i] = s.TimeDelta
		hasCTS = hasCTS || s.CompositionTimeOffset != 0
	}
	if hasCTS {
		t.ctsOffsets = make([]int32, n)
		for i, s := range pt.Samples {
			t.ctsOffsets[i] = int32(s.CompositionTimeOffset)
		}
	}
	t.srcOffs = make([]int64, 0, n)
	for _, c := range pt.Chunks {
		off := int64(c.DataOffset)
		for range c.SamplesPerChunk {
			if len(t.srcOffs) == n {
				return errors.New("chunks hold more samples than the track")
			}
			t.srcOffs = append(t.srcOffs, off)
			off += int64(t.sizes[len(t.srcOffs)-1])
		}
	}
	if len(t.srcOffs) != n {
		return errors.New("chunks hold fewer samples than the track")
	}
	return nil
}

package media

import (
	"errors"
	"fmt"
	"io"

	mp4 "github.com/abema/go-mp4"
)

// m4aDuration returns the length of the first sound track of an MP4 audio
// file from its sample table: the sum of the sample durations (stts), once
// every sample (stsz, stsc, stco/co64) is found to lie inside the file. The
// movie and track headers (mvhd, mdhd) are not used: they are claims, and
// an hour-long header over three seconds of samples plays for three
// seconds. A fragmented file, whose samples are in its fragments, is
// measured by summing the fragments.
func m4aDuration(r io.ReadSeeker) (float64, error) {
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("m4a: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("m4a: %w", err)
	}
	traks, err := mp4.ExtractBox(r, nil, mp4.BoxPath{mp4.BoxTypeMoov(), mp4.BoxTypeTrak()})
	if err != nil {
		return 0, fmt.Errorf("m4a: %w", err)
	}
	for _, trak := range traks {
		t, err := readSampleTable(r, trak)
		if err != nil {
			return 0, fmt.Errorf("m4a: %w", err)
		}
		if t.handler != "soun" {
			continue
		}
		if t.stts == nil || len(t.stts.Entries) == 0 {
			return fragmentedDuration(r)
		}
		return t.duration(uint64(end))
	}
	return 0, errors.New("m4a: no mp4 sound track")
}

// sampleTable is what m4aDuration reads of one track.
type sampleTable struct {
	handler   string
	timescale uint32
	stts      *mp4.Stts
	stsz      *mp4.Stsz
	stsc      *mp4.Stsc
	offsets   []uint64 // chunk offsets, from stco or co64
}

func readSampleTable(r io.ReadSeeker, trak *mp4.BoxInfo) (*sampleTable, error) {
	mdia := []mp4.BoxType{mp4.BoxTypeMdia()}
	stbl := []mp4.BoxType{mp4.BoxTypeMdia(), mp4.BoxTypeMinf(), mp4.BoxTypeStbl()}
	in := func(parent []mp4.BoxType, typ mp4.BoxType) mp4.BoxPath {
		return append(append(mp4.BoxPath{}, parent...), typ)
	}
	boxes, err := mp4.ExtractBoxesWithPayload(r, trak, []mp4.BoxPath{
		in(mdia, mp4.BoxTypeHdlr()), in(mdia, mp4.BoxTypeMdhd()),
		in(stbl, mp4.BoxTypeStts()), in(stbl, mp4.BoxTypeStsz()), in(stbl, mp4.BoxTypeStsc()),
		in(stbl, mp4.BoxTypeStco()), in(stbl, mp4.BoxTypeCo64()),
	})
	if err != nil {
		return nil, err
	}
	t := &sampleTable{}
	for _, b := range boxes {
		switch p := b.Payload.(type) {
		case *mp4.Hdlr:
			t.handler = string(p.HandlerType[:])
		case *mp4.Mdhd:
			t.timescale = p.Timescale
		case *mp4.Stts:
			t.stts = p
		case *mp4.Stsz:
			t.stsz = p
		case *mp4.Stsc:
			t.stsc = p
		case *mp4.Stco:
			for _, o := range p.ChunkOffset {
				t.offsets = append(t.offsets, uint64(o))
			}
		case *mp4.Co64:
			t.offsets = append(t.offsets, p.ChunkOffset...)
		}
	}
	return t, nil
}

// errPastEnd means the sample table describes data the file does not hold.
var errPastEnd = errors.New("m4a: the sample table points past the end of the file; it may be truncated")

// duration sums the sample durations after checking that the tables agree
// on the sample count and that every sample's bytes are within size.
func (t *sampleTable) duration(size uint64) (float64, error) {
	if t.timescale == 0 || t.stsz == nil || t.stsc == nil || len(t.stsc.Entries) == 0 || len(t.offsets) == 0 {
		return 0, errors.New("m4a: incomplete sample table")
	}
	var count, ticks uint64
	for _, e := range t.stts.Entries {
		count += uint64(e.SampleCount)
		ticks += uint64(e.SampleCount) * uint64(e.SampleDelta)
	}
	n := uint64(t.stsz.SampleCount)
	if n == 0 || count != n || (t.stsz.SampleSize == 0 && uint64(len(t.stsz.EntrySize)) != n) {
		return 0, fmt.Errorf("m4a: the sample tables disagree (%d durations, %d sizes)", count, n)
	}
	// A constant sample size is a claim about n samples; bound it before
	// walking them, so a forged count cannot make the walk long.
	if t.stsz.SampleSize != 0 && n*uint64(t.stsz.SampleSize) > size {
		return 0, errPastEnd
	}
	sampleSize := func(i uint64) uint64 {
		if t.stsz.SampleSize != 0 {
			return uint64(t.stsz.SampleSize)
		}
		return uint64(t.stsz.EntrySize[i])
	}
	var sample uint64
	runs := t.stsc.Entries
	for c := range t.offsets { // c is the 0-based chunk index; stsc counts from 1
		for len(runs) > 1 && uint64(runs[1].FirstChunk) <= uint64(c)+1 {
			runs = runs[1:]
		}
		pos := t.offsets[c]
		for range runs[0].SamplesPerChunk {
			if sample == n {
				break
			}
			pos += sampleSize(sample)
			if pos > size {
				return 0, errPastEnd
			}
			sample++
		}
	}
	if sample != n {
		return 0, fmt.Errorf("m4a: the chunks hold %d of %d samples", sample, n)
	}
	return float64(ticks) / float64(t.timescale), nil
}

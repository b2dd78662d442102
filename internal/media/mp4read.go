package media

import (
	"errors"
	"fmt"
	"io"

	mp4 "github.com/abema/go-mp4"
)

// ErrNoDuration means the file parsed as MP4/MOV but declares no length.
var ErrNoDuration = errors.New("mp4 has no duration")

// MP4Duration returns the length in seconds of an MP4/MOV file, so uploads
// can be checked against provider limits and assets can record their
// length. It reads only box headers and the boxes it needs, seeking over
// mdat, so large files cost almost nothing. The movie header (mvhd) wins;
// otherwise the longest track (mdhd), then the fragment duration (mehd),
// then the summed fragments (moof) of the longest track. A header is a
// claim: when the tracks have sample tables, the longest of them is
// measured (every sample must lie inside the file, as for M4A) and a
// header that contradicts it by more than durationSlack is refused: one
// longer than the samples play, or one shorter when no edit list trims
// the tracks.
func MP4Duration(r io.ReadSeeker) (float64, error) {
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("mp4 duration: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("mp4 duration: %w", err)
	}
	boxes, err := mp4.ExtractBoxesWithPayload(r, nil, []mp4.BoxPath{
		{mp4.BoxTypeMoov()},
		{mp4.BoxTypeMoov(), mp4.BoxTypeMvhd()},
		{mp4.BoxTypeMoov(), mp4.BoxTypeMvex(), mp4.BoxTypeMehd()},
		{mp4.BoxTypeMoov(), mp4.BoxTypeTrak(), mp4.BoxTypeMdia(), mp4.BoxTypeMdhd()},
		{mp4.BoxTypeMoov(), mp4.BoxTypeTrak(), mp4.BoxTypeEdts()},
	})
	if err != nil {
		return 0, fmt.Errorf("mp4 duration: %w", err)
	}
	var (
		haveMoov      bool
		haveEdits     bool
		movieScale    uint32
		movieSecs     float64
		longestTrack  float64
		fragmentTicks uint64
	)
	for _, b := range boxes {
		switch p := b.Payload.(type) {
		case *mp4.Moov:
			haveMoov = true
		case *mp4.Edts:
			haveEdits = true
		case *mp4.Mvhd:
			movieScale = p.Timescale
			d := uint64(p.DurationV0)
			if p.GetVersion() == 1 {
				d = p.DurationV1
			}
			movieSecs = seconds(d, p.Timescale)
		case *mp4.Mehd:
			fragmentTicks = p.GetFragmentDuration()
		case *mp4.Mdhd:
			d := uint64(p.DurationV0)
			if p.GetVersion() == 1 {
				d = p.DurationV1
			}
			longestTrack = max(longestTrack, seconds(d, p.Timescale))
		}
	}
	if !haveMoov {
		return 0, errors.New("mp4 duration: not an mp4 file (no moov box)")
	}
	claim := movieSecs
	if claim == 0 {
		claim = longestTrack
	}
	measured, haveTables, err := sampleTableDuration(r, uint64(end))
	if err != nil {
		return 0, fmt.Errorf("mp4 duration: %w", err)
	}
	if haveTables {
		if claim == 0 {
			return measured, nil
		}
		// An edit list may present less than the samples hold (a trimmed
		// start or end), never more.
		over := claim > measured+durationSlack(measured)
		under := claim < measured-durationSlack(measured) && !haveEdits
		if over || under {
			return 0, fmt.Errorf("mp4 duration: the header says %.3f s but the samples play %.3f s", claim, measured)
		}
		return claim, nil
	}
	switch {
	case claim > 0:
		return claim, nil
	case seconds(fragmentTicks, movieScale) > 0:
		return seconds(fragmentTicks, movieScale), nil
	}
	return fragmentedDuration(r)
}

// seconds converts ticks to seconds; all-ones durations mean "unknown" in
// ISO BMFF and count as zero.
func seconds(ticks uint64, timescale uint32) float64 {
	if timescale == 0 || ticks == 0 || ticks == 0xFFFFFFFF || ticks == ^uint64(0) {
		return 0
	}
	return float64(ticks) / float64(timescale)
}

// fragmentedDuration sums the fragment durations of each track of a
// fragmented MP4 whose headers do not carry a total, and returns the
// longest.
func fragmentedDuration(r io.ReadSeeker) (float64, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("mp4 duration: %w", err)
	}
	info, err := ProbeMP4(r)
	if err != nil {
		return 0, fmt.Errorf("mp4 duration: %w", err)
	}
	scale := map[uint32]uint32{}
	for _, t := range info.Tracks {
		scale[t.TrackID] = t.Timescale
	}
	ticks := map[uint32]uint64{}
	for _, s := range info.Segments {
		ticks[s.TrackID] += uint64(s.Duration)
	}
	var longest float64
	for id, n := range ticks {
		longest = max(longest, seconds(n, scale[id]))
	}
	if longest == 0 {
		return 0, fmt.Errorf("mp4 duration: %w", ErrNoDuration)
	}
	return longest, nil
}

// durationSlack is how far a header's duration may differ from what the
// sample tables play: edit lists (a B-frame delay, a trimmed audio
// priming) and rounding between timescales move it a little, never by
// more than half a second and a percent.
func durationSlack(measured float64) float64 { return 0.5 + measured/100 }

// sampleTableDuration measures the longest track that has a sample table
// (stts), in its own timescale, once its samples are found inside a file of
// size bytes. haveTables is false when no track has one (a fragmented file,
// whose samples are in moof boxes).
func sampleTableDuration(r io.ReadSeeker, size uint64) (longest float64, haveTables bool, err error) {
	traks, err := mp4.ExtractBox(r, nil, mp4.BoxPath{mp4.BoxTypeMoov(), mp4.BoxTypeTrak()})
	if err != nil {
		return 0, false, err
	}
	for _, trak := range traks {
		t, err := readSampleTable(r, trak)
		if err != nil {
			return 0, false, err
		}
		if t.stts == nil || len(t.stts.Entries) == 0 {
			continue
		}
		d, err := t.duration(size)
		if err != nil {
			return 0, false, err
		}
		haveTables = true
		longest = max(longest, d)
	}
	return longest, haveTables, nil
}

// maxProbeSamples bounds the samples a file may declare before mp4.Probe
// is called: Probe expands every stts entry into one allocated sample, so
// a 12-byte entry could otherwise ask for billions. 4 M samples is 46
// hours of 25 fps video or 27 hours of 44.1 kHz AAC.
const maxProbeSamples = 1 << 22

// ProbeMP4 is mp4.Probe behind a check of the sample counts the tables
// declare: their sum over all tracks must be within maxProbeSamples and
// the size of the file (every real sample is at least a byte), and so
// must a constant-size stsz's count.
func ProbeMP4(r io.ReadSeeker) (*mp4.ProbeInfo, error) {
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	stbl := mp4.BoxPath{mp4.BoxTypeMoov(), mp4.BoxTypeTrak(), mp4.BoxTypeMdia(), mp4.BoxTypeMinf(), mp4.BoxTypeStbl()}
	in := func(typ mp4.BoxType) mp4.BoxPath { return append(append(mp4.BoxPath{}, stbl...), typ) }
	boxes, err := mp4.ExtractBoxesWithPayload(r, nil, []mp4.BoxPath{in(mp4.BoxTypeStts()), in(mp4.BoxTypeStsz())})
	if err != nil {
		return nil, err
	}
	limit := min(uint64(maxProbeSamples), uint64(end))
	var declared uint64
	for _, b := range boxes {
		switch p := b.Payload.(type) {
		case *mp4.Stts:
			for _, e := range p.Entries {
				declared += uint64(e.SampleCount)
			}
		case *mp4.Stsz:
			if uint64(p.SampleCount) > limit {
				return nil, fmt.Errorf("stsz declares %d samples in a %d-byte file", p.SampleCount, end)
			}
		}
		if declared > limit {
			return nil, fmt.Errorf("stts declares more than %d samples in a %d-byte file", limit, end)
		}
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return mp4.Probe(r)
}

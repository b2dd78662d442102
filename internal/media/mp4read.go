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
// length. It reads only box headers and the few header boxes it needs,
// seeking over mdat, so large files cost almost nothing. The movie header
// (mvhd) wins; otherwise the longest track (mdhd), then the fragment
// duration (mehd), then the summed fragments (moof) of the longest track.
func MP4Duration(r io.ReadSeeker) (float64, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("mp4 duration: %w", err)
	}
	boxes, err := mp4.ExtractBoxesWithPayload(r, nil, []mp4.BoxPath{
		{mp4.BoxTypeMoov()},
		{mp4.BoxTypeMoov(), mp4.BoxTypeMvhd()},
		{mp4.BoxTypeMoov(), mp4.BoxTypeMvex(), mp4.BoxTypeMehd()},
		{mp4.BoxTypeMoov(), mp4.BoxTypeTrak(), mp4.BoxTypeMdia(), mp4.BoxTypeMdhd()},
	})
	if err != nil {
		return 0, fmt.Errorf("mp4 duration: %w", err)
	}
	var (
		haveMoov      bool
		movieScale    uint32
		movieSecs     float64
		longestTrack  float64
		fragmentTicks uint64
	)
	for _, b := range boxes {
		switch p := b.Payload.(type) {
		case *mp4.Moov:
			haveMoov = true
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
	switch {
	case !haveMoov:
		return 0, errors.New("mp4 duration: not an mp4 file (no moov box)")
	case movieSecs > 0:
		return movieSecs, nil
	case longestTrack > 0:
		return longestTrack, nil
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
	info, err := mp4.Probe(r)
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

package synth

import (
	"fmt"
	"io"
	"math"
	"slices"

	mp4 "github.com/abema/go-mp4"
)

// This file writes movies of several tracks whose samples come from
// elsewhere (a video written by WriteMP4, an audio file) without holding
// them in memory: the sample tables are known up front, so moov is written
// first and the samples are copied into mdat afterwards, interleaved in
// half-second chunks so players can stream the file.

// muxTrack is one track of a movie written by writeMovie. Its samples are
// listed one by one (deltas, sizes, srcOffs), or, for PCM, described by
// fixed: per-frame tables of a long recording would take hundreds of MB.
type muxTrack struct {
	handler       string // "vide" or "soun"
	timescale     uint32
	entry         boxNode // the sample entry box (avc1, mp4a, sowt)
	width, height uint32  // 16.16 fixed point; zero for audio
	deltas        []uint32
	sizes         []uint32
	srcOffs       []int64 // where each sample's bytes are in src
	fixed         *fixedSamples
	ctsOffsets    []int32    // composition offsets; nil when there are none
	sync          []uint32   // 1-based sync sample numbers; nil when all are
	edit          *trackEdit // from a copied edit list; nil for none
	src           io.ReadSeeker
}

// trackEdit is the one edit kept from a source edit list: encoders using
// B-frames start presentation a few frames into the composition timeline.
type trackEdit struct {
	mediaStart uint64 // media time shown first, track ticks
	length     uint64 // how long it plays, track ticks
}

// fixedSamples are count samples of one size and duration stored back to
// back in the source from srcStart.
type fixedSamples struct {
	count       int
	size, delta uint32
	srcStart    int64
}

func (t *muxTrack) count() int {
	if t.fixed != nil {
		return t.fixed.count
	}
	return len(t.deltas)
}

// sample returns sample i's duration, size and place in the source.
func (t *muxTrack) sample(i int) (delta, size uint32, srcOff int64) {
	if f := t.fixed; f != nil {
		return f.delta, f.size, f.srcStart + int64(i)*int64(f.size)
	}
	return t.deltas[i], t.sizes[i], t.srcOffs[i]
}

// presented is how long the track plays, in track ticks.
func (t *muxTrack) presented() uint64 {
	if t.edit != nil {
		return t.edit.length
	}
	return t.duration()
}

func (t *muxTrack) duration() uint64 {
	if f := t.fixed; f != nil {
		return uint64(f.count) * uint64(f.delta)
	}
	var d uint64
	for _, x := range t.deltas {
		d += uint64(x)
	}
	return d
}

// cut shortens the track to play for at most limit ticks: it drops the
// samples that start after that and shortens the last one kept. With an
// edit, the cut is that far past the edit's start.
func (t *muxTrack) cut(limit uint64) {
	if t.edit != nil {
		t.edit.length = min(t.edit.length, limit)
		limit += t.edit.mediaStart
	}
	if f := t.fixed; f != nil {
		f.count = min(f.count, int(limit/uint64(f.delta)))
		return
	}
	var now uint64
	for i, d := range t.deltas {
		if now >= limit {
			t.deltas, t.sizes, t.srcOffs = t.deltas[:i], t.sizes[:i], t.srcOffs[:i]
			if t.ctsOffsets != nil {
				t.ctsOffsets = t.ctsOffsets[:i]
			}
			for len(t.sync) > 0 && t.sync[len(t.sync)-1] > uint32(i) {
				t.sync = t.sync[:len(t.sync)-1]
			}
			break
		}
		if now+uint64(d) > limit {
			t.deltas[i] = uint32(limit - now)
		}
		now += uint64(d)
	}
}

// muxChunk is a run of consecutive samples of one track stored together.
type muxChunk struct {
	track        int
	first, count int
	start        uint64 // decode time of the first sample, track ticks
	bytes        uint64
	fileOff      uint64
}

// chunkSeconds is the span of media in one chunk.
const chunkSeconds = 0.5

// planChunks cuts each track into chunks of about chunkSeconds and orders
// all chunks by start time.
func planChunks(tracks []*muxTrack) []*muxChunk {
	var all []*muxChunk
	for ti, t := range tracks {
		span := uint64(math.Max(1, chunkSeconds*float64(t.timescale)))
		if f := t.fixed; f != nil {
			// PCM: whole chunks by arithmetic, not millions of samples.
			per := max(1, int(span/uint64(f.delta)))
			for first := 0; first < f.count; first += per {
				n := min(per, f.count-first)
				all = append(all, &muxChunk{track: ti, first: first, count: n,
					start: uint64(first) * uint64(f.delta), bytes: uint64(n) * uint64(f.size)})
			}
			continue
		}
		var cur *muxChunk
		var now uint64
		for i := range t.count() {
			d, size, _ := t.sample(i)
			if cur == nil || now-cur.start >= span {
				cur = &muxChunk{track: ti, first: i, start: now}
				all = append(all, cur)
			}
			cur.count++
			cur.bytes += uint64(size)
			now += uint64(d)
		}
	}
	slices.SortStableFunc(all, func(a, b *muxChunk) int {
		// a.start/tsA vs b.start/tsB without rounding.
		l := a.start * uint64(tracks[b.track].timescale)
		r := b.start * uint64(tracks[a.track].timescale)
		switch {
		case l < r:
			return -1
		case l > r:
			return 1
		}
		return a.track - b.track
	})
	return all
}

// writeMovie writes ftyp, moov (in movieScale ticks) and mdat with the
// samples of tracks copied from their sources.
func writeMovie(w io.Writer, ftyp boxNode, movieScale uint32, tracks []*muxTrack) error {
	chunks := planChunks(tracks)
	if err := writeHead(w, ftyp, movieScale, tracks, chunks); err != nil {
		return err
	}
	for _, c := range chunks {
		if err := copyChunk(w, tracks[c.track], c); err != nil {
			return err
		}
	}
	return nil
}

// copyChunk copies a chunk's samples from the track's source, in as few
// reads as their layout there allows.
func copyChunk(w io.Writer, t *muxTrack, c *muxChunk) error {
	if f := t.fixed; f != nil {
		return copyRange(w, t.src, f.srcStart+int64(c.first)*int64(f.size), int64(c.bytes))
	}
	i, end := c.first, c.first+c.count
	for i < end {
		_, size, start := t.sample(i)
		n := int64(size)
		for i++; i < end; i++ {
			_, size, off := t.sample(i)
			if off != start+n {
				break
			}
			n += int64(size)
		}
		if err := copyRange(w, t.src, start, n); err != nil {
			return err
		}
	}
	return nil
}

// copyRange copies n bytes from offset start of src.
func copyRange(w io.Writer, src io.ReadSeeker, start, n int64) error {
	if _, err := src.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("copy samples: %w", err)
	}
	if _, err := io.CopyN(w, src, n); err != nil {
		return fmt.Errorf("copy samples: %w", err)
	}
	return nil
}

// muxMoov builds the movie box; chunk file offsets may still be zero when
// only its length is wanted.
func muxMoov(movieScale uint32, tracks []*muxTrack, chunks []*muxChunk) boxNode {
	var movieDur uint64
	for _, t := range tracks {
		movieDur = max(movieDur, rescale(t.presented(), t.timescale, movieScale))
	}
	moov := node(&mp4.Moov{}, mvhdBox(movieScale, uint32(movieDur), uint32(len(tracks)+1)))
	for i, t := range tracks {
		var mine []*muxChunk
		for _, c := range chunks {
			if c.track == i {
				mine = append(mine, c)
			}
		}
		volume := int16(0)
		if t.handler == "soun" {
			volume = 0x0100
		}
		shown := uint32(rescale(t.presented(), t.timescale, movieScale))
		trak := node(&mp4.Trak{}, tkhdBox(uint32(i+1), shown, volume, t.width, t.height))
		if t.edit != nil {
			trak.children = append(trak.children, edtsBox(shown, t.edit.mediaStart))
		}
		minf := node(&mp4.Minf{}, mediaHeaderBox(t.handler), dinfBox(), muxStbl(t, mine))
		trak.children = append(trak.children,
			node(&mp4.Mdia{}, mdhdBox(t.timescale, uint32(t.duration())), hdlrBox(t.handler), minf))
		moov.children = append(moov.children, trak)
	}
	return moov
}

// rescale converts ticks between timescales, rounding to nearest.
func rescale(ticks uint64, from, to uint32) uint64 {
	if from == to || from == 0 {
		return ticks
	}
	return (ticks*uint64(to) + uint64(from)/2) / uint64(from)
}

package synth

import mp4 "github.com/abema/go-mp4"

// The boxes of a track, built from go-mp4's box types for muxMoov.

// unityMatrix is the identity transformation of mvhd and tkhd.
var unityMatrix = [9]int32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000}

func mvhdBox(timescale, duration, nextTrackID uint32) boxNode {
	return node(&mp4.Mvhd{
		Timescale: timescale, DurationV0: duration,
		Rate: 0x00010000, Volume: 0x0100, Matrix: unityMatrix,
		NextTrackID: nextTrackID,
	})
}

// tkhdBox is an enabled track header; width and height are 16.16 fixed
// point (zero for audio), volume 8.8 (0x0100 for audio, 0 for video).
func tkhdBox(trackID, duration uint32, volume int16, width, height uint32) boxNode {
	return node(&mp4.Tkhd{
		FullBox: mp4.FullBox{Flags: [3]byte{0, 0, 3}}, // enabled, in movie
		TrackID: trackID, DurationV0: duration,
		Volume: volume, Matrix: unityMatrix, Width: width, Height: height,
	})
}

func mdhdBox(timescale, duration uint32) boxNode {
	return node(&mp4.Mdhd{
		Timescale: timescale, DurationV0: duration,
		// go-mp4 writes the 5-bit letters as given: "und" less 0x60 each.
		Language: [3]byte{'u' - 0x60, 'n' - 0x60, 'd' - 0x60},
	})
}

// hdlrBox names the media type: "vide" or "soun".
func hdlrBox(handler string) boxNode {
	h := &mp4.Hdlr{Name: "VideoHandler"} // Marshal adds the terminating NUL
	if handler == "soun" {
		h.Name = "SoundHandler"
	}
	copy(h.HandlerType[:], handler)
	return node(h)
}

// mediaHeaderBox is vmhd for video, smhd for sound.
func mediaHeaderBox(handler string) boxNode {
	if handler == "soun" {
		return node(&mp4.Smhd{})
	}
	return node(&mp4.Vmhd{FullBox: mp4.FullBox{Flags: [3]byte{0, 0, 1}}})
}

// dinfBox says the media data is in this file.
func dinfBox() boxNode {
	self := node(&mp4.Url{FullBox: mp4.FullBox{Flags: [3]byte{0, 0, mp4.UrlSelfContained}}})
	return node(&mp4.Dinf{}, node(&mp4.Dref{EntryCount: 1}, self))
}

// edtsBox is an edit list of one edit: play segment (movie ticks) of the
// media from mediaStart (track ticks) at normal rate.
func edtsBox(segment uint32, mediaStart uint64) boxNode {
	return node(&mp4.Edts{}, node(&mp4.Elst{EntryCount: 1, Entries: []mp4.ElstEntry{{
		SegmentDurationV0: segment, MediaTimeV0: int32(mediaStart), MediaRateInteger: 1,
	}}}))
}

// sttsBox run-length codes per-sample durations.
func sttsBox(deltas []uint32) boxNode {
	var runs []mp4.SttsEntry
	for _, d := range deltas {
		if len(runs) > 0 && runs[len(runs)-1].SampleDelta == d {
			runs[len(runs)-1].SampleCount++
			continue
		}
		runs = append(runs, mp4.SttsEntry{SampleCount: 1, SampleDelta: d})
	}
	return node(&mp4.Stts{EntryCount: uint32(len(runs)), Entries: runs})
}

// cttsBox run-length codes composition offsets; version 1 allows negative
// ones.
func cttsBox(offsets []int32) boxNode {
	c := &mp4.Ctts{}
	if minInt32(offsets) < 0 {
		c.SetVersion(1)
	}
	for _, o := range offsets {
		if n := len(c.Entries); n > 0 && c.Entries[n-1].SampleOffsetV1 == o {
			c.Entries[n-1].SampleCount++
			continue
		}
		c.Entries = append(c.Entries, mp4.CttsEntry{SampleCount: 1, SampleOffsetV0: uint32(o), SampleOffsetV1: o})
	}
	c.EntryCount = uint32(len(c.Entries))
	return node(c)
}

func minInt32(v []int32) int32 {
	var m int32
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

// muxStbl builds the sample table of a track stored in chunks (in file
// order).
func muxStbl(t *muxTrack, chunks []*muxChunk) boxNode {
	// stsc: runs of chunks with the same sample count.
	stsc := &mp4.Stsc{}
	for i, c := range chunks {
		if n := len(stsc.Entries); n == 0 || stsc.Entries[n-1].SamplesPerChunk != uint32(c.count) {
			stsc.Entries = append(stsc.Entries, mp4.StscEntry{
				FirstChunk: uint32(i + 1), SamplesPerChunk: uint32(c.count), SampleDescriptionIndex: 1,
			})
		}
	}
	stsc.EntryCount = uint32(len(stsc.Entries))
	stco := &mp4.Stco{EntryCount: uint32(len(chunks))}
	for _, c := range chunks {
		stco.ChunkOffset = append(stco.ChunkOffset, uint32(c.fileOff))
	}

	stts := sttsBox(t.deltas)
	stsz := &mp4.Stsz{SampleCount: uint32(len(t.sizes)), EntrySize: t.sizes}
	if f := t.fixed; f != nil {
		stts = node(&mp4.Stts{EntryCount: 1, Entries: []mp4.SttsEntry{{SampleCount: uint32(f.count), SampleDelta: f.delta}}})
		stsz = &mp4.Stsz{SampleSize: f.size, SampleCount: uint32(f.count)}
	}
	parts := []boxNode{node(&mp4.Stsd{EntryCount: 1}, t.entry), stts}
	if t.ctsOffsets != nil {
		parts = append(parts, cttsBox(t.ctsOffsets))
	}
	if t.sync != nil {
		parts = append(parts, node(&mp4.Stss{EntryCount: uint32(len(t.sync)), SampleNumber: t.sync}))
	}
	parts = append(parts, node(stsc), node(stsz), node(stco))
	return node(&mp4.Stbl{}, parts...)
}

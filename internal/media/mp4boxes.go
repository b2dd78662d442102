package media

// Header boxes shared by WriteMP4's single-track movies (mp4box.go) and
// the multi-track writer (mp4mux.go).

func mvhdBox(timescale, duration, nextTrackID uint32) []byte {
	var x box
	x.fullHeader(0, 0)
	x.u32(0) // creation_time
	x.u32(0) // modification_time
	x.u32(timescale)
	x.u32(duration)
	x.u32(0x00010000) // rate 1.0
	x.u16(0x0100)     // volume 1.0
	x.zeros(10)
	writeMatrix(&x)
	x.zeros(24) // pre_defined
	x.u32(nextTrackID)
	return mkbox("mvhd", x.b)
}

// tkhdBox is an enabled track header; width and height are 16.16 fixed
// point (zero for audio), volume 8.8 (0x0100 for audio, 0 for video).
func tkhdBox(trackID, duration uint32, volume uint16, width, height uint32) []byte {
	var x box
	x.fullHeader(0, 3) // enabled, in movie
	x.u32(0)
	x.u32(0)
	x.u32(trackID)
	x.u32(0)
	x.u32(duration)
	x.zeros(8)
	x.u16(0) // layer
	x.u16(0) // alternate_group
	x.u16(volume)
	x.u16(0)
	writeMatrix(&x)
	x.u32(width)
	x.u32(height)
	return mkbox("tkhd", x.b)
}

func mdhdBox(timescale, duration uint32) []byte {
	var x box
	x.fullHeader(0, 0)
	x.u32(0)
	x.u32(0)
	x.u32(timescale)
	x.u32(duration)
	x.u16(0x55C4) // language "und"
	x.u16(0)
	return mkbox("mdhd", x.b)
}

// hdlrBox names the media type: "vide" or "soun".
func hdlrBox(handler string) []byte {
	var x box
	x.fullHeader(0, 0)
	x.u32(0)
	x.str(handler)
	x.zeros(12)
	if handler == "soun" {
		x.str("SoundHandler\x00")
	} else {
		x.str("VideoHandler\x00")
	}
	return mkbox("hdlr", x.b)
}

func vmhdBox() []byte {
	var x box
	x.fullHeader(0, 1)
	x.zeros(8) // graphicsmode, opcolor
	return mkbox("vmhd", x.b)
}

func smhdBox() []byte {
	var x box
	x.fullHeader(0, 0)
	x.zeros(4) // balance, reserved
	return mkbox("smhd", x.b)
}

// dinfBox says the media data is in this file.
func dinfBox() []byte {
	var dref box
	dref.fullHeader(0, 0)
	dref.u32(1)
	var url box
	url.fullHeader(0, 1)
	dref.b = append(dref.b, mkbox("url ", url.b)...)
	return mkbox("dinf", mkbox("dref", dref.b))
}

// edtsBox is an edit list of one edit: play segment (movie ticks) of the
// media from mediaStart (track ticks) at normal rate.
func edtsBox(segment uint32, mediaStart uint64) []byte {
	var x box
	x.fullHeader(0, 0)
	x.u32(1)
	x.u32(segment)
	x.u32(uint32(mediaStart))
	x.u32(0x00010000) // media_rate 1.0
	return mkbox("edts", mkbox("elst", x.b))
}

// sttsBox run-length codes per-sample durations.
func sttsBox(deltas []uint32) []byte {
	var runs [][2]uint32 // sample count, delta
	for _, d := range deltas {
		if len(runs) > 0 && runs[len(runs)-1][1] == d {
			runs[len(runs)-1][0]++
			continue
		}
		runs = append(runs, [2]uint32{1, d})
	}
	return sttsRuns(runs)
}

func sttsRuns(runs [][2]uint32) []byte {
	var x box
	x.fullHeader(0, 0)
	x.u32(uint32(len(runs)))
	for _, r := range runs {
		x.u32(r[0])
		x.u32(r[1])
	}
	return mkbox("stts", x.b)
}

func stssBox(sync []uint32) []byte {
	var x box
	x.fullHeader(0, 0)
	x.u32(uint32(len(sync)))
	for _, n := range sync {
		x.u32(n)
	}
	return mkbox("stss", x.b)
}

// cttsBox run-length codes composition offsets; version 1 allows negative
// ones.
func cttsBox(offsets []int32) []byte {
	var x box
	version := uint8(0)
	if minInt32(offsets) < 0 {
		version = 1
	}
	x.fullHeader(version, 0)
	type run struct {
		count uint32
		off   int32
	}
	var runs []run
	for _, o := range offsets {
		if len(runs) > 0 && runs[len(runs)-1].off == o {
			runs[len(runs)-1].count++
			continue
		}
		runs = append(runs, run{1, o})
	}
	x.u32(uint32(len(runs)))
	for _, r := range runs {
		x.u32(r.count)
		x.u32(uint32(r.off))
	}
	return mkbox("ctts", x.b)
}

func minInt32(v []int32) int32 {
	var m int32
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

// stszBox lists sample sizes.
func stszBox(sizes []uint32) []byte {
	var x box
	x.fullHeader(0, 0)
	x.u32(0) // sizes differ per sample
	x.u32(uint32(len(sizes)))
	for _, s := range sizes {
		x.u32(s)
	}
	return mkbox("stsz", x.b)
}

// stszConst gives count samples one size (PCM frames).
func stszConst(size uint32, count int) []byte {
	var x box
	x.fullHeader(0, 0)
	x.u32(size)
	x.u32(uint32(count))
	return mkbox("stsz", x.b)
}

// muxStbl builds the sample table of a track stored in chunks (in file
// order).
func muxStbl(t *muxTrack, chunks []*muxChunk) []byte {
	var stsd box
	stsd.fullHeader(0, 0)
	stsd.u32(1)
	stsd.b = append(stsd.b, t.entry...)

	// stsc: runs of chunks with the same sample count.
	var stsc box
	stsc.fullHeader(0, 0)
	var runs [][2]uint32 // first chunk (1-based), samples per chunk
	for i, c := range chunks {
		if len(runs) == 0 || runs[len(runs)-1][1] != uint32(c.count) {
			runs = append(runs, [2]uint32{uint32(i + 1), uint32(c.count)})
		}
	}
	stsc.u32(uint32(len(runs)))
	for _, r := range runs {
		stsc.u32(r[0])
		stsc.u32(r[1])
		stsc.u32(1) // sample_description_index
	}

	var stco box
	stco.fullHeader(0, 0)
	stco.u32(uint32(len(chunks)))
	for _, c := range chunks {
		stco.u32(uint32(c.fileOff))
	}

	stts, stsz := sttsBox(t.deltas), stszBox(t.sizes)
	if f := t.fixed; f != nil {
		stts, stsz = sttsRuns([][2]uint32{{uint32(f.count), f.delta}}), stszConst(f.size, f.count)
	}
	parts := [][]byte{mkbox("stsd", stsd.b), stts}
	if t.ctsOffsets != nil {
		parts = append(parts, cttsBox(t.ctsOffsets))
	}
	if t.sync != nil {
		parts = append(parts, stssBox(t.sync))
	}
	parts = append(parts, mkbox("stsc", stsc.b), stsz, mkbox("stco", stco.b))
	return mkbox("stbl", parts...)
}

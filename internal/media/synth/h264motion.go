package synth

import "math"

// motionVector is a luma displacement in quarter samples.
type motionVector struct{ x, y int32 }

// zoomVectors returns, for each macroblock in raster order, the motion
// vector that turns the previous picture (the IDR picture enlarged by prev
// around the centre) into the IDR picture enlarged by cur. Vectors are
// multiples of two pixels (whole chroma samples too), so repeated
// prediction never blurs the picture, and they are the difference
// of rounded cumulative displacements, so rounding errors never pile up.
// Each macroblock moves rigidly, which is invisible at the small per-frame
// steps used.
func (s h264Stream) zoomVectors(prev, cur float64) []motionVector {
	mvs := make([]motionVector, 0, s.widthMbs*s.heightMbs)
	cx, cy := float64(s.widthMbs*16)/2, float64(s.heightMbs*16)/2
	// disp is how far from p the IDR sample shown at p lies at zoom z.
	disp := func(p, c, z float64) int32 { return 2 * int32(math.Round((p-c)*(1/z-1)/2)) }
	for my := range s.heightMbs {
		for mx := range s.widthMbs {
			px, py := float64(mx*16+8), float64(my*16+8)
			mvs = append(mvs, motionVector{
				x: 4 * (disp(px, cx, cur) - disp(px, cx, prev)),
				y: 4 * (disp(py, cy, cur) - disp(py, cy, prev)),
			})
		}
	}
	return mvs
}

// motionPicture codes a P access unit in which every macroblock is
// P_L0_16x16 with the given motion vector, reference index 0 and no
// residual. mvs has one vector per macroblock in raster order.
func (s h264Stream) motionPicture(frameNum int, mvs []motionVector) []byte {
	var w bitWriter
	s.sliceHeader(&w, false, frameNum, 0)
	for i, mv := range mvs {
		p := s.predictMV(mvs, i)
		w.ue(0) // mb_skip_run
		w.ue(0) // mb_type: P_L0_16x16 (ref_idx_l0 is implied: one reference)
		w.se(mv.x - p.x)
		w.se(mv.y - p.y)
		w.ue(0) // coded_block_pattern: codeNum 0 is "no residual" for inter
	}
	return nalUnit(refIdcPredictive, nalSlice, w.trailing())
}

// predictMV is the H.264 median motion vector prediction (8.4.1.3) for a
// 16x16 partition whose already-decoded neighbours are all P_L0_16x16 with
// reference index 0. The decoder adds the coded difference to this value,
// so it must match the decoder exactly.
func (s h264Stream) predictMV(mvs []motionVector, i int) motionVector {
	mx, my := i%s.widthMbs, i/s.widthMbs
	type nb struct {
		mv  motionVector
		ok  bool
		ref int // 0 when available, -1 otherwise
	}
	at := func(x, y int) nb {
		if x < 0 || y < 0 || x >= s.widthMbs {
			return nb{ref: -1}
		}
		return nb{mv: mvs[y*s.widthMbs+x], ok: true}
	}
	a := at(mx-1, my)
	b := at(mx, my-1)
	c := at(mx+1, my-1)
	if !c.ok {
		c = at(mx-1, my-1) // D replaces an unavailable C
	}
	if !b.ok && !c.ok && a.ok {
		b, c = a, a
	}
	matches := 0
	var only motionVector
	for _, n := range []nb{a, b, c} {
		if n.ref == 0 {
			matches++
			only = n.mv
		}
	}
	if matches == 1 {
		return only
	}
	return motionVector{
		x: median3(a.mv.x, b.mv.x, c.mv.x),
		y: median3(a.mv.y, b.mv.y, c.mv.y),
	}
}

func median3(a, b, c int32) int32 {
	return max(min(a, b), min(max(a, b), c))
}

package synth

// bitWriter writes the MSB-first bit strings of an H.264 RBSP (raw byte
// sequence payload). Emulation prevention is applied later, per NAL unit.
type bitWriter struct {
	buf  []byte
	cur  byte
	nbit uint // bits already used in cur
}

// u writes the low n bits of v, most significant first (the spec's u(n)).
func (w *bitWriter) u(n uint, v uint64) {
	for i := int(n) - 1; i >= 0; i-- {
		w.bit(uint8(v>>uint(i)) & 1)
	}
}

func (w *bitWriter) bit(b uint8) {
	w.cur = w.cur<<1 | b&1
	w.nbit++
	if w.nbit == 8 {
		w.buf = append(w.buf, w.cur)
		w.cur, w.nbit = 0, 0
	}
}

func (w *bitWriter) flag(b bool) {
	if b {
		w.bit(1)
		return
	}
	w.bit(0)
}

// ue writes an unsigned Exp-Golomb code (the spec's ue(v)).
func (w *bitWriter) ue(v uint32) {
	x := uint64(v) + 1
	n := uint(0)
	for t := x; t > 1; t >>= 1 {
		n++
	}
	w.u(n, 0)
	w.u(n+1, x)
}

// se writes a signed Exp-Golomb code (the spec's se(v)): k>0 maps to 2k-1,
// k<=0 maps to -2k.
func (w *bitWriter) se(v int32) {
	if v > 0 {
		w.ue(uint32(2*int64(v) - 1))
		return
	}
	w.ue(uint32(-2 * int64(v)))
}

func (w *bitWriter) aligned() bool { return w.nbit == 0 }

// alignZero pads with zero bits up to the next byte boundary
// (pcm_alignment_zero_bit).
func (w *bitWriter) alignZero() {
	for w.nbit != 0 {
		w.bit(0)
	}
}

// appendBytes writes whole bytes; the writer must be byte aligned.
func (w *bitWriter) appendBytes(p []byte) {
	if w.nbit != 0 {
		panic("media: appendBytes on unaligned bit writer")
	}
	w.buf = append(w.buf, p...)
}

// trailing writes rbsp_trailing_bits (a stop bit then zero alignment) and
// returns the finished RBSP.
func (w *bitWriter) trailing() []byte {
	w.bit(1)
	w.alignZero()
	return w.buf
}

// nalUnit builds a NAL unit (header byte plus emulation-prevented payload)
// from an RBSP, so that no start code can appear inside it.
func nalUnit(refIdc, nalType byte, rbsp []byte) []byte {
	out := make([]byte, 0, len(rbsp)+len(rbsp)/64+2)
	out = append(out, refIdc<<5|nalType)
	zeros := 0
	for _, b := range rbsp {
		if zeros >= 2 && b <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, b)
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

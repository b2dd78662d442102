package synth

import "errors"

// errBitsExhausted means a bit string ended before a field it must hold.
var errBitsExhausted = errors.New("bit string ended early")

// bitReader reads MSB-first bit strings: H.264 RBSPs (after unescaping)
// and MPEG audio headers. Reads past the end set err and return zeros, so
// parsers can read a run of fields and check err once.
type bitReader struct {
	buf []byte
	pos int // bit position
	err error
}

func (r *bitReader) bit() uint32 {
	if r.pos >= 8*len(r.buf) {
		r.err = errBitsExhausted
		return 0
	}
	b := r.buf[r.pos/8] >> (7 - uint(r.pos%8)) & 1
	r.pos++
	return uint32(b)
}

// u reads n (at most 32) bits as an unsigned number (the spec's u(n)).
func (r *bitReader) u(n int) uint32 {
	var v uint32
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

func (r *bitReader) flag() bool { return r.bit() == 1 }

// ue reads an unsigned Exp-Golomb code (the spec's ue(v)); codes longer
// than 32 bits are invalid in H.264 and stop the reader.
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.bit() == 0 {
		if r.err != nil {
			return 0
		}
		if zeros == 31 {
			r.err = errors.New("exp-golomb code too long")
			return 0
		}
		zeros++
	}
	return (1<<zeros - 1) + r.u(zeros)
}

// se reads a signed Exp-Golomb code (the spec's se(v)).
func (r *bitReader) se() int32 {
	k := r.ue()
	if k%2 == 1 {
		return int32((k + 1) / 2)
	}
	return -int32(k / 2)
}

func (r *bitReader) skip(n int) {
	r.pos += n
	if r.pos > 8*len(r.buf) {
		r.err = errBitsExhausted
	}
}

// alignByte skips to the next byte boundary.
func (r *bitReader) alignByte() { r.pos = (r.pos + 7) / 8 * 8 }

// bytes returns the next n whole bytes; the reader must be byte aligned.
func (r *bitReader) bytes(n int) []byte {
	start := r.pos / 8
	if r.pos%8 != 0 || start+n > len(r.buf) {
		r.err = errBitsExhausted
		return nil
	}
	r.pos += 8 * n
	return r.buf[start : start+n]
}

// moreRBSPData reports whether anything but the rbsp_trailing_bits (a stop
// bit then zeros) is left (the spec's more_rbsp_data()).
func (r *bitReader) moreRBSPData() bool {
	last := len(r.buf) - 1
	for last >= 0 && r.buf[last] == 0 {
		last--
	}
	if last < 0 {
		return false
	}
	// The stop bit is the lowest set bit of the last non-zero byte.
	b := r.buf[last]
	stop := 8*last + 7
	for b&1 == 0 {
		b >>= 1
		stop--
	}
	return r.pos < stop
}

// unescapeRBSP removes emulation prevention bytes (00 00 03 -> 00 00) from a
// NAL unit payload.
func unescapeRBSP(p []byte) []byte {
	out := make([]byte, 0, len(p))
	zeros := 0
	for _, b := range p {
		if zeros >= 2 && b == 3 {
			zeros = 0
			continue
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

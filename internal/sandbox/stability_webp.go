package sandbox

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
)

// encodeWebP writes img as a lossless WebP (VP8L), so the fake Stability
// can honour output_format "webp" without cgo. It is the simplest valid
// stream: no transforms, no colour cache, no back-references, and fixed
// prefix codes (8 bits per red, blue and alpha value; 8 or 9 bits per green
// value), so files are about as big as raw pixels. Fine for a sandbox.
func encodeWebP(img image.Image) ([]byte, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 1 || h < 1 || w > 1<<14 || h > 1<<14 {
		return nil, fmt.Errorf("encode webp: %dx%d is outside 1..16384", w, h)
	}
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	opaque := m.Opaque()

	var bw vp8lWriter
	bw.bits(0x2f, 8) // VP8L signature
	bw.bits(uint32(w-1), 14)
	bw.bits(uint32(h-1), 14)
	if opaque {
		bw.bits(0, 1)
	} else {
		bw.bits(1, 1)
	}
	bw.bits(0, 3) // version
	bw.bits(0, 1) // no transform
	bw.bits(0, 1) // no colour cache
	bw.bits(0, 1) // no meta prefix codes: one group for the whole image
	writeFixedCode(&bw, 280)
	writeFixedCode(&bw, 256)
	writeFixedCode(&bw, 256)
	if opaque {
		writeSimpleCode(&bw, 255)
	} else {
		writeFixedCode(&bw, 256)
	}
	writeSimpleCode(&bw, 0) // distance: unused
	for i := 0; i < len(m.Pix); i += 4 {
		writeGreen(&bw, m.Pix[i+1])
		bw.code(uint32(m.Pix[i]), 8)
		bw.code(uint32(m.Pix[i+2]), 8)
		if !opaque {
			bw.code(uint32(m.Pix[i+3]), 8)
		}
	}
	data := bw.finish()

	var out bytes.Buffer
	pad := len(data) & 1
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(4+8+len(data)+pad))
	out.WriteString("WEBPVP8L")
	_ = binary.Write(&out, binary.LittleEndian, uint32(len(data)))
	out.Write(data)
	if pad == 1 {
		out.WriteByte(0)
	}
	return out.Bytes(), nil
}

// writeFixedCode writes a normal prefix code over n symbols (256 or 280)
// whose lengths are 8 for the first 256 - (n-256)*2 symbols and 9 for the
// rest, which is a complete code. The lengths are themselves coded with a
// two-symbol code-length code: length 8 is "0", length 9 is "1".
func writeFixedCode(bw *vp8lWriter, n int) {
	bw.bits(0, 1) // normal code
	// The code-length code lists lengths in this order: 17, 18, 0, 1, 2,
	// 3, 4, 5, 16, 6, 7, 8, 9; only 8 and 9 (the last two) are used.
	bw.bits(13-4, 4)
	for i := range 13 {
		l := uint32(0)
		if i >= 11 {
			l = 1
		}
		bw.bits(l, 3)
	}
	bw.bits(0, 1) // every symbol's length follows
	nine := (n - 256) * 2
	for i := range n {
		if i >= n-nine {
			bw.bits(1, 1)
		} else {
			bw.bits(0, 1)
		}
	}
}

// writeSimpleCode writes a one-symbol code: that symbol costs no bits.
func writeSimpleCode(bw *vp8lWriter, sym uint32) {
	bw.bits(1, 1) // simple code
	bw.bits(0, 1) // one symbol
	if sym < 2 {
		bw.bits(0, 1)
		bw.bits(sym, 1)
		return
	}
	bw.bits(1, 1)
	bw.bits(sym, 8)
}

// greenShort is how many green symbols have 8-bit codes (280 symbols, 48
// of them 9-bit: 232/256 + 48/512 = 1).
const greenShort = 232

// writeGreen writes a green value with the 280-symbol code: canonical codes
// give symbols below 232 the 8-bit codes 0..231 and the others the 9-bit
// codes 464 + (sym - 232).
func writeGreen(bw *vp8lWriter, g uint8) {
	if g < greenShort {
		bw.code(uint32(g), 8)
		return
	}
	bw.code(2*greenShort+uint32(g)-greenShort, 9)
}

// vp8lWriter packs bits least significant first, as VP8L reads them.
type vp8lWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

// bits writes the n low bits of v, least significant first (header fields
// and code lengths).
func (w *vp8lWriter) bits(v uint32, n uint) {
	w.acc |= uint64(v) << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// code writes an n-bit prefix code, most significant bit first: the
// decoder walks the code tree one read bit at a time.
func (w *vp8lWriter) code(c uint32, n uint) {
	var r uint32
	for i := uint(0); i < n; i++ {
		r = r<<1 | (c>>i)&1
	}
	w.bits(r, n)
}

func (w *vp8lWriter) finish() []byte {
	if w.nacc > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.nacc = 0, 0
	}
	return w.buf
}

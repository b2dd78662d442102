package synth

import (
	"bytes"
	"strings"
	"testing"
)

func TestExpGolomb(t *testing.T) {
	t.Parallel()

	var w bitWriter
	w.ue(0)  // 1
	w.ue(1)  // 010
	w.ue(3)  // 00100
	w.se(1)  // 010
	w.se(-1) // 011
	w.ue(25) // 000011010
	got := w.trailing()
	want := "1" + "010" + "00100" + "010" + "011" + "000011010" + "1"
	for len(want)%8 != 0 {
		want += "0"
	}
	var bits strings.Builder
	for _, b := range got {
		for i := 7; i >= 0; i-- {
			bits.WriteByte('0' + b>>i&1)
		}
	}
	if bits.String() != want {
		t.Fatalf("bits %s, want %s", bits.String(), want)
	}
}

func TestNALUnit_EmulationPrevention(t *testing.T) {
	t.Parallel()

	tests := []struct{ in, want []byte }{
		{[]byte{0, 0, 1}, []byte{0x65, 0, 0, 3, 1}},
		{[]byte{0, 0, 0, 0}, []byte{0x65, 0, 0, 3, 0, 0}},
		{[]byte{0, 0, 4, 0, 0, 3}, []byte{0x65, 0, 0, 4, 0, 0, 3, 3}},
		{[]byte{1, 0, 2}, []byte{0x65, 1, 0, 2}},
	}
	for _, tt := range tests {
		if got := nalUnit(3, nalSliceIDR, tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("nalUnit(% x) = % x, want % x", tt.in, got, tt.want)
		}
	}
}

// TestPredictMV checks median prediction on a 3x2 grid against values
// worked out by hand from H.264 8.4.1.3.
func TestPredictMV(t *testing.T) {
	t.Parallel()

	s := h264Stream{widthMbs: 3, heightMbs: 2}
	mvs := []motionVector{
		{4, 0}, {8, 4}, {12, -4},
		{-4, 8}, {0, 0}, {16, 16},
	}
	want := []motionVector{
		{0, 0}, // nothing decoded yet
		{4, 0}, // only A available: B and C take A
		{8, 4}, // only A available
		{4, 0}, // A missing (ref -1, mv 0); median(0, B=(4,0), C=(8,4)) = (4, 0)
		{8, 4}, // median(A=(-4,8), B=(8,4), C=(12,-4))
		{8, 0}, // C missing, D used: median(A=(0,0), B=(12,-4), D=(8,4))
	}
	for i := range mvs {
		if got := s.predictMV(mvs, i); got != want[i] {
			t.Errorf("mb %d: predicted %v, want %v", i, got, want[i])
		}
	}
}

func TestZoomVectors(t *testing.T) {
	t.Parallel()

	s := newH264Stream(320, 320, 10)
	for _, mv := range s.zoomVectors(1.05, 1.05) {
		if mv != (motionVector{}) {
			t.Fatalf("no zoom change must give zero vectors, got %v", mv)
		}
	}
	mvs := s.zoomVectors(1, 1.1)
	first, last := mvs[0], mvs[len(mvs)-1]
	// Zooming in, each corner shows content from nearer the centre.
	if first.x <= 0 || first.y <= 0 || last.x >= 0 || last.y >= 0 {
		t.Errorf("corner vectors %v and %v do not point towards the centre", first, last)
	}
	for _, mv := range mvs {
		if mv.x%8 != 0 || mv.y%8 != 0 {
			t.Fatalf("vector %v is not whole chroma samples (multiples of 8 quarter pixels)", mv)
		}
	}
}

package media_test

import (
	"encoding/binary"
)

// box and mkbox build raw boxes by hand for tests that need malformed or
// minimal files the writer never makes.
type box struct{ b []byte }

func (x *box) u32(v uint32) { x.b = binary.BigEndian.AppendUint32(x.b, v) }
func (x *box) str(s string) { x.b = append(x.b, s...) }

// mkbox wraps payloads in a box of the given type.
func mkbox(typ string, payloads ...[]byte) []byte {
	n := 8
	for _, p := range payloads {
		n += len(p)
	}
	out := binary.BigEndian.AppendUint32(make([]byte, 0, n), uint32(n))
	out = append(out, typ...)
	for _, p := range payloads {
		out = append(out, p...)
	}
	return out
}

package sample

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// BombPNG returns a valid w×h 8-bit grayscale PNG of black pixels whose
// IDAT is one tiny zlib stream: a decompression bomb, for tests of input
// limits. It is built row by row (the bytes png.Encoder writes for an
// all-black image.Gray with filter None), so making it never holds w*h
// bytes.
func BombPNG(w, h int) []byte {
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression) // a valid level; writing to memory cannot fail
	row := make([]byte, 1+w)                                  // filter type 0, then w black pixels
	for range h {
		_, _ = zw.Write(row)
	}
	_ = zw.Close()
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // 8-bit grayscale, deflate, adaptive, no interlace
	out := []byte("\x89PNG\r\n\x1a\n")
	for _, c := range []struct {
		typ  string
		data []byte
	}{{"IHDR", ihdr}, {"IDAT", idat.Bytes()}, {"IEND", nil}} {
		out = binary.BigEndian.AppendUint32(out, uint32(len(c.data)))
		body := append([]byte(c.typ), c.data...)
		out = append(out, body...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	}
	return out
}

package media_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"io"
	"testing"

	"github.com/lepus-ai/lepus/internal/media/mediatest"

	"github.com/lepus-ai/lepus/internal/media/synth"

	"github.com/lepus-ai/lepus/internal/media"
)

func TestMP4Duration_Err(t *testing.T) {
	t.Parallel()

	for name, data := range map[string][]byte{
		"ErrText":  []byte("this is not a video file at all, just words"),
		"ErrEmpty": nil,
		"ErrPNG":   mediatest.EncodePNG(t, mediatest.Photo(20, 20)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if d, err := media.MP4Duration(bytes.NewReader(data)); err == nil {
				t.Fatalf("duration %v, want an error", d)
			}
		})
	}
}

// TestMP4Duration_SeeksOverMdat moves a large mdat in front of moov (as
// non-faststart files have it) and checks the duration is found while
// reading only headers.
func TestMP4Duration_SeeksOverMdat(t *testing.T) {
	t.Parallel()

	data := writeTestMP4(t, mediatest.Photo(64, 64), 7, synth.MP4Options{})
	ftypLen := binary.BigEndian.Uint32(data)
	moovLen := binary.BigEndian.Uint32(data[ftypLen:])
	ftyp, moov := data[:ftypLen], data[ftypLen:ftypLen+moovLen]
	bigMdat := mkbox("mdat", make([]byte, 8<<20))
	file := append(append(append([]byte{}, ftyp...), bigMdat...), moov...)

	r := &countingReadSeeker{ReadSeeker: bytes.NewReader(file)}
	got, err := media.MP4Duration(r)
	if err != nil || got != 7 {
		t.Fatalf("duration %v, err %v; want 7", got, err)
	}
	if r.n > 64<<10 {
		t.Errorf("read %d bytes of a %d-byte file; mdat must be skipped", r.n, len(file))
	}
}

// TestMP4Duration_TrackFallback zeroes the movie header duration; the
// longest track's duration must be used instead.
func TestMP4Duration_TrackFallback(t *testing.T) {
	t.Parallel()

	data := writeTestMP4(t, mediatest.Photo(64, 64), 4, synth.MP4Options{})
	i := bytes.Index(data, []byte("mvhd"))
	binary.BigEndian.PutUint32(data[i+4+16:], 0) // version/flags, times, timescale, then duration
	got, err := media.MP4Duration(bytes.NewReader(data))
	if err != nil || got != 4 {
		t.Fatalf("duration %v, err %v; want 4 from the track header", got, err)
	}
}

type countingReadSeeker struct {
	io.ReadSeeker
	n int64
}

func (c *countingReadSeeker) Read(p []byte) (int, error) {
	n, err := c.ReadSeeker.Read(p)
	c.n += int64(n)
	return n, err
}

func writeTestMP4(t *testing.T, img image.Image, seconds float64, opts synth.MP4Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := synth.WriteMP4(&buf, img, seconds, opts); err != nil {
		t.Fatalf("WriteMP4: %v", err)
	}
	return buf.Bytes()
}

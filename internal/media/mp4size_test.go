package media_test

import (
	"bytes"
	"image"
	"testing"

	"github.com/lepus-ai/lepus/internal/media/synth"

	"github.com/lepus-ai/lepus/internal/media"
)

func TestMP4VideoSize(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := synth.WriteMP4(&buf, image.NewRGBA(image.Rect(0, 0, 320, 240)), 1, synth.MP4Options{}); err != nil {
		t.Fatal(err)
	}
	w, h, err := media.MP4VideoSize(bytes.NewReader(buf.Bytes()))
	if err != nil || w != 320 || h != 240 {
		t.Fatalf("size %dx%d, %v; want 320x240", w, h, err)
	}
	if _, _, err := media.MP4VideoSize(bytes.NewReader([]byte("not a video at all"))); err == nil {
		t.Fatal("a non-MP4 has no size")
	}
}

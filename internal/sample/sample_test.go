package sample

import (
	"testing"

	"github.com/lepus-ai/lepus/internal/media"
)

// The walkthrough and the face check rely on a detector finding the faces.
func TestPortrait_FaceDetected(t *testing.T) {
	t.Parallel()
	for i, p := range Palettes {
		for _, size := range [][2]int{{300, 375}, {400, 500}, {640, 800}} {
			if faces := media.DetectFaces(Portrait(p, size[0], size[1])); len(faces) == 0 {
				t.Errorf("palette %d at %dx%d: no face detected", i, size[0], size[1])
			}
		}
	}
}

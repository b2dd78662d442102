package synth

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"

	"github.com/lepus-ai/lepus/internal/media"
)

// stretchTolerance is how far (relative) an image's aspect may differ from
// the canvas before it is letterboxed rather than stretched to fill it.
// Canvas sides are rounded down to multiples of 16, so the first image
// itself rarely matches exactly; bars a few pixels wide would look broken.
const stretchTolerance = 0.03

// WriteSlideshowMP4 writes a playable MP4 that shows each image in turn
// for an equal share of seconds, for the sandbox's multi-image-to-video
// results. The canvas is the first image's size fitted into opts.MaxSide
// (as WriteMP4 sizes it); other images are scaled to fit inside it and
// centred on black. Each image starts on a frame boundary with a fresh IDR
// picture, so seeking lands on a whole image. With one image the output is
// exactly WriteMP4's.
func WriteSlideshowMP4(w io.Writer, images []image.Image, seconds float64, opts MP4Options) error {
	if len(images) == 0 {
		return errors.New("write slideshow: no images")
	}
	if len(images) == 1 {
		return WriteMP4(w, images[0], seconds, opts)
	}
	for i, img := range images {
		if img == nil || img.Bounds().Empty() {
			return fmt.Errorf("write slideshow: image %d is empty", i)
		}
	}
	if math.IsNaN(seconds) || seconds < minMP4Seconds || seconds > maxMP4Seconds {
		return fmt.Errorf("write slideshow: duration %v s outside [%v, %d]", seconds, minMP4Seconds, maxMP4Seconds)
	}
	fps, maxSide := opts.withDefaults()
	first := images[0].Bounds()
	vw, vh := videoSize(first.Dx(), first.Dy(), maxSide)
	track, n := newVideoTrack(vw, vh, fps, seconds)
	if n < len(images) {
		return fmt.Errorf("write slideshow: %v s at %d fps is %d frames, fewer than the %d images",
			seconds, fps, n, len(images))
	}
	stream := newH264Stream(vw, vh, fps)
	track.sps, track.pps, track.level = stream.sps(), stream.pps(), stream.level

	// A Motion canvas is twice the video size, so the zoom has detail to
	// reveal, as WriteMP4 zooms into the source image.
	cw, ch := vw, vh
	if opts.Motion {
		cw, ch = 2*vw, 2*vh
	}
	var samples []sample
	idr := 0
	for i, img := range images {
		start, end := i*n/len(images), (i+1)*n/len(images)
		var part []sample
		part, idr = encodeFrames(stream, letterbox(img, cw, ch), end-start, fps, opts.Motion, idr)
		samples = append(samples, part...)
	}
	if err := writeVideoFile(w, track, samples); err != nil {
		return fmt.Errorf("write slideshow: %w", err)
	}
	return nil
}

// letterbox fits img into a w x h black canvas, centred and keeping its
// aspect ratio, unless the aspect ratios nearly match (then it fills the
// canvas).
func letterbox(img image.Image, w, h int) *image.RGBA {
	b := img.Bounds()
	imgAspect := float64(b.Dx()) / float64(b.Dy())
	canvasAspect := float64(w) / float64(h)
	if math.Abs(imgAspect/canvasAspect-1) <= stretchTolerance {
		return media.ScaleRGBA(img, w, h)
	}
	// Scale up or down so the image touches two opposite sides.
	dw, dh := w, int(math.Round(float64(w)/imgAspect))
	if dh > h {
		dw, dh = int(math.Round(float64(h)*imgAspect)), h
	}
	dw, dh = max(1, dw), max(1, dh)
	canvas := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(canvas, canvas.Rect, image.Black, image.Point{}, draw.Src)
	at := image.Pt((w-dw)/2, (h-dh)/2)
	draw.Draw(canvas, image.Rectangle{Min: at, Max: at.Add(image.Pt(dw, dh))}, media.ScaleRGBA(img, dw, dh), image.Point{}, draw.Src)
	return canvas
}

package stability

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/lepus-ai/lepus/internal/media"
)

// photo is a smooth w x h picture: a gradient with a red block in the left
// half and a blue block in the right half.
func photo(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(x * 200 / w), uint8(y * 200 / h), 90, 255}
			switch {
			case y > h/4 && y < h/2 && x > w/8 && x < w/3:
				c = color.RGBA{230, 20, 20, 255}
			case y > h/4 && y < h/2 && x > 2*w/3 && x < 7*w/8:
				c = color.RGBA{20, 20, 230, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func noise(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range m.Pix {
		m.Pix[i] = uint8(r.IntN(256))
		if i%4 == 3 {
			m.Pix[i] = 255
		}
	}
	return m
}

func encode(t *testing.T, m image.Image, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, m)
	} else {
		err = jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// at returns the colour at the given fraction of img's size.
func at(img image.Image, fx, fy float64) color.RGBA {
	b := img.Bounds()
	return color.RGBAModel.Convert(img.At(b.Min.X+int(fx*float64(b.Dx())), b.Min.Y+int(fy*float64(b.Dy())))).(color.RGBA)
}

func TestFitSubject_Large(t *testing.T) {
	t.Parallel()
	const w, h = 3400, 2900 // 9.86 MP, over MaxSubjectPixels
	data := encode(t, photo(w, h), "jpeg")
	out, name, mime, changed, err := FitSubject(data)
	if err != nil {
		t.Fatal(err)
	}
	if !changed || name != "subject.png" || mime != "image/png" || len(out) > fitBytes {
		t.Fatalf("changed %v, %s %s, %d bytes", changed, name, mime, len(out))
	}
	img, info, err := media.DecodeImage(out)
	if err != nil || info.Format != "png" {
		t.Fatalf("result does not decode as png: %v", err)
	}
	px := info.Width * info.Height
	if px > MaxSubjectPixels || px < MaxSubjectPixels*98/100 {
		t.Errorf("result %dx%d = %d px, want just under %d", info.Width, info.Height, px, MaxSubjectPixels)
	}
	if math.Abs(float64(info.Width)/float64(info.Height)-float64(w)/h) > 0.002 {
		t.Errorf("aspect changed: %dx%d", info.Width, info.Height)
	}
	if c := at(img, 0.22, 0.37); c.R < 200 || c.B > 60 {
		t.Errorf("red block became %v", c)
	}
	if c := at(img, 0.77, 0.37); c.B < 200 || c.R > 60 {
		t.Errorf("blue block became %v", c)
	}
}

func TestFitSubject_Unchanged(t *testing.T) {
	t.Parallel()
	for _, f := range []struct{ format, name, mime string }{
		{"png", "subject.png", "image/png"},
		{"jpeg", "subject.jpg", "image/jpeg"},
	} {
		data := encode(t, photo(640, 480), f.format)
		out, name, mime, changed, err := FitSubject(data)
		if err != nil || changed || !bytes.Equal(out, data) || name != f.name || mime != f.mime {
			t.Errorf("%s: changed %v, %s %s, same bytes %v, err %v", f.format, changed, name, mime, bytes.Equal(out, data), err)
		}
	}
	// The smallest accepted subject.
	if _, _, _, changed, err := FitSubject(encode(t, photo(64, 64), "png")); err != nil || changed {
		t.Errorf("64x64: changed %v, err %v", changed, err)
	}
}

func TestFitSubject_Errors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		w, h int
	}{
		{"ErrNarrowSide", 63, 200},
		{"ErrAspect", 1000, 399},
		{"ErrAspectTall", 100, 251},
	} {
		_, _, _, _, err := FitSubject(encode(t, photo(tc.w, tc.h), "png"))
		if !errors.Is(err, ErrSubjectUnfit) {
			t.Errorf("%s %dx%d: err = %v, want ErrSubjectUnfit", tc.name, tc.w, tc.h, err)
		}
	}
	if _, _, _, _, err := FitSubject([]byte("GIF89a not supported")); err == nil || errors.Is(err, ErrSubjectUnfit) {
		t.Errorf("gif: err = %v, want a decode error", err)
	}
}

func TestFitSubject_Fallbacks(t *testing.T) {
	t.Parallel()
	t.Run("OK_PNGAfterDownscale", func(t *testing.T) {
		t.Parallel()
		out, name, _, changed, err := fitSubject(encode(t, photo(1000, 800), "jpeg"), 200_000, 1<<20)
		if err != nil || !changed || name != "subject.png" {
			t.Fatalf("changed %v, %s, %v", changed, name, err)
		}
		_, info, _ := media.DecodeImage(out)
		if info.Width*info.Height > 200_000 || info.Width != 500 {
			t.Errorf("result %dx%d", info.Width, info.Height)
		}
	})
	t.Run("OK_JPEGWhenPNGTooBig", func(t *testing.T) {
		t.Parallel()
		data := encode(t, noise(300, 300), "png") // ~270 KB: noise does not compress
		const limit = 100_000
		out, name, mime, changed, err := fitSubject(data, 1<<20, limit)
		if err != nil || !changed || name != "subject.jpg" || mime != "image/jpeg" || len(out) > limit {
			t.Fatalf("changed %v, %s %s, %d bytes, %v", changed, name, mime, len(out), err)
		}
		if _, info, err := media.DecodeImage(out); err != nil || info.Width < 100 {
			t.Errorf("result %+v, %v", info, err)
		}
	})
	t.Run("ErrCannotFit", func(t *testing.T) {
		t.Parallel()
		if _, _, _, _, err := fitSubject(encode(t, noise(300, 300), "png"), 1<<20, 200); !errors.Is(err, ErrSubjectUnfit) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestResize_Seamless(t *testing.T) {
	t.Parallel()
	src := noise(300, 200) // detail everywhere, so seams would show
	whole := resizeBanded(src, 170, 130, 1000)
	for _, band := range []int{1, 7, resizeBand} {
		if got := resizeBanded(src, 170, 130, band); !bytes.Equal(got.Pix, whole.Pix) {
			t.Errorf("band %d: result differs from scaling in one piece", band)
		}
	}
	// Two passes through 8-bit stay close to one float Catmull-Rom pass.
	want := image.NewRGBA(image.Rect(0, 0, 170, 130))
	xdraw.CatmullRom.Scale(want, want.Rect, src, src.Rect, xdraw.Src, nil)
	var sum float64
	for i := range whole.Pix {
		sum += math.Abs(float64(whole.Pix[i]) - float64(want.Pix[i]))
	}
	if d := sum / float64(len(whole.Pix)); d > 1 {
		t.Errorf("mean difference from a single Catmull-Rom pass %.2f", d)
	}
}

package sandbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/synth"
)

// arkRenderSide bounds the long side of sandbox Ark images, to stay cheap;
// the size reported is still the one asked for.
const arkRenderSide = 1024

// arkGen is one answered generation: what is needed to render its images
// again if the result cache drops them.
type arkGen struct {
	id      string
	created time.Time
	source  string // the first reference, or "" for text only
	prompt  string
	w, h    int    // the nominal size
	size    string // "<w>x<h>", as reported
	pixels  int
	b64     bool
	wm      bool
	ok      []int // indexes made; guarded by Sandbox.mu
}

// arkSizes2K are Ark's recommended 2K sizes (other-providers.md §2.2); the
// 1K and 4K sizes are half and double. A 1K/2K/4K request gets the one
// closest to its first reference's aspect ratio, as the model would pick.
var arkSizes2K = [][2]int{{2048, 2048}, {2304, 1728}, {1728, 2304}, {2560, 1440}, {1440, 2560}, {2496, 1664}, {1664, 2496}, {3024, 1296}}

// gen makes the generation record of a validated, checked request.
func (req *arkRequest) gen(id string) *arkGen {
	w, h := req.w, req.h
	if w == 0 {
		target := 0.0 // log aspect; square without references
		if req.refW > 0 && req.refH > 0 {
			target = math.Log(float64(req.refW) / float64(req.refH))
		}
		best := arkSizes2K[0]
		for _, s := range arkSizes2K {
			if math.Abs(math.Log(float64(s[0])/float64(s[1]))-target) < math.Abs(math.Log(float64(best[0])/float64(best[1]))-target) {
				best = s
			}
		}
		scale := math.Sqrt(float64(req.pixels) / (2048 * 2048))
		w, h = int(float64(best[0])*scale), int(float64(best[1])*scale)
	}
	g := &arkGen{id: id, prompt: req.prompt, w: w, h: h, size: fmt.Sprintf("%dx%d", w, h), pixels: w * h, b64: req.b64, wm: req.watermark}
	if len(req.sources) > 0 {
		g.source = req.sources[0]
	}
	return g
}

// arkResult returns image idx of g, rendering it once however many ask,
// with the render slots Kling results use.
func (s *Sandbox) arkResult(g *arkGen, idx int) ([]byte, error) {
	return s.cachedRender("ark/"+g.id+"/"+strconv.Itoa(idx), func(ctx context.Context) ([]byte, error) {
		return s.arkRender(ctx, g, idx)
	})
}

// arkRender makes a portrait from the first reference: a crop at the
// asked aspect ratio around the face, zoomed and shifted a little per
// index (like a group of slightly different shots), restyled by the
// prompt, with the "AI生成" mark unless watermark was false.
func (s *Sandbox) arkRender(ctx context.Context, g *arkGen, idx int) ([]byte, error) {
	var src image.Image
	if g.source != "" {
		img, err := s.arkDecode(ctx, g.source)
		if err != nil {
			return nil, err
		}
		src = img
	} else {
		src = canvas(fmt.Sprintf("%d:%d", g.w, g.h), arkRenderSide, g.prompt)
	}
	// Every image of a group has the same size, the asked one scaled to
	// fit arkRenderSide, however large the reference is.
	w, h := g.w, g.h
	if w >= h {
		w, h = arkRenderSide, max(1, h*arkRenderSide/w)
	} else {
		w, h = max(1, w*arkRenderSide/h), arkRenderSide
	}
	scaled := image.NewRGBA(image.Rect(0, 0, w, h))
	crop := arkCrop(src, g.w, g.h, idx)
	xdraw.ApproxBiLinear.Scale(scaled, scaled.Rect, crop, crop.Bounds(), xdraw.Src, nil)
	out := synth.Restyle(scaled, g.prompt, arkRenderSide)
	m := image.NewRGBA(image.Rect(0, 0, out.Bounds().Dx(), out.Bounds().Dy()))
	draw.Draw(m, m.Rect, out, out.Bounds().Min, draw.Src)
	if g.wm {
		drawArkWatermark(m)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85}); err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

// arkCrop cuts the largest w:h window of src, zoomed in by 4% per index
// and nudged sideways, centred on the first face found.
func arkCrop(src image.Image, w, h, idx int) image.Image {
	b := src.Bounds()
	cw, ch := b.Dx(), b.Dx()*h/w
	if ch > b.Dy() {
		cw, ch = b.Dy()*w/h, b.Dy()
	}
	zoom := 1 + 0.04*float64(min(idx, 15))
	cw, ch = max(1, int(float64(cw)/zoom)), max(1, int(float64(ch)/zoom))
	center := image.Pt((b.Min.X+b.Max.X)/2, (b.Min.Y+b.Max.Y)/2)
	if faces := media.DetectFaces(src); len(faces) > 0 {
		f := faces[0]
		center = image.Pt((f.Min.X+f.Max.X)/2, (f.Min.Y+f.Max.Y)/2)
	}
	center.X += (idx%3 - 1) * cw * 3 / 100
	x0 := min(max(center.X-cw/2, b.Min.X), b.Max.X-cw)
	y0 := min(max(center.Y-ch/2, b.Min.Y), b.Max.Y-ch)
	r := image.Rect(x0, y0, x0+cw, y0+ch)
	if sub, ok := src.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return sub.SubImage(r)
	}
	m := image.NewRGBA(image.Rect(0, 0, cw, ch))
	draw.Draw(m, m.Rect, src, r.Min, draw.Src)
	return m
}

// drawArkWatermark stamps the bottom-right corner with a dark block holding
// four light glyph boxes, standing in for Ark's "AI生成" mark, so a test or
// a person can tell a watermarked image at a glance.
func drawArkWatermark(m *image.RGBA) {
	b := m.Bounds()
	bw := max(24, b.Dx()/5)
	bh := max(8, bw/4)
	margin := max(2, b.Dx()/50)
	block := image.Rect(b.Max.X-margin-bw, b.Max.Y-margin-bh, b.Max.X-margin, b.Max.Y-margin).Intersect(b)
	draw.Draw(m, block, image.NewUniform(color.RGBA{16, 16, 16, 255}), image.Point{}, draw.Src)
	glyph := block.Dx() / 4
	pad := max(1, bh/6)
	white := image.NewUniform(color.RGBA{245, 245, 245, 255})
	for i := range 4 {
		cell := image.Rect(block.Min.X+i*glyph+pad, block.Min.Y+pad, block.Min.X+(i+1)*glyph-pad, block.Max.Y-pad)
		stroke := max(1, cell.Dy()/5)
		for _, r := range []image.Rectangle{
			{cell.Min, image.Pt(cell.Max.X, cell.Min.Y+stroke)},                                                              // top
			{image.Pt(cell.Min.X, cell.Max.Y-stroke), cell.Max},                                                              // bottom
			{cell.Min, image.Pt(cell.Min.X+stroke, cell.Max.Y)},                                                              // left
			{image.Pt(cell.Max.X-stroke, cell.Min.Y), cell.Max},                                                              // right
			{image.Pt(cell.Min.X, (cell.Min.Y+cell.Max.Y-stroke)/2), image.Pt(cell.Max.X, (cell.Min.Y+cell.Max.Y+stroke)/2)}, // bar
		} {
			draw.Draw(m, r.Intersect(block), white, image.Point{}, draw.Src)
		}
	}
}

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// handleArkCDN serves GET /sandbox/cdn/ark/{gen}/{index}.jpeg: plain URLs
// like Ark's TOS links. Only images that were made are there.
func (s *Sandbox) handleArkCDN(w http.ResponseWriter, r *http.Request) {
	idxStr, ext, _ := strings.Cut(r.PathValue("file"), ".")
	idx, err := strconv.Atoi(idxStr)
	s.mu.Lock()
	g := s.ark.gens[r.PathValue("gen")]
	ok := err == nil && ext == "jpeg" && g != nil && slices.Contains(g.ok, idx)
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	data, err := s.arkResult(g, idx)
	if err != nil {
		s.log.Error("sandbox: render ark image", "gen_id", g.id, "index", idx, "err", err)
		http.Error(w, "cannot render result", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	http.ServeContent(w, r, r.PathValue("file"), time.Time{}, bytes.NewReader(data))
}

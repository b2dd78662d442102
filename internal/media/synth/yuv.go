package synth

import "image"

// toYCbCr420 converts an opaque-or-premultiplied RGBA picture to 4:2:0
// BT.601 limited-range samples (what the H.264 stream signals). Transparent
// areas come out black, as premultiplied colour over black. Each chroma
// sample is converted from the mean of its 2x2 RGB block.
func toYCbCr420(m *image.RGBA) *image.YCbCr {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := range w {
			p := row[4*x : 4*x+3]
			r, g, bl := int32(p[0]), int32(p[1]), int32(p[2])
			// 16 + (65.481 R + 128.553 G + 24.966 B) / 255, in 1/65536.
			yv := (16<<16 + 16829*r + 33039*g + 6416*bl + 1<<15) >> 16
			out.Y[y*out.YStride+x] = clampSample(yv, 16, 235)
		}
	}
	for cy := range (h + 1) / 2 {
		for cx := range (w + 1) / 2 {
			var r, g, bl, n int32
			for dy := range 2 {
				for dx := range 2 {
					x, y := 2*cx+dx, 2*cy+dy
					if x >= w || y >= h {
						continue
					}
					p := m.Pix[m.PixOffset(b.Min.X+x, b.Min.Y+y):]
					r += int32(p[0])
					g += int32(p[1])
					bl += int32(p[2])
					n++
				}
			}
			r, g, bl = r/n, g/n, bl/n
			cb := (128<<16 - 9714*r - 19070*g + 28784*bl + 1<<15) >> 16
			cr := (128<<16 + 28784*r - 24103*g - 4681*bl + 1<<15) >> 16
			out.Cb[cy*out.CStride+cx] = clampSample(cb, 16, 240)
			out.Cr[cy*out.CStride+cx] = clampSample(cr, 16, 240)
		}
	}
	return out
}

func clampSample(v, lo, hi int32) uint8 {
	return uint8(min(max(v, lo), hi))
}

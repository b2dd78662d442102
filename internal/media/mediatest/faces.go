package mediatest

import (
	"image"
	"image/color"
)

// Colours of the painted faces.
var (
	SkinTone = color.RGBA{220, 180, 150, 255}
	Magenta  = color.RGBA{230, 120, 220, 255}
)

// FaceScene is a scene with a painted face centred at (200, 250), left of
// where the upper-centre fallback would look.
func FaceScene() *image.RGBA {
	m := Photo(800, 600)
	PaintFace(m, 200, 250, 100, SkinTone)
	return m
}

// MagentaFace is a face image whose face is unmistakably not the scene's.
func MagentaFace() *image.RGBA {
	m := Solid(400, 500, color.RGBA{235, 235, 240, 255})
	PaintFace(m, 200, 200, 110, Magenta)
	return m
}

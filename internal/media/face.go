package media

import (
	_ "embed"
	"image"
	"sort"
	"sync"

	pigo "github.com/esimov/pigo/core"
)

// NOTICE: cascade/facefinder is the face detection cascade shipped with
// github.com/esimov/pigo v1.4.6, Copyright (c) 2018 Endre Simo, MIT License
// (full text in cascade/LICENSE). It is embedded so the binary needs no
// files at run time.
//
//go:embed cascade/facefinder
var facefinderCascade []byte

// faceClassifier unpacks the cascade once; the unpacked trees are read-only
// afterwards, so one classifier serves concurrent callers.
var faceClassifier = sync.OnceValues(func() (*pigo.Pigo, error) {
	return pigo.NewPigo().Unpack(facefinderCascade)
})

const (
	// detectMaxSide bounds the picture the cascade scans; faces in product
	// photos are large, and scanning cost grows with the area.
	detectMaxSide = 480
	// faceMinScore drops weak detections; pigo's examples use 5.
	faceMinScore = 5.0
)

// DetectFaces finds frontal faces with pigo and returns their boxes in img's
// coordinates, best score first. It is used to check that a face image
// really contains a face and to place faces in FaceSwap. It never panics;
// on any internal failure it reports no faces.
func DetectFaces(img image.Image) (faces []image.Rectangle) {
	defer func() {
		if recover() != nil {
			faces = nil
		}
	}()
	if img == nil {
		return nil
	}
	b := img.Bounds()
	if b.Dx() < 24 || b.Dy() < 24 {
		return nil
	}
	classifier, err := faceClassifier()
	if err != nil {
		return nil
	}
	small := FitRGBA(img, detectMaxSide)
	w, h := small.Rect.Dx(), small.Rect.Dy()
	dets := classifier.RunCascade(pigo.CascadeParams{
		MinSize:     max(20, min(w, h)/12),
		MaxSize:     min(w, h),
		ShiftFactor: 0.1,
		ScaleFactor: 1.1,
		ImageParams: pigo.ImageParams{Pixels: grayscale(small), Rows: h, Cols: w, Dim: w},
	}, 0)
	dets = classifier.ClusterDetections(dets, 0.2)
	sort.Slice(dets, func(i, j int) bool { return dets[i].Q > dets[j].Q })

	sx, sy := float64(b.Dx())/float64(w), float64(b.Dy())/float64(h)
	for _, d := range dets {
		if d.Q < faceMinScore {
			continue
		}
		half := float64(d.Scale) / 2
		r := image.Rect(
			int((float64(d.Col)-half)*sx), int((float64(d.Row)-half)*sy),
			int((float64(d.Col)+half)*sx), int((float64(d.Row)+half)*sy),
		).Add(b.Min).Intersect(b)
		if !r.Empty() {
			faces = append(faces, r)
		}
	}
	return faces
}

// grayscale returns the luma plane pigo scans, row-major.
func grayscale(m *image.RGBA) []uint8 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := make([]uint8, w*h)
	for y := range h {
		row := m.Pix[y*m.Stride:]
		for x := range w {
			p := row[4*x:]
			out[y*w+x] = uint8((299*int(p[0]) + 587*int(p[1]) + 114*int(p[2])) / 1000)
		}
	}
	return out
}

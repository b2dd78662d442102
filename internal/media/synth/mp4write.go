package synth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"

	"github.com/lepus-ai/lepus/internal/media"
)

// MP4Options tunes WriteMP4. Zero values pick the defaults.
type MP4Options struct {
	// FPS is the frame rate. Default 10: the picture barely changes, so a
	// low rate keeps files small without looking different.
	FPS int
	// MaxSide bounds the long side of the video in pixels; the image is
	// scaled down (never up) to fit, then each side is rounded down to a
	// multiple of 16 (H.264 macroblocks). Default 640.
	MaxSide int
	// Motion adds a slow zoom towards the centre so the result visibly
	// moves, like a real generated clip, instead of a still frame.
	Motion bool
}

const (
	defaultFPS     = 10
	defaultMaxSide = 640
	minMP4Seconds  = 0.001
	maxMP4Seconds  = 600
	maxFPS         = 60
	// motionZoom is the total zoom reached at the end of a Motion video.
	motionZoom = 1.15
)

// WriteMP4 writes a real, playable MP4 (H.264 Constrained Baseline, no
// audio) that shows img for exactly seconds, so the provider sandbox can
// return results that browsers and ffmpeg play like real ones. The movie
// box comes before the media data so playback can start while downloading.
func WriteMP4(w io.Writer, img image.Image, seconds float64, opts MP4Options) error {
	if img == nil || img.Bounds().Empty() {
		return errors.New("write mp4: empty image")
	}
	if math.IsNaN(seconds) || seconds < minMP4Seconds || seconds > maxMP4Seconds {
		return fmt.Errorf("write mp4: duration %v s outside [%v, %d]", seconds, minMP4Seconds, maxMP4Seconds)
	}
	fps, maxSide := opts.withDefaults()
	vw, vh := videoSize(img.Bounds().Dx(), img.Bounds().Dy(), maxSide)
	track, n := newVideoTrack(vw, vh, fps, seconds)
	stream := newH264Stream(vw, vh, fps)
	track.sps, track.pps, track.level = stream.sps(), stream.pps(), stream.level
	samples, _ := encodeFrames(stream, img, n, fps, opts.Motion, 0)
	if err := writeVideoFile(w, track, samples); err != nil {
		return fmt.Errorf("write mp4: %w", err)
	}
	return nil
}

// withDefaults returns the frame rate and maximum side to use.
func (o MP4Options) withDefaults() (fps, maxSide int) {
	fps = o.FPS
	if fps <= 0 {
		fps = defaultFPS
	}
	fps = min(fps, maxFPS)
	maxSide = o.MaxSide
	if maxSide <= 0 {
		maxSide = defaultMaxSide
	}
	return fps, maxSide
}

// newVideoTrack sets up the timing of a vw x vh track lasting seconds and
// returns it with its frame count. One timescale serves movie and media: a
// frame is 1000 ticks, and any duration given to the millisecond comes out
// exact; the last frame may be shorter.
func newVideoTrack(vw, vh, fps int, seconds float64) (*mp4Track, int) {
	track := &mp4Track{
		width: vw, height: vh,
		timescale: uint32(fps) * 1000,
		profile:   profileBaseline,
		compat:    constraintFlags,
	}
	total := uint32(math.Round(seconds * float64(track.timescale)))
	n := int((total + 999) / 1000)
	for i := range n {
		track.deltas = append(track.deltas, min(1000, total-uint32(i)*1000))
	}
	return track, n
}

// writeVideoFile writes ftyp, moov and mdat for one video track whose
// timing and parameter sets are set, its samples in one chunk.
func writeVideoFile(w io.Writer, track *mp4Track, samples []sample) error {
	t := &muxTrack{
		handler: "vide", timescale: track.timescale, entry: avc1Box(track),
		width: uint32(track.width) << 16, height: uint32(track.height) << 16,
		deltas: track.deltas, sync: []uint32{}, // an empty stss: no sync samples
	}
	chunk := &muxChunk{count: len(samples)}
	for i, s := range samples {
		t.sizes = append(t.sizes, uint32(len(s.data)))
		chunk.bytes += uint64(len(s.data))
		if s.idr {
			t.sync = append(t.sync, uint32(i+1))
		}
	}
	if err := writeHead(w, ftypBox(), t.timescale, []*muxTrack{t}, []*muxChunk{chunk}); err != nil {
		return err
	}
	for _, s := range samples {
		if _, err := w.Write(s.data); err != nil {
			return err
		}
	}
	return nil
}

// videoSize fits w x h into maxSide and rounds both sides down to a
// multiple of 16 (at least 16).
func videoSize(w, h, maxSide int) (int, int) {
	w, h = media.FitSize(w, h, maxSide)
	return max(16, w/16*16), max(16, h/16*16)
}

// sample is one access unit in MP4 form (4-byte length before each NAL).
type sample struct {
	data []byte
	idr  bool
}

func lengthPrefixed(nals ...[]byte) []byte {
	n := 0
	for _, nal := range nals {
		n += 4 + len(nal)
	}
	out := make([]byte, 0, n)
	for _, nal := range nals {
		out = binary.BigEndian.AppendUint32(out, uint32(len(nal)))
		out = append(out, nal...)
	}
	return out
}

// encodeFrames codes n frames. A still video is one IDR picture followed by
// P pictures that skip everything. A Motion video zooms by a constant ratio
// per frame: P pictures move each macroblock outwards, and an exact IDR
// picture every second stops the approximation from drifting. IDR pictures
// are numbered from firstIDR (consecutive IDR pictures must differ in
// idr_pic_id); the number after the last one is returned, so a slideshow
// can code its images one after another.
func encodeFrames(s h264Stream, img image.Image, n, fps int, motion bool, firstIDR int) ([]sample, int) {
	vw, vh := s.widthMbs*16, s.heightMbs*16
	samples := make([]sample, 0, n)
	if !motion {
		frame := toYCbCr420(media.ScaleRGBA(img, vw, vh))
		samples = append(samples, sample{data: lengthPrefixed(s.idrPicture(frame, firstIDR)), idr: true})
		for i := 1; i < n; i++ {
			samples = append(samples, sample{data: lengthPrefixed(s.skipPicture(i))})
		}
		return samples, firstIDR + 1
	}

	base := media.FitRGBA(img, 2*max(vw, vh))
	bw, bh := float64(base.Rect.Dx()), float64(base.Rect.Dy())
	ratio := 1.0
	if n > 1 {
		ratio = math.Pow(motionZoom, 1/float64(n-1))
	}
	lastIDR, idrID := 0, firstIDR
	for i := range n {
		if i%fps == 0 {
			z := math.Pow(ratio, float64(i))
			cw, ch := bw/z, bh/z
			x0, y0 := int(math.Round((bw-cw)/2)), int(math.Round((bh-ch)/2))
			crop := image.Rect(x0, y0, int(math.Round(bw))-x0, int(math.Round(bh))-y0)
			frame := toYCbCr420(media.CropScaleRGBA(base, crop, vw, vh))
			samples = append(samples, sample{data: lengthPrefixed(s.idrPicture(frame, idrID)), idr: true})
			lastIDR = i
			idrID++
			continue
		}
		k := float64(i - lastIDR)
		mvs := s.zoomVectors(math.Pow(ratio, k-1), math.Pow(ratio, k))
		samples = append(samples, sample{data: lengthPrefixed(s.motionPicture(i-lastIDR, mvs))})
	}
	return samples, idrID
}

package synth

import (
	"errors"
	"fmt"
	"image"
	"io"

	mp4 "github.com/abema/go-mp4"

	"github.com/lepus-ai/lepus/internal/media"
)

// maxFirstSample bounds the first video sample FirstFrame reads, so a
// forged sample table cannot make it allocate gigabytes. An I_PCM picture
// of 1920x1088 is about 3.2 MB.
const maxFirstSample = 64 << 20

// FirstFrame decodes the first frame of an MP4 written by this package
// (H.264 whose pictures are made of I_PCM macroblocks), so the sandbox can
// detect faces in videos and derive results from them. Frames coded any
// other way (real encoders use intra prediction and transform residuals)
// give an error wrapping ErrUndecodable; so does an MP4 with no H.264
// track. A file that is not an MP4 gives a plain error.
func FirstFrame(r io.ReadSeeker) (image.Image, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("first frame: %w", err)
	}
	info, err := media.ProbeMP4(r)
	if err != nil {
		return nil, fmt.Errorf("first frame: %w", err)
	}
	if len(info.Tracks) == 0 {
		return nil, errors.New("first frame: not an mp4 file (no tracks)")
	}
	var (
		track    *mp4.Track
		avcIndex int // which avcC box belongs to the track
	)
	for _, t := range info.Tracks {
		if t.Codec == mp4.CodecAVC1 && t.AVC != nil && !t.Encrypted {
			track = t
			break
		}
		if t.AVC != nil {
			avcIndex++
		}
	}
	if track == nil {
		return nil, fmt.Errorf("first frame: %w: no H.264 video track", ErrUndecodable)
	}
	if len(track.Samples) == 0 || len(track.Chunks) == 0 {
		return nil, fmt.Errorf("first frame: video track has no samples")
	}
	avcc, err := readAVCConfig(r, avcIndex)
	if err != nil {
		return nil, fmt.Errorf("first frame: %w", err)
	}
	size := track.Samples[0].Size
	if size == 0 || size > maxFirstSample {
		return nil, fmt.Errorf("first frame: first sample is %d bytes", size)
	}
	au := make([]byte, size)
	if _, err := r.Seek(int64(track.Chunks[0].DataOffset), io.SeekStart); err != nil {
		return nil, fmt.Errorf("first frame: %w", err)
	}
	if _, err := io.ReadFull(r, au); err != nil {
		return nil, fmt.Errorf("first frame: read sample: %w", err)
	}

	dec := newPCMDecoder()
	for _, ps := range append(append([]mp4.AVCParameterSet{}, avcc.SequenceParameterSets...), avcc.PictureParameterSets...) {
		if len(ps.NALUnit) == 0 {
			continue
		}
		if err := dec.addParamSet(ps.NALUnit); err != nil {
			return nil, fmt.Errorf("first frame: %w", err)
		}
	}
	frame, sps, err := dec.decodeAccessUnit(au, int(avcc.LengthSizeMinusOne)+1)
	if err != nil {
		return nil, fmt.Errorf("first frame: %w", err)
	}
	crop := image.Rect(sps.cropLeft, sps.cropTop, frame.Rect.Dx()-sps.cropRight, frame.Rect.Dy()-sps.cropBottom)
	if crop.Empty() {
		return nil, fmt.Errorf("first frame: cropping leaves no picture")
	}
	return ycbcrToRGBA(frame, crop, sps.fullRange, sps.matrix), nil
}

// readAVCConfig returns the n-th avcC box of the file (0-based, in track
// order).
func readAVCConfig(r io.ReadSeeker, n int) (*mp4.AVCDecoderConfiguration, error) {
	boxes, err := mp4.ExtractBoxWithPayload(r, nil, mp4.BoxPath{
		mp4.BoxTypeMoov(), mp4.BoxTypeTrak(), mp4.BoxTypeMdia(), mp4.BoxTypeMinf(), mp4.BoxTypeStbl(),
		mp4.BoxTypeStsd(), mp4.BoxTypeAvc1(), mp4.BoxTypeAvcC(),
	})
	if err != nil {
		return nil, fmt.Errorf("read avcC: %w", err)
	}
	if n >= len(boxes) {
		return nil, fmt.Errorf("read avcC: no decoder configuration")
	}
	return boxes[n].Payload.(*mp4.AVCDecoderConfiguration), nil
}

// ycbcrToRGBA converts the part crop of a 4:2:0 picture to RGB with the
// stream's range and matrix. Go's image.YCbCr assumes full-range BT.601
// (JPEG), which would wash out the limited-range samples WriteMP4 stores.
func ycbcrToRGBA(f *image.YCbCr, crop image.Rectangle, fullRange bool, matrix uint32) *image.RGBA {
	// Coefficients in 1/65536: R = Y + crv*Cr, G = Y - cgu*Cb - cgv*Cr,
	// B = Y + cbu*Cb; limited-range ones include the 255/224 chroma scale.
	coef := [2][2][4]int32{
		{{91881, 22553, 46802, 116130}, {104597, 25675, 53279, 132201}},  // BT.601 full, limited
		{{103206, 12276, 30679, 121609}, {117489, 13975, 34925, 138438}}, // BT.709 full, limited
	}
	m, rng := 0, 1
	if matrix == 1 {
		m = 1
	}
	if fullRange {
		rng = 0
	}
	crv, cgu, cgv, cbu := coef[m][rng][0], coef[m][rng][1], coef[m][rng][2], coef[m][rng][3]
	out := image.NewRGBA(image.Rect(0, 0, crop.Dx(), crop.Dy()))
	for y := range crop.Dy() {
		for x := range crop.Dx() {
			sx, sy := crop.Min.X+x, crop.Min.Y+y
			yy := int32(f.Y[sy*f.YStride+sx])
			cb := int32(f.Cb[sy/2*f.CStride+sx/2]) - 128
			cr := int32(f.Cr[sy/2*f.CStride+sx/2]) - 128
			yv := yy << 16
			if !fullRange {
				yv = (yy - 16) * 76309 // 255/219
			}
			p := out.Pix[out.PixOffset(x, y):]
			p[0] = clampRGB(yv + crv*cr)
			p[1] = clampRGB(yv - cgu*cb - cgv*cr)
			p[2] = clampRGB(yv + cbu*cb)
			p[3] = 255
		}
	}
	return out
}

func clampRGB(v int32) uint8 {
	v = (v + 1<<15) >> 16
	return uint8(min(max(v, 0), 255))
}

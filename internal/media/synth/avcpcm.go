package synth

import (
	"errors"
	"fmt"
	"image"

	"github.com/lepus-ai/lepus/internal/media"
)

// ErrUndecodable means the video frame is coded with tools this package
// does not decode: it reads back only the I_PCM pictures WriteMP4 writes
// (raw samples), not the intra prediction and transform residuals of real
// camera or encoder output. Callers fall back to treating the video as
// opaque.
var ErrUndecodable = errors.New("media: video frame not decodable here")

const (
	sliceTypeIOnly = 2 // slice_type % 5 for I slices
	nalSEI         = 6
	nalAUD         = 9
)

// pcmDecoder decodes the access units of one H.264 stream whose pictures
// are made only of I_PCM macroblocks.
type pcmDecoder struct {
	sps map[uint32]avcSPS
	pps map[uint32]avcPPS
	// auLen is the size of the access unit being decoded.
	auLen int
}

func newPCMDecoder() *pcmDecoder {
	return &pcmDecoder{sps: map[uint32]avcSPS{}, pps: map[uint32]avcPPS{}}
}

// addParamSet parses an SPS or PPS NAL unit and keeps it for the slices.
func (d *pcmDecoder) addParamSet(nal []byte) error {
	switch nal[0] & 0x1F {
	case nalSPS:
		s, err := parseSPS(nal)
		if err != nil {
			return err
		}
		d.sps[s.id] = s
	case nalPPS:
		p, err := parsePPS(nal)
		if err != nil {
			return err
		}
		d.pps[p.id] = p
	}
	return nil
}

// decodeAccessUnit decodes one MP4 sample (NAL units each preceded by a
// lengthSize-byte length) into a picture.
func (d *pcmDecoder) decodeAccessUnit(au []byte, lengthSize int) (*image.YCbCr, avcSPS, error) {
	var (
		frame *image.YCbCr
		sps   avcSPS
		done  []bool
	)
	d.auLen = len(au)
	for len(au) > 0 {
		if len(au) < lengthSize {
			return nil, sps, errors.New("truncated nal length")
		}
		var n uint64
		for _, b := range au[:lengthSize] {
			n = n<<8 | uint64(b)
		}
		au = au[lengthSize:]
		if n == 0 || n > uint64(len(au)) {
			return nil, sps, fmt.Errorf("nal of %d bytes overruns the sample", n)
		}
		nal := au[:n]
		au = au[n:]
		switch typ := nal[0] & 0x1F; typ {
		case nalSPS, nalPPS:
			if err := d.addParamSet(nal); err != nil {
				return nil, sps, err
			}
		case nalSEI, nalAUD:
		case nalSlice, nalSliceIDR:
			var err error
			if frame, sps, done, err = d.decodeSlice(nal, frame, done); err != nil {
				return nil, sps, err
			}
		default:
			return nil, sps, fmt.Errorf("%w: nal unit type %d", ErrUndecodable, typ)
		}
	}
	if frame == nil {
		return nil, sps, fmt.Errorf("%w: no slice in the first sample", ErrUndecodable)
	}
	for _, ok := range done {
		if !ok {
			return nil, sps, fmt.Errorf("%w: picture has missing macroblocks", ErrUndecodable)
		}
	}
	return frame, sps, nil
}

// decodeSlice parses one I slice of I_PCM macroblocks into frame (made on
// the first slice); done marks the macroblocks decoded so far.
func (d *pcmDecoder) decodeSlice(nal []byte, frame *image.YCbCr, done []bool) (*image.YCbCr, avcSPS, []bool, error) {
	r := &bitReader{buf: unescapeRBSP(nal[1:])}
	idr := nal[0]&0x1F == nalSliceIDR
	refIdc := nal[0] >> 5 & 3
	firstMb := int(r.ue())
	sliceType := r.ue()
	pps, ok := d.pps[r.ue()]
	if !ok {
		return nil, avcSPS{}, nil, errors.New("slice refers to a missing pps")
	}
	sps, ok := d.sps[pps.spsID]
	if !ok {
		return nil, avcSPS{}, nil, errors.New("pps refers to a missing sps")
	}
	switch {
	case sliceType%5 != sliceTypeIOnly:
		return nil, sps, nil, fmt.Errorf("%w: first picture is not intra (slice type %d)", ErrUndecodable, sliceType)
	case pps.cabac:
		return nil, sps, nil, fmt.Errorf("%w: CABAC entropy coding", ErrUndecodable)
	case pps.sliceGroups != 1 || !sps.frameMbsOnly || sps.separateColourPlane:
		return nil, sps, nil, fmt.Errorf("%w: slice groups or interlaced coding", ErrUndecodable)
	case sps.chromaFormat != 1 || sps.bitDepthY != 8 || sps.bitDepthC != 8:
		return nil, sps, nil, fmt.Errorf("%w: not 8-bit 4:2:0", ErrUndecodable)
	}
	r.skip(sps.log2MaxFrameNum) // frame_num
	if idr {
		r.ue() // idr_pic_id
	}
	switch {
	case sps.pocType == 0:
		r.skip(sps.log2MaxPOCLsb)
		if pps.bottomFieldPicOrderPresent {
			r.se() // delta_pic_order_cnt_bottom
		}
	case sps.pocType == 1 && !sps.deltaPicOrderAlwaysZero:
		r.se()
		if pps.bottomFieldPicOrderPresent {
			r.se()
		}
	}
	if pps.redundantPicCntPresent {
		r.ue()
	}
	if refIdc != 0 {
		skipRefPicMarking(r, idr)
	}
	r.se() // slice_qp_delta
	if pps.deblockingControlPresent && r.ue() != 1 {
		r.se() // slice_alpha_c0_offset_div2
		r.se() // slice_beta_offset_div2
	}
	if r.err != nil {
		return nil, sps, nil, fmt.Errorf("slice header: %w", r.err)
	}

	// Every macroblock is 384 bytes of samples, so the picture must fit in
	// the access unit; checked before the frame is made, so an SPS cannot
	// ask for a 16384x16384 picture over a few bytes of slice.
	total := sps.widthMbs * sps.heightMbs
	if int64(total)*384 > int64(d.auLen) || int64(total)*256 > media.MaxImagePixels {
		return nil, sps, nil, fmt.Errorf("%w: a %dx%d-macroblock picture in a %d-byte sample", ErrUndecodable, sps.widthMbs, sps.heightMbs, d.auLen)
	}
	if frame == nil {
		frame = image.NewYCbCr(image.Rect(0, 0, 16*sps.widthMbs, 16*sps.heightMbs), image.YCbCrSubsampleRatio420)
		done = make([]bool, total)
	} else if frame.Rect.Dx() != 16*sps.widthMbs || frame.Rect.Dy() != 16*sps.heightMbs {
		return nil, sps, nil, errors.New("slices of one picture disagree on its size")
	}
	for mb := firstMb; ; mb++ {
		if mb >= total {
			return nil, sps, nil, errors.New("slice runs past the last macroblock")
		}
		if mbType := r.ue(); mbType != mbTypeIPCM {
			if r.err != nil {
				break
			}
			return nil, sps, nil, fmt.Errorf("%w: macroblock type %d is not I_PCM", ErrUndecodable, mbType)
		}
		r.alignByte()
		samples := r.bytes(384)
		if r.err != nil {
			break
		}
		putPCMSamples(frame, mb%sps.widthMbs, mb/sps.widthMbs, samples)
		done[mb] = true
		if !r.moreRBSPData() {
			break
		}
	}
	if r.err != nil {
		return nil, sps, nil, fmt.Errorf("slice data: %w", r.err)
	}
	return frame, sps, done, nil
}

// skipRefPicMarking skips dec_ref_pic_marking() (H.264 7.3.3.3).
func skipRefPicMarking(r *bitReader, idr bool) {
	if idr {
		r.skip(2) // no_output_of_prior_pics_flag, long_term_reference_flag
		return
	}
	if !r.flag() { // adaptive_ref_pic_marking_mode_flag
		return
	}
	for r.err == nil {
		op := r.ue()
		if op == 0 {
			return
		}
		if op == 1 || op == 3 {
			r.ue() // difference_of_pic_nums_minus1
		}
		if op == 2 {
			r.ue() // long_term_pic_num
		}
		if op == 3 || op == 6 {
			r.ue() // long_term_frame_idx
		}
		if op == 4 {
			r.ue() // max_long_term_frame_idx_plus1
		}
	}
}

// putPCMSamples stores one macroblock's 256 luma, 64 Cb and 64 Cr samples
// (the inverse of pcmSamples).
func putPCMSamples(f *image.YCbCr, mx, my int, src []byte) {
	i := 0
	for y := range 16 {
		off := (my*16+y)*f.YStride + mx*16
		i += copy(f.Y[off:off+16], src[i:i+16])
	}
	for _, plane := range [][]byte{f.Cb, f.Cr} {
		for y := range 8 {
			off := (my*8+y)*f.CStride + mx*8
			i += copy(plane[off:off+8], src[i:i+8])
		}
	}
}

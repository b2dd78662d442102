package synth

import "image"

// This file writes a minimal H.264 Constrained Baseline bitstream by hand:
// IDR pictures made only of I_PCM macroblocks (raw samples, no transform),
// and P pictures that either skip every macroblock (repeat the last frame)
// or move each macroblock by a motion vector with no residual (a cheap
// zoom). That is enough for any decoder to play a still or slowly zooming
// picture without an encoder library.

const (
	nalSlice    = 1 // coded slice of a non-IDR picture
	nalSliceIDR = 5
	nalSPS      = 7
	nalPPS      = 8

	profileBaseline  = 66
	constraintFlags  = 0xC0 // constraint_set0 and set1: Constrained Baseline
	log2MaxFrameNum  = 16
	mbTypeIPCM       = 25 // mb_type of I_PCM in an I slice
	sliceTypeP       = 5  // P, and every slice of the picture is P
	sliceTypeI       = 7  // I, and every slice of the picture is I
	noDeblockingIdc  = 1  // disable_deblocking_filter_idc: off for all edges
	refIdcParamsIDR  = 3
	refIdcPredictive = 2
)

// h264Stream holds the fixed parameters of one coded video sequence.
type h264Stream struct {
	widthMbs, heightMbs int
	fps                 int
	level               byte
}

func newH264Stream(width, height, fps int) h264Stream {
	s := h264Stream{widthMbs: width / 16, heightMbs: height / 16, fps: fps}
	s.level = pickLevel(s.widthMbs*s.heightMbs, fps)
	return s
}

// pickLevel returns the lowest level (never below 3.1, which every browser
// plays) whose frame size and macroblock rate limits fit the stream.
func pickLevel(frameMbs, fps int) byte {
	levels := []struct {
		idc        byte
		maxFS, mbs int
	}{
		{31, 3600, 108000}, {32, 5120, 216000}, {40, 8192, 245760},
		{42, 8704, 522240}, {50, 22080, 589824}, {51, 36864, 983040},
	}
	for _, l := range levels {
		if frameMbs <= l.maxFS && frameMbs*fps <= l.mbs {
			return l.idc
		}
	}
	return 52
}

// sps returns the sequence parameter set NAL unit.
func (s h264Stream) sps() []byte {
	var w bitWriter
	w.u(8, profileBaseline)
	w.u(8, constraintFlags)
	w.u(8, uint64(s.level))
	w.ue(0)                   // seq_parameter_set_id
	w.ue(log2MaxFrameNum - 4) // log2_max_frame_num_minus4
	w.ue(2)                   // pic_order_cnt_type: output order = decode order
	w.ue(1)                   // max_num_ref_frames
	w.flag(false)             // gaps_in_frame_num_value_allowed_flag
	w.ue(uint32(s.widthMbs - 1))
	w.ue(uint32(s.heightMbs - 1))
	w.flag(true)  // frame_mbs_only_flag
	w.flag(true)  // direct_8x8_inference_flag
	w.flag(false) // frame_cropping_flag: sizes are multiples of 16
	w.flag(true)  // vui_parameters_present_flag
	s.vui(&w)
	return nalUnit(refIdcParamsIDR, nalSPS, w.trailing())
}

// vui tells players the colour space (BT.601 limited range, which is what
// the samples are converted to), the frame rate, and that no frame is ever
// reordered, so they can show each frame as soon as it is decoded.
func (s h264Stream) vui(w *bitWriter) {
	w.flag(true) // aspect_ratio_info_present_flag
	w.u(8, 1)    // aspect_ratio_idc: 1:1 square samples
	w.flag(false)
	w.flag(true) // video_signal_type_present_flag
	w.u(3, 5)    // video_format: unspecified
	w.flag(false)
	w.flag(true) // colour_description_present_flag
	w.u(8, 6)    // colour_primaries: SMPTE 170M
	w.u(8, 6)    // transfer_characteristics: SMPTE 170M
	w.u(8, 6)    // matrix_coefficients: BT.601
	w.flag(false)
	w.flag(true) // timing_info_present_flag
	w.u(32, 1)   // num_units_in_tick
	w.u(32, uint64(2*s.fps))
	w.flag(false) // fixed_frame_rate_flag: the last frame may be shorter
	w.flag(false) // nal_hrd_parameters_present_flag
	w.flag(false) // vcl_hrd_parameters_present_flag
	w.flag(false) // pic_struct_present_flag
	w.flag(true)  // bitstream_restriction_flag
	w.flag(true)  // motion_vectors_over_pic_boundaries_flag
	w.ue(0)       // max_bytes_per_pic_denom
	w.ue(0)       // max_bits_per_mb_denom
	w.ue(15)      // log2_max_mv_length_horizontal
	w.ue(15)      // log2_max_mv_length_vertical
	w.ue(0)       // max_num_reorder_frames
	w.ue(1)       // max_dec_frame_buffering
}

// pps returns the picture parameter set NAL unit.
func (s h264Stream) pps() []byte {
	var w bitWriter
	w.ue(0)       // pic_parameter_set_id
	w.ue(0)       // seq_parameter_set_id
	w.flag(false) // entropy_coding_mode_flag: CAVLC
	w.flag(false) // bottom_field_pic_order_in_frame_present_flag
	w.ue(0)       // num_slice_groups_minus1
	w.ue(0)       // num_ref_idx_l0_default_active_minus1
	w.ue(0)       // num_ref_idx_l1_default_active_minus1
	w.flag(false) // weighted_pred_flag
	w.u(2, 0)     // weighted_bipred_idc
	w.se(0)       // pic_init_qp_minus26
	w.se(0)       // pic_init_qs_minus26
	w.se(0)       // chroma_qp_index_offset
	w.flag(true)  // deblocking_filter_control_present_flag
	w.flag(false) // constrained_intra_pred_flag
	w.flag(false) // redundant_pic_cnt_present_flag
	return nalUnit(refIdcParamsIDR, nalPPS, w.trailing())
}

// sliceHeader writes the header shared by the IDR and P slices. frameNum
// counts reference pictures since the last IDR.
func (s h264Stream) sliceHeader(w *bitWriter, idr bool, frameNum, idrID int) {
	w.ue(0) // first_mb_in_slice
	if idr {
		w.ue(sliceTypeI)
	} else {
		w.ue(sliceTypeP)
	}
	w.ue(0) // pic_parameter_set_id
	w.u(log2MaxFrameNum, uint64(frameNum%(1<<log2MaxFrameNum)))
	if idr {
		w.ue(uint32(idrID % 65536)) // idr_pic_id: consecutive IDRs differ
	} else {
		w.flag(false) // num_ref_idx_active_override_flag
		w.flag(false) // ref_pic_list_modification_flag_l0
	}
	// dec_ref_pic_marking: every picture is a reference picture.
	if idr {
		w.flag(false) // no_output_of_prior_pics_flag
		w.flag(false) // long_term_reference_flag
	} else {
		w.flag(false) // adaptive_ref_pic_marking_mode_flag: sliding window
	}
	w.se(0)               // slice_qp_delta
	w.ue(noDeblockingIdc) // disable_deblocking_filter_idc
}

// idrPicture codes frame (4:2:0, dimensions of the stream) as an IDR access
// unit made only of I_PCM macroblocks.
func (s h264Stream) idrPicture(frame *image.YCbCr, idrID int) []byte {
	var w bitWriter
	w.buf = make([]byte, 0, s.widthMbs*s.heightMbs*(384+1)+16)
	s.sliceHeader(&w, true, 0, idrID)
	mb := make([]byte, 384)
	for my := range s.heightMbs {
		for mx := range s.widthMbs {
			w.ue(mbTypeIPCM)
			w.alignZero() // pcm_alignment_zero_bit
			pcmSamples(frame, mx, my, mb)
			w.appendBytes(mb)
		}
	}
	return nalUnit(refIdcParamsIDR, nalSliceIDR, w.trailing())
}

// pcmSamples copies one macroblock's 256 luma, 64 Cb and 64 Cr samples.
func pcmSamples(f *image.YCbCr, mx, my int, dst []byte) {
	i := 0
	for y := range 16 {
		off := (my*16+y)*f.YStride + mx*16
		i += copy(dst[i:], f.Y[off:off+16])
	}
	for _, plane := range [][]byte{f.Cb, f.Cr} {
		for y := range 8 {
			off := (my*8+y)*f.CStride + mx*8
			i += copy(dst[i:], plane[off:off+8])
		}
	}
}

// skipPicture codes a P access unit that repeats the previous frame: one
// mb_skip_run covering every macroblock (skipped macroblocks with no coded
// neighbours predict a zero motion vector).
func (s h264Stream) skipPicture(frameNum int) []byte {
	var w bitWriter
	s.sliceHeader(&w, false, frameNum, 0)
	w.ue(uint32(s.widthMbs * s.heightMbs)) // mb_skip_run
	return nalUnit(refIdcPredictive, nalSlice, w.trailing())
}

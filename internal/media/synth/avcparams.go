package synth

import "fmt"

// This file parses just enough of H.264 parameter sets to decode the
// I_PCM pictures WriteMP4 produces (see avcpcm.go). Anything the PCM
// decoder cannot handle (interlacing, 4:2:2, high bit depth, CABAC, slice
// groups) is reported as ErrUndecodable.

// avcSPS holds the sequence parameter set fields the PCM decoder needs.
type avcSPS struct {
	id                      uint32
	log2MaxFrameNum         int
	pocType                 uint32
	log2MaxPOCLsb           int
	deltaPicOrderAlwaysZero bool
	widthMbs, heightMbs     int
	cropLeft, cropRight     int // in luma samples
	cropTop, cropBottom     int
	fullRange               bool
	matrix                  uint32 // matrix_coefficients; 2 when not given
	separateColourPlane     bool
	chromaFormat, bitDepthY uint32
	bitDepthC               uint32
	frameMbsOnly            bool
}

// avcPPS holds the picture parameter set fields the PCM decoder needs.
type avcPPS struct {
	id, spsID                  uint32
	cabac                      bool
	bottomFieldPicOrderPresent bool
	sliceGroups                uint32
	deblockingControlPresent   bool
	redundantPicCntPresent     bool
}

// highProfiles lists the profile_idc values whose SPS carries chroma
// format and bit depth fields (H.264 7.3.2.1.1).
var highProfiles = map[uint32]bool{100: true, 110: true, 122: true, 244: true, 44: true,
	83: true, 86: true, 118: true, 128: true, 138: true, 139: true, 134: true, 135: true}

// parseSPS parses a sequence parameter set NAL unit (header byte included).
func parseSPS(nal []byte) (avcSPS, error) {
	r := &bitReader{buf: unescapeRBSP(nal[1:])}
	s := avcSPS{chromaFormat: 1, bitDepthY: 8, bitDepthC: 8, matrix: 2}
	profile := r.u(8)
	r.skip(16) // constraint flags, level_idc
	s.id = r.ue()
	if highProfiles[profile] {
		s.chromaFormat = r.ue()
		if s.chromaFormat == 3 {
			s.separateColourPlane = r.flag()
		}
		s.bitDepthY = r.ue() + 8
		s.bitDepthC = r.ue() + 8
		r.skip(1)     // qpprime_y_zero_transform_bypass_flag
		if r.flag() { // seq_scaling_matrix_present_flag
			lists := 8
			if s.chromaFormat == 3 {
				lists = 12
			}
			for i := range lists {
				size := 64
				if i < 6 {
					size = 16
				}
				if r.flag() {
					skipScalingList(r, size)
				}
			}
		}
	}
	s.log2MaxFrameNum = int(r.ue()) + 4
	s.pocType = r.ue()
	switch s.pocType {
	case 0:
		s.log2MaxPOCLsb = int(r.ue()) + 4
	case 1:
		s.deltaPicOrderAlwaysZero = r.flag()
		r.se() // offset_for_non_ref_pic
		r.se() // offset_for_top_to_bottom_field
		n := r.ue()
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.se()
		}
	}
	r.ue()    // max_num_ref_frames
	r.skip(1) // gaps_in_frame_num_value_allowed_flag
	s.widthMbs = int(r.ue()) + 1
	s.heightMbs = int(r.ue()) + 1 // map units; frames only, checked below
	s.frameMbsOnly = r.flag()
	if !s.frameMbsOnly {
		r.skip(1) // mb_adaptive_frame_field_flag
	}
	r.skip(1)     // direct_8x8_inference_flag
	if r.flag() { // frame_cropping_flag; 4:2:0 frames crop in 2-sample units
		s.cropLeft, s.cropRight = 2*int(r.ue()), 2*int(r.ue())
		s.cropTop, s.cropBottom = 2*int(r.ue()), 2*int(r.ue())
	}
	if r.flag() { // vui_parameters_present_flag
		parseVUIColour(r, &s)
	}
	if r.err != nil {
		return s, fmt.Errorf("parse sps: %w", r.err)
	}
	if s.widthMbs > 1024 || s.heightMbs > 1024 {
		return s, fmt.Errorf("parse sps: %dx%d macroblocks is too large", s.widthMbs, s.heightMbs)
	}
	return s, nil
}

// parseVUIColour reads the VUI fields up to the colour description: the
// sample range and the YCbCr matrix decide how samples become RGB.
func parseVUIColour(r *bitReader, s *avcSPS) {
	if r.flag() { // aspect_ratio_info_present_flag
		if r.u(8) == 255 { // Extended_SAR
			r.skip(32)
		}
	}
	if r.flag() { // overscan_info_present_flag
		r.skip(1)
	}
	if r.flag() { // video_signal_type_present_flag
		r.skip(3) // video_format
		s.fullRange = r.flag()
		if r.flag() { // colour_description_present_flag
			r.skip(16) // colour_primaries, transfer_characteristics
			s.matrix = r.u(8)
		}
	}
}

func skipScalingList(r *bitReader, size int) {
	last, next := int32(8), int32(8)
	for range size {
		if next != 0 {
			next = (last + r.se() + 256) % 256
		}
		if next != 0 {
			last = next
		}
		if r.err != nil {
			return
		}
	}
}

// parsePPS parses a picture parameter set NAL unit (header byte included).
func parsePPS(nal []byte) (avcPPS, error) {
	r := &bitReader{buf: unescapeRBSP(nal[1:])}
	var p avcPPS
	p.id = r.ue()
	p.spsID = r.ue()
	p.cabac = r.flag()
	p.bottomFieldPicOrderPresent = r.flag()
	p.sliceGroups = r.ue() + 1
	if p.sliceGroups == 1 {
		r.ue()    // num_ref_idx_l0_default_active_minus1
		r.ue()    // num_ref_idx_l1_default_active_minus1
		r.skip(3) // weighted_pred_flag, weighted_bipred_idc
		r.se()    // pic_init_qp_minus26
		r.se()    // pic_init_qs_minus26
		r.se()    // chroma_qp_index_offset
		p.deblockingControlPresent = r.flag()
		r.skip(1) // constrained_intra_pred_flag
		p.redundantPicCntPresent = r.flag()
	}
	if r.err != nil {
		return p, fmt.Errorf("parse pps: %w", r.err)
	}
	return p, nil
}

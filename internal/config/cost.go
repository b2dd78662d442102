package config

// DefaultCosts is the credit cost table. workflows.md gives figures only for
// the enhance-style capabilities; the rest are Lepus's defaults, scaled to
// the provider work they buy (an image ≈ 4, a 5 s video ≈ 10). Keys are task
// types, plus "<type>_video" add-ons and per-unit prices named in the
// workflow that uses them.
func DefaultCosts() map[string]int {
	return map[string]int{
		"face_swap":           4,  // one omni-image
		"face_swap_video":     10, // optional 5 s omni-video step
		"face_swap_video_10s": 20,
	}
}

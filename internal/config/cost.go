package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// DefaultCosts is the credit cost table. workflows.md gives figures only for
// the enhance-style capabilities; the rest are Lepus's defaults, scaled to
// the provider work they buy (an image ≈ 2–4, a 5 s video ≈ 10). Keys are
// named by the workflows (workflow.Definition.CostKeys); every key a
// workflow names must be here.
func DefaultCosts() map[string]int {
	return map[string]int{
		"face_swap":                4,  // one omni-image
		"face_swap_video":          10, // optional 5 s omni-video step
		"face_swap_video_10s":      20, // optional 10 s omni-video step
		"image_to_video":           10, // per 5 s of video
		"text_to_video":            10, // per 5 s of video
		"multi_image_to_video":     10, // per 5 s of video
		"lip_sync":                 10,
		"motion_control":           15,
		"video_extend":             8,
		"image_generation":         2,  // per image
		"omni_image":               3,  // per image
		"skin_enhance":             3,  // workflows.md §10a
		"relight":                  8,  // §10b (Stability charges 8 of its credits)
		"outfit_swap":              5,  // §10c
		"ai_stylist":               5,  // §10d
		"outfit_shot":              8,  // §10e, per variation
		"outfit_shot_4":            24, // §10e, four variations
		"avatar_confirm_portraits": 10, // four candidate portraits
		"avatar_angle":             2,  // per reference angle
	}
}

// checkCostKeys refuses a LEPUS_COSTS key that is not in the cost table: a
// misspelt key ("faceswap=2") would otherwise change nothing, silently.
func checkCostKeys(costs map[string]int) error {
	valid := DefaultCosts()
	var unknown []string
	for k := range costs {
		if _, ok := valid[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	keys := make([]string, 0, len(valid))
	for k := range valid {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	noun := "key"
	if len(unknown) > 1 {
		noun = "keys"
	}
	return fmt.Errorf("LEPUS_COSTS: unknown %s %s; valid keys: %s",
		noun, quoteAll(unknown), strings.Join(keys, ", "))
}

// quoteAll quotes and joins keys as they appear in an error message.
func quoteAll(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = strconv.Quote(k)
	}
	return strings.Join(q, ", ")
}

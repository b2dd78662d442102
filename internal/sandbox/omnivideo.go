package sandbox

import (
	"cmp"
	"strconv"
)

// omniVideoBody is the request of POST /v1/videos/omni-video (kling-api.md §5.7).
type omniVideoBody struct {
	ModelName string `json:"model_name"`
	Prompt    string `json:"prompt"`
	ImageList []struct {
		ImageURL string `json:"image_url"`
		Type     string `json:"type"`
	} `json:"image_list"`
	ElementList []struct {
		ElementID int64 `json:"element_id"`
	} `json:"element_list"`
	VideoList []struct {
		VideoURL          string `json:"video_url"`
		ReferType         string `json:"refer_type"`
		KeepOriginalSound string `json:"keep_original_sound"`
	} `json:"video_list"`
	Mode        string `json:"mode"`
	AspectRatio string `json:"aspect_ratio"`
	Duration    string `json:"duration"`
	Sound       string `json:"sound"`
	common
}

// videoCanvasSide is the long side of a video made without an input frame.
const videoCanvasSide = 1280

func omniVideoEndpoint() *endpoint {
	return &endpoint{path: "/v1/videos/omni-video", video: true, validate: validateOmniVideo}
}

func validateOmniVideo(body []byte) (*spec, *apiError) {
	var b omniVideoBody
	if e := decodeStrict(body, &b); e != nil {
		return nil, e
	}
	model := cmp.Or(b.ModelName, "kling-video-o1")
	if e := oneOf("model_name", model, "kling-video-o1", "kling-v3-omni"); e != nil {
		return nil, e
	}
	o1 := model == "kling-video-o1"
	if e := checkPrompt("prompt", b.Prompt, true); e != nil {
		return nil, e
	}
	for _, c := range []struct {
		field, v string
		allowed  []string
	}{
		{"mode", b.Mode, []string{"std", "pro"}},
		{"sound", b.Sound, []string{"on", "off"}},
		{"aspect_ratio", b.AspectRatio, []string{"16:9", "9:16", "1:1"}},
	} {
		if c.v != "" {
			if e := oneOf(c.field, c.v, c.allowed...); e != nil {
				return nil, e
			}
		}
	}
	editBase, e := b.checkVideos()
	if e != nil {
		return nil, e
	}
	sp := &spec{cost: 1}
	first, e := b.checkImages(o1, sp)
	if e != nil {
		return nil, e
	}
	if e := checkRefs(b.Prompt, map[string]int{"image": len(b.ImageList), "element": len(b.ElementList), "video": len(b.VideoList)}); e != nil {
		return nil, e
	}
	if b.AspectRatio == "" && first < 0 && !editBase {
		return nil, invalidf("aspect_ratio is required unless a first_frame or a base video is given")
	}
	textOnly := len(b.ImageList) == 0 && len(b.ElementList) == 0 && len(b.VideoList) == 0
	secs, e := videoDuration(b.Duration, model, o1 && (textOnly || first >= 0))
	if e != nil {
		return nil, e
	}
	if e := b.common.check(); e != nil {
		return nil, e
	}
	b.common.apply(sp)

	r := &frameVideo{seconds: float64(secs), aspect: b.AspectRatio, prompt: b.Prompt}
	switch {
	case first >= 0:
		r.frame = b.ImageList[first].ImageURL
	case len(b.ImageList) > 0:
		r.frame = b.ImageList[0].ImageURL
	}
	sp.model = model
	sp.outputs = []output{{ext: "mp4", duration: strconv.Itoa(secs)}}
	sp.render = r.render
	return sp, nil
}

// checkVideos checks the reference video list and reports whether it is a
// video to edit (refer_type base), whose length the output follows.
func (b *omniVideoBody) checkVideos() (editBase bool, _ *apiError) {
	if len(b.VideoList) > 1 {
		return false, invalidf("video_list may hold at most 1 video, got %d", len(b.VideoList))
	}
	for i, v := range b.VideoList {
		if e := checkSource(fieldf("video_list[%d].video_url", i), v.VideoURL); e != nil {
			return false, e
		}
		if v.ReferType != "" {
			if e := oneOf(fieldf("video_list[%d].refer_type", i), v.ReferType, "base", "feature"); e != nil {
				return false, e
			}
		}
		if v.KeepOriginalSound != "" {
			if e := oneOf(fieldf("video_list[%d].keep_original_sound", i), v.KeepOriginalSound, "yes", "no"); e != nil {
				return false, e
			}
		}
		editBase = v.ReferType == "base"
	}
	if len(b.VideoList) > 0 && b.Sound == "on" {
		return false, invalidf("sound must be off when video_list is set")
	}
	return editBase, nil
}

// checkImages checks image_list and its frame types, adds the images to sp
// for fetching, and returns the index of the first frame (-1 if none).
func (b *omniVideoBody) checkImages(o1 bool, sp *spec) (first int, _ *apiError) {
	limit := 7
	if len(b.VideoList) > 0 {
		limit = 4
	}
	if n := len(b.ImageList) + len(b.ElementList); n > limit {
		return -1, invalidf("image_list and element_list may hold at most %d entries together here, got %d", limit, n)
	}
	first, end := -1, -1
	for i, im := range b.ImageList {
		field := fieldf("image_list[%d].image_url", i)
		if e := checkSource(field, im.ImageURL); e != nil {
			return -1, e
		}
		if im.Type != "" {
			if e := oneOf(fieldf("image_list[%d].type", i), im.Type, "first_frame", "end_frame"); e != nil {
				return -1, e
			}
		}
		switch {
		case im.Type == "first_frame" && first >= 0, im.Type == "end_frame" && end >= 0:
			return -1, invalidf("image_list may hold only one %s", im.Type)
		case im.Type == "first_frame":
			first = i
		case im.Type == "end_frame":
			end = i
		}
		sp.images = append(sp.images, imageInput{field: field, source: im.ImageURL})
	}
	if end >= 0 && first < 0 {
		return -1, invalidf("image_list: an end_frame requires a first_frame")
	}
	if o1 && first >= 0 && len(b.ImageList) > 2 {
		return -1, invalidf("kling-video-o1 cannot set start/end frames with more than 2 images")
	}
	return first, nil
}

// videoDuration parses duration (default "5"): whole seconds as a string,
// 3–10 for O1 and 3–15 for v3-omni; fiveOrTen narrows O1 text-only and
// first-frame tasks to 5 or 10.
func videoDuration(d, model string, fiveOrTen bool) (int, *apiError) {
	d = cmp.Or(d, "5")
	maxSecs := 15
	if model == "kling-video-o1" {
		maxSecs = 10
	}
	secs, err := strconv.Atoi(d)
	if err != nil || secs < 3 || secs > maxSecs {
		return 0, invalidf("duration must be a string from \"3\" to \"%d\" for %s, got %q", maxSecs, model, d)
	}
	if fiveOrTen && secs != 5 && secs != 10 {
		return 0, invalidf("duration must be \"5\" or \"10\" for kling-video-o1 text-only or first-frame tasks, got %q", d)
	}
	return secs, nil
}

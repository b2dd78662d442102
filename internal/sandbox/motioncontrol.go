package sandbox

import (
	"cmp"
	"context"
)

// motionControlBody is the request of POST /v1/videos/motion-control
// (kling-api.md §5.5). The image key is image_url, and there is no duration
// or aspect_ratio: the output follows the motion video (contract decision
// #7); the strict decoder refuses them.
type motionControlBody struct {
	ModelName            string `json:"model_name"`
	ImageURL             string `json:"image_url"`
	VideoURL             string `json:"video_url"`
	CharacterOrientation string `json:"character_orientation"`
	Mode                 string `json:"mode"`
	Prompt               string `json:"prompt"`
	KeepOriginalSound    string `json:"keep_original_sound"`
	ElementList          []struct {
		ElementID int64 `json:"element_id"`
	} `json:"element_list"`
	common
}

// Motion-control input limits: the image may be up to 65536 px a side; the
// motion video 340–3850 px, 3–10 s with the image's orientation or 3–30 s
// with the video's.
const (
	motionImageMaxSide = 65536
	motionVideoMinSide = 340
	motionVideoMaxSide = 3850
)

func motionControlEndpoint() *endpoint {
	return &endpoint{path: "/v1/videos/motion-control", video: true, validate: validateMotionControl}
}

func validateMotionControl(body []byte) (*spec, *apiError) {
	var b motionControlBody
	if e := decodeStrict(body, &b); e != nil {
		return nil, e
	}
	model := cmp.Or(b.ModelName, "kling-v2-6")
	if e := oneOf("model_name", model, "kling-v2-6", "kling-v3"); e != nil {
		return nil, e
	}
	if b.ImageURL == "" {
		return nil, invalidf("image_url is required")
	}
	if e := checkSource("image_url", b.ImageURL); e != nil {
		return nil, e
	}
	if b.VideoURL == "" {
		return nil, invalidf("video_url is required")
	}
	if b.CharacterOrientation == "" {
		return nil, invalidf("character_orientation is required")
	}
	if e := oneOf("character_orientation", b.CharacterOrientation, "image", "video"); e != nil {
		return nil, e
	}
	if b.Mode == "" {
		return nil, invalidf("mode is required")
	}
	if e := oneOf("mode", b.Mode, "std", "pro"); e != nil {
		return nil, e
	}
	if e := checkPrompt("prompt", b.Prompt, false); e != nil {
		return nil, e
	}
	if b.KeepOriginalSound != "" {
		if e := oneOf("keep_original_sound", b.KeepOriginalSound, "yes", "no"); e != nil {
			return nil, e
		}
	}
	if len(b.ElementList) > 0 && model != "kling-v3" {
		return nil, invalidf("element_list is not supported by %s", model)
	}
	if len(b.ElementList) > 1 {
		return nil, invalidf("element_list may hold at most 1 element, got %d", len(b.ElementList))
	}
	if e := b.common.check(); e != nil {
		return nil, e
	}
	sp := &spec{cost: 1, model: model}
	b.common.apply(sp)
	sp.images = []imageInput{{field: "image_url", source: b.ImageURL, maxSide: motionImageMaxSide}}
	sp.outputs = []output{{ext: "mp4"}}
	r := &frameVideo{frame: b.ImageURL, prompt: b.Prompt}
	sp.render = r.render
	maxSecs := 10.0
	if b.CharacterOrientation == "video" {
		maxSecs = 30
	}
	sp.checks = append(sp.checks, func(ctx context.Context, s *Sandbox) *apiError {
		in, e := s.inputVideo(ctx, "video_url", b.VideoURL, videoLimits{
			minSecs: 3, maxSecs: maxSecs, minSide: motionVideoMinSide, maxSide: motionVideoMaxSide,
			what: fieldf("video_url (character_orientation %s)", b.CharacterOrientation),
		})
		if e != nil {
			return e
		}
		sp.facts.Seconds = in.seconds
		return sp.apply(s)
	})
	sp.apply = func(*Sandbox) *apiError {
		// The output lasts as long as the motion video.
		r.seconds = sp.facts.Seconds
		sp.outputs[0].duration = formatSeconds(sp.facts.Seconds)
		return nil
	}
	return sp, nil
}

package workflow

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// OmniImageRequest is the body of POST /kling/omni-image (workflows.md §9,
// contract-decisions #1).
type OmniImageRequest struct {
	Prompt      string   `json:"prompt" minLength:"1" maxLength:"2500" doc:"Refer to the images as <<<image_1>>>, <<<image_2>>>, … in the order of image_urls."`
	ImageURLs   []string `json:"image_urls,omitempty" maxItems:"10" doc:"Reference images; images plus elements at most 10."`
	ElementIDs  []int64  `json:"element_ids,omitempty" maxItems:"10" doc:"Kling element library ids, referred to as <<<element_N>>>."`
	N           int      `json:"n,omitempty" minimum:"1" maximum:"9" default:"1"`
	Resolution  string   `json:"resolution,omitempty" enum:"1k,2k" default:"2k"`
	AspectRatio string   `json:"aspect_ratio,omitempty" enum:"16:9,9:16,1:1,4:3,3:4,3:2,2:3,21:9,auto" default:"auto"`
	AvatarID    string   `json:"avatar_id,omitempty" maxLength:"64" doc:"Append one of your digital avatars' portraits (the confirmed one and each finished angle) to the images, up to 10 images and elements."`
}

var omniRef = regexp.MustCompile(`<<<(image|element)_(\d+)>>>`)

// Normalize applies the defaults of workflows.md §9 and checks the prompt's
// references against the inputs.
func (r *OmniImageRequest) Normalize() error {
	r.Resolution = cmp.Or(r.Resolution, "2k")
	r.AspectRatio = cmp.Or(r.AspectRatio, "auto")
	if r.N == 0 {
		r.N = 1
	}
	switch {
	case r.N < 1 || r.N > 9:
		return lepus.FieldErrorf("body.n", "is %d; give 1 to 9", r.N)
	case len(r.ImageURLs)+len(r.ElementIDs) > 10:
		return lepus.FieldErrorf("body.image_urls", "%d images and %d elements; at most 10 together", len(r.ImageURLs), len(r.ElementIDs))
	}
	if r.AvatarID == "" { // else checked once the avatar's portraits are added
		if err := r.checkRefs(); err != nil {
			return err
		}
	}
	return firstErr(
		oneOf("body.resolution", r.Resolution, "1k", "2k"),
		checkPrompt("body.prompt", r.Prompt),
	)
}

// checkRefs refuses a <<<image_N>>> or <<<element_N>>> past the inputs.
func (r *OmniImageRequest) checkRefs() error {
	counts := map[string]int{"image": len(r.ImageURLs), "element": len(r.ElementIDs)}
	for _, m := range omniRef.FindAllStringSubmatch(r.Prompt, -1) {
		n, _ := strconv.Atoi(m[2])
		if n < 1 || n > counts[m[1]] {
			return lepus.FieldErrorf("body.prompt", "refers to %s but only %d %s(s) are given", m[0], counts[m[1]], m[1])
		}
	}
	return nil
}

// Images lists every image.
func (r *OmniImageRequest) Images() []ImageInput {
	in := make([]ImageInput, len(r.ImageURLs))
	for i := range r.ImageURLs {
		in[i] = ImageInput{Field: fmt.Sprintf("body.image_urls[%d]", i), URL: &r.ImageURLs[i]}
	}
	return in
}

// check appends the avatar's portraits to the images (workflows.md §9).
func (r *OmniImageRequest) check(ctx context.Context, userID string, in Inputs) ([]string, error) {
	if r.AvatarID == "" {
		return nil, nil
	}
	refs, err := in.Avatar(ctx, userID, r.AvatarID)
	if err != nil {
		return nil, lepus.FieldErrorf("body.avatar_id", "%s", lepus.ErrorMessage(err))
	}
	urls := []string{refs.Portrait}
	for _, a := range refs.Angles {
		urls = append(urls, a.URL)
	}
	room := 10 - len(r.ImageURLs) - len(r.ElementIDs)
	if room <= 0 {
		return nil, lepus.FieldErrorf("body.avatar_id", "no room for the avatar's portraits: images and elements already make 10")
	}
	first := len(r.ImageURLs) + 1
	added := urls[:min(room, len(urls))]
	r.ImageURLs = append(r.ImageURLs, added...)
	note := fmt.Sprintf("avatar %s: %d portrait(s) appended as <<<image_%d>>> to <<<image_%d>>>", r.AvatarID, len(added), first, first+len(added)-1)
	if len(added) < len(urls) {
		note += fmt.Sprintf("; %d left out by the 10-image limit", len(urls)-len(added))
	}
	if err := r.checkRefs(); err != nil {
		return nil, err
	}
	return []string{note}, nil
}

func omniImage() *Definition {
	return &Definition{
		Type:       "omni_image",
		Routes:     []Route{{Path: "/kling/omni-image", Summary: "Generate images from a prompt that refers to input images as <<<image_N>>>"}},
		Policy:     Policy{MaxRetries: 3, PollInterval: 5 * time.Second, MaxPolls: 60},
		NewRequest: func() Request { return &OmniImageRequest{} },
		Check: func(ctx context.Context, userID string, req Request, in Inputs) ([]string, error) {
			return req.(*OmniImageRequest).check(ctx, userID, in)
		},
		Plan: func(req Request) []lepus.Stage {
			return []lepus.Stage{klingStage("image", kling.PathOmniImage, PoolKlingImage, req.(*OmniImageRequest).N)}
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[OmniImageRequest](t)
			if err != nil {
				return nil, err
			}
			b := kling.OmniImageRequest{
				ModelName: OmniImageModel, Prompt: r.Prompt, N: r.N, Resolution: r.Resolution,
				AspectRatio: r.AspectRatio, CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID,
			}
			for _, u := range r.ImageURLs {
				b.ImageList = append(b.ImageList, kling.OmniImage{Image: u})
			}
			for _, id := range r.ElementIDs {
				b.ElementList = append(b.ElementList, kling.Element{ElementID: id})
			}
			return b, nil
		},
		Costs: map[string]int{"omni_image": 3}, // per image
		Cost: func(req Request, costs map[string]int) int {
			return costs["omni_image"] * req.(*OmniImageRequest).N
		},
	}
}

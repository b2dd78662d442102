package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// endpoint is one Kling create path. Adding an endpoint is one file with a
// validator and a result maker, plus a line in registry.
type endpoint struct {
	path string
	// video selects VideoLatency instead of ImageLatency, and the video
	// concurrency pool.
	video bool
	// validate decodes and checks a create body. It must not fetch inputs:
	// it lists them in spec.images and the caller checks them after the
	// cheap admission checks.
	validate func(body []byte) (*spec, *apiError)

	tasks []*task // in creation order; guarded by Sandbox.mu
}

// registry lists the endpoints the sandbox serves.
func registry() []*endpoint {
	return []*endpoint{
		omniImageEndpoint(), omniVideoEndpoint(), imageGenerationEndpoint(),
		text2VideoEndpoint(), image2VideoEndpoint(), multiImage2VideoEndpoint(),
		lipSyncEndpoint(), motionControlEndpoint(), videoExtendEndpoint(),
	}
}

// spec is what a validator accepted: everything the sandbox needs to run the
// task and later render its results.
type spec struct {
	externalID  string
	callbackURL string
	watermark   bool
	// cost is the concurrency slots the task holds (n for image tasks).
	cost int
	// model is the model that makes the task (its default applied); it is
	// remembered with every video produced, since video-extend accepts
	// only some models' videos.
	model string
	// images are the inputs to fetch and check like Kling does.
	images []imageInput
	// checks run after images, with the request's context: fetches of
	// videos and audio, and lookups of sandbox state (produced videos,
	// face sessions). They may complete the spec, e.g. set an output's
	// length from an input video's.
	checks []func(ctx context.Context, s *Sandbox) *apiError
	// facts are what checks learned from fetches and from the sandbox's
	// state. They are saved with the task, and apply sets from them
	// whatever checks set, so a restarted sandbox rebuilds the spec from
	// the create body and the facts without fetching anything (restore.go).
	facts facts
	apply func(s *Sandbox) *apiError
	// parent is task_info.parent_video (video-extend and lip sync).
	parent *videoView
	// outputs describe the results, one URL each.
	outputs []output
	// render makes result index; called lazily on the first CDN download.
	render func(ctx context.Context, s *Sandbox, index int) ([]byte, error)
}

// facts are the results of a task's checks that its spec depends on.
type facts struct {
	// Seconds is the length of motion control's motion video.
	Seconds float64 `json:"seconds,omitempty"`
	// VideoID is the produced video a video-extend or lip-sync task works
	// on; VideoURL the fetched video of a lip-sync session, instead.
	VideoID  string `json:"video_id,omitempty"`
	VideoURL string `json:"video_url,omitempty"`
	// Millis is the length of a lip-sync session's video.
	Millis int64 `json:"millis,omitempty"`
}

// imageInput is one image source (URL or raw base64) and the field it came
// from, for error messages.
type imageInput struct {
	field, source string
	// maxSide, when set, bounds both sides (motion control: 65536 px).
	maxSide int
}

// output is one result file.
type output struct {
	ext      string // "png" or "mp4"
	series   bool   // listed under series_images instead of images
	duration string // videos only, seconds
}

// common holds the optional fields every async create takes (§2.3).
type common struct {
	WatermarkInfo *struct {
		Enabled bool `json:"enabled"`
	} `json:"watermark_info"`
	CallbackURL    string `json:"callback_url"`
	ExternalTaskID string `json:"external_task_id"`
}

func (c common) check() *apiError {
	if c.CallbackURL != "" {
		u, err := url.Parse(c.CallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalidf("callback_url must be an absolute http(s) URL")
		}
	}
	if len(c.ExternalTaskID) > 256 {
		return invalidf("external_task_id must be at most 256 characters")
	}
	return nil
}

func (c common) apply(sp *spec) {
	sp.externalID = c.ExternalTaskID
	sp.callbackURL = c.CallbackURL
	sp.watermark = c.WatermarkInfo != nil && c.WatermarkInfo.Enabled
}

// decodeStrict decodes body into v, refusing unknown fields and wrong types
// with a 1201 naming the field, as Kling does for a bad key or value.
func decodeStrict(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after JSON object")
	}
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return invalidf("%s must be of type %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return invalidf("unknown parameter %s", name)
	}
	return codeError(1200, "request body is not valid JSON: "+err.Error())
}

// maxPrompt is Kling's prompt limit in characters.
const maxPrompt = 2500

func checkPrompt(field, p string, required bool) *apiError {
	if required && strings.TrimSpace(p) == "" {
		return invalidf("%s is required", field)
	}
	if n := utf8.RuneCountInString(p); n > maxPrompt {
		return invalidf("%s must be at most %d characters, got %d", field, maxPrompt, n)
	}
	return nil
}

// checkPrompts checks a generation request's prompt (required or not)
// and its optional negative_prompt, as every generation endpoint does.
func checkPrompts(prompt, negative string, promptRequired bool) *apiError {
	if e := checkPrompt("prompt", prompt, promptRequired); e != nil {
		return e
	}
	return checkPrompt("negative_prompt", negative, false)
}

func oneOf(field, v string, allowed ...string) *apiError {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return invalidf("%s must be one of %s, got %q", field, strings.Join(allowed, ", "), v)
}

var refPattern = regexp.MustCompile(`<<<(image|element|video|object)_(\d+)>>>`)

// checkRefs verifies every <<<kind_N>>> in prompt points inside its list;
// counts gives the list length per kind (kinds absent are not checked).
func checkRefs(prompt string, counts map[string]int) *apiError {
	for _, m := range refPattern.FindAllStringSubmatch(prompt, -1) {
		limit, ok := counts[m[1]]
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		if n < 1 || n > limit {
			return invalidf("prompt references %s but %s_list has %d entries", m[0], m[1], limit)
		}
	}
	return nil
}

// checkSource rejects empty sources and data: URLs, which Kling refuses.
func checkSource(field, src string) *apiError {
	if strings.TrimSpace(src) == "" {
		return invalidf("%s must not be empty", field)
	}
	if strings.HasPrefix(src, "data:") {
		return invalidf("%s must be a URL or raw base64 without a data: prefix", field)
	}
	return nil
}

func fieldf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

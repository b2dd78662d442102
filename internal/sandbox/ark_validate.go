package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Seedream 4.0 limits (other-providers.md §2.2, 2025-09 revision).
const (
	arkModel       = "doubao-seedream-4-0-250828"
	arkMaxRefs     = 10
	arkGroupMax    = 15 // references + generated images
	arkMinPixels   = 1280 * 720
	arkMaxPixels   = 4096 * 4096
	arkMaxRatio    = 16.0
	arkDefaultSize = "2048x2048"
)

// arkBody is the request body. Fields the API knows but 4.0 refuses (seed,
// guidance_scale) are decoded so they can be refused by name.
type arkBody struct {
	Model                            string          `json:"model"`
	Prompt                           string          `json:"prompt"`
	Image                            json.RawMessage `json:"image"`
	Size                             string          `json:"size"`
	SequentialImageGeneration        string          `json:"sequential_image_generation"`
	SequentialImageGenerationOptions *struct {
		MaxImages *int `json:"max_images"`
	} `json:"sequential_image_generation_options"`
	Stream                bool   `json:"stream"`
	ResponseFormat        string `json:"response_format"`
	Watermark             *bool  `json:"watermark"`
	OptimizePromptOptions *struct {
		Mode string `json:"mode"`
	} `json:"optimize_prompt_options"`
	Seed          json.RawMessage `json:"seed"`
	GuidanceScale json.RawMessage `json:"guidance_scale"`
}

// arkRequest is a validated request.
type arkRequest struct {
	model, prompt string
	sources       []string
	// size is as asked: "1K", "2K", "4K" or "WxH". For WxH, w and h are
	// set; for the others pixels is the total and the aspect ratio comes
	// from the first reference (refW, refH, set by arkCheckImages).
	size         string
	w, h, pixels int
	refW, refH   int
	n            int // images to make
	stream, b64  bool
	watermark    bool
}

var arkSizePattern = regexp.MustCompile(`^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$`)

// arkSizeClasses are the total pixels of the 1K/2K/4K sizes.
var arkSizeClasses = map[string]int{"1K": 1024 * 1024, "2K": 2048 * 2048, "4K": 4096 * 4096}

func invalidArk(param, format string, args ...any) *arkError {
	return arkErr(http.StatusBadRequest, "InvalidParameter", param,
		fmt.Sprintf("The parameter `%s` specified in the request is not valid: %s.", param, fmt.Sprintf(format, args...)))
}

// validateArk decodes and checks a body like Ark does; groupSize is how
// many images a sequential request makes before max_images caps it.
func validateArk(body []byte, groupSize int) (*arkRequest, *arkError) {
	var b arkBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(&b)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return nil, invalidArk(typeErr.Field, "want %s, got %s", typeErr.Type, typeErr.Value)
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return nil, invalidArk(name, "unknown parameter")
		}
		return nil, arkErr(http.StatusBadRequest, "InvalidParameter", "", "The request body is not valid JSON: "+err.Error()+".")
	}
	if b.Model == "" {
		return nil, arkErr(http.StatusBadRequest, "MissingParameter", "model", "The request failed because it is missing the parameter `model`.")
	}
	if b.Model != arkModel && (!strings.HasPrefix(b.Model, "ep-") || len(b.Model) <= 3) {
		return nil, arkErr(http.StatusNotFound, "InvalidEndpointOrModel.NotFound", "model",
			fmt.Sprintf("The model or endpoint %s does not exist or you do not have access to it.", b.Model))
	}
	if strings.TrimSpace(b.Prompt) == "" {
		return nil, arkErr(http.StatusBadRequest, "MissingParameter", "prompt", "The request failed because it is missing the parameter `prompt`.")
	}
	if len(b.Seed) > 0 {
		return nil, invalidArk("seed", "not supported by model %s", b.Model)
	}
	if len(b.GuidanceScale) > 0 {
		return nil, invalidArk("guidance_scale", "not supported by model %s", b.Model)
	}
	req := &arkRequest{model: b.Model, prompt: b.Prompt, stream: b.Stream, watermark: b.Watermark == nil || *b.Watermark}
	if req.sources, err = arkSources(b.Image); err != nil {
		return nil, invalidArk("image", "%v", err)
	}
	if e := req.parseSize(b.Size); e != nil {
		return nil, e
	}
	switch b.SequentialImageGeneration {
	case "", "disabled", "auto":
	default:
		return nil, invalidArk("sequential_image_generation", "must be auto or disabled, got %q", b.SequentialImageGeneration)
	}
	maxImages, explicit := arkGroupMax, false
	if o := b.SequentialImageGenerationOptions; o != nil && o.MaxImages != nil {
		maxImages, explicit = *o.MaxImages, true
		if maxImages < 1 || maxImages > arkGroupMax {
			return nil, invalidArk("sequential_image_generation_options.max_images", "must be in [1, %d], got %d", arkGroupMax, maxImages)
		}
	}
	req.n = 1
	if b.SequentialImageGeneration == "auto" {
		refs := len(req.sources)
		if explicit && refs+maxImages > arkGroupMax {
			return nil, invalidArk("sequential_image_generation_options.max_images",
				"reference images (%d) plus max_images (%d) must be at most %d", refs, maxImages, arkGroupMax)
		}
		req.n = max(1, min(groupSize, maxImages, arkGroupMax-refs))
	}
	switch b.ResponseFormat {
	case "", "url":
	case "b64_json":
		req.b64 = true
	default:
		return nil, invalidArk("response_format", "must be url or b64_json, got %q", b.ResponseFormat)
	}
	if o := b.OptimizePromptOptions; o != nil && o.Mode != "" && o.Mode != "standard" && o.Mode != "fast" {
		return nil, invalidArk("optimize_prompt_options.mode", "must be standard or fast, got %q", o.Mode)
	}
	return req, nil
}

// arkSources reads image: a string or an array of strings, each a URL or
// a data:image/<fmt>;base64 URI.
func arkSources(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		list = []string{one}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("must be a string or an array of strings")
	}
	if len(list) > arkMaxRefs {
		return nil, fmt.Errorf("at most %d images are allowed, got %d", arkMaxRefs, len(list))
	}
	for i, src := range list {
		if err := arkSourceForm(src); err != nil {
			return nil, fmt.Errorf("image %d: %w", i+1, err)
		}
	}
	return list, nil
}

var arkDataURI = regexp.MustCompile(`^data:image/([a-z]+);base64,`)

// arkSourceForm checks the form of one source, before any fetch.
func arkSourceForm(src string) error {
	switch {
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		return nil
	case strings.HasPrefix(src, "data:"):
		m := arkDataURI.FindStringSubmatch(src)
		if m == nil {
			return errors.New("a data URI must look like data:image/<format>;base64,<data> with a lowercase format")
		}
		if m[1] != "jpeg" && m[1] != "png" && m[1] != "webp" {
			return fmt.Errorf("image format %s is not supported; use jpeg, png or webp", m[1])
		}
		return nil
	}
	return errors.New("must be an http(s) URL or a data:image/<format>;base64 URI")
}

// parseSize checks size: "1K"/"2K"/"4K" or "WxH" within Ark's bounds.
func (req *arkRequest) parseSize(size string) *arkError {
	if size == "" {
		size = arkDefaultSize
	}
	req.size = size
	if px, ok := arkSizeClasses[size]; ok {
		req.pixels = px
		return nil
	}
	m := arkSizePattern.FindStringSubmatch(size)
	if m == nil {
		return invalidArk("size", "must be 1K, 2K, 4K or <width>x<height>, got %q", size)
	}
	w, _ := strconv.Atoi(m[1])
	h, _ := strconv.Atoi(m[2])
	if px := w * h; px < arkMinPixels || px > arkMaxPixels {
		return invalidArk("size", "%s has %d pixels; it must have between %d (1280x720) and %d (4096x4096)", size, px, arkMinPixels, arkMaxPixels)
	}
	if r := float64(max(w, h)) / float64(min(w, h)); r > arkMaxRatio {
		return invalidArk("size", "%s has an aspect ratio of %.1f; it must be within [1/16, 16]", size, r)
	}
	req.w, req.h, req.pixels = w, h, w*h
	return nil
}

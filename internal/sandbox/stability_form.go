package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lepus-ai/lepus/internal/media"
)

// Limits of the relight form (other-providers.md §1.1).
const (
	relightMaxPrompt = 10_000
	relightMinSide   = 64
	relightMinPixels = 4096
	relightMaxPixels = 9_437_184
	relightMaxAspect = 2.5
	relightMaxSeed   = 4_294_967_294
)

// relightFields are the form fields the endpoint takes; files are true.
var relightFields = map[string]bool{
	"subject_image": true, "background_reference": true, "light_reference": true,
	"background_prompt": false, "foreground_prompt": false, "negative_prompt": false,
	"preserve_original_subject": false, "original_background_depth": false,
	"keep_original_background": false, "light_source_direction": false,
	"light_source_strength": false, "seed": false, "output_format": false,
}

// relightForm is an accepted relight request: what a job needs to render.
type relightForm struct {
	subject, lightRef      []byte
	background, foreground string
	hasBackgroundRef       bool
	keep                   bool
	direction              string
	strength               float64 // 0.3 unless given
	preserve, depth        float64
	seed                   int64
	format                 string // png, jpeg or webp
}

// parseRelightForm reads a multipart body and checks it like Stability
// does. It returns every problem found, as "<field>: <problem>" lines.
func parseRelightForm(body []byte, boundary string) (*relightForm, []string) {
	values := map[string][]byte{}
	given := map[string]bool{} // fields present, well-formed or not
	var errs []string
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, []string{"body: malformed multipart/form-data: " + err.Error()}
		}
		name := p.FormName()
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, []string{"body: malformed multipart/form-data: " + err.Error()}
		}
		isFile, known := relightFields[name]
		switch {
		case known && given[name]:
			errs = append(errs, name+": may be given only once")
		case name == "":
			errs = append(errs, "body: every part needs a form-data name")
		case !known:
			errs = append(errs, name+": unknown parameter")
		case isFile && p.FileName() == "":
			errs = append(errs, name+": must be a file")
		default:
			values[name] = data
		}
		given[name] = true
	}
	f := &relightForm{strength: 0.3, preserve: 0.6, depth: 0.5, format: "png"}
	text := func(name string) string { return string(values[name]) }

	f.subject = values["subject_image"]
	if !given["subject_image"] {
		errs = append(errs, "subject_image: is required")
	} else if f.subject != nil {
		if msg := checkRelightImage(f.subject, true); msg != "" {
			errs = append(errs, "subject_image: "+msg)
		}
	}
	if ref := values["background_reference"]; ref != nil {
		f.hasBackgroundRef = true
		if msg := checkRelightImage(ref, false); msg != "" {
			errs = append(errs, "background_reference: "+msg)
		}
	}
	if ref := values["light_reference"]; ref != nil {
		f.lightRef = ref
		if msg := checkRelightImage(ref, false); msg != "" {
			errs = append(errs, "light_reference: "+msg)
		}
	}
	for _, name := range []string{"background_prompt", "foreground_prompt", "negative_prompt"} {
		if n := utf8.RuneCount(values[name]); n > relightMaxPrompt {
			errs = append(errs, fmt.Sprintf("%s: must be at most %d characters, got %d", name, relightMaxPrompt, n))
		}
	}
	f.background, f.foreground = text("background_prompt"), text("foreground_prompt")
	if strings.TrimSpace(f.background) == "" && !f.hasBackgroundRef {
		errs = append(errs, "background_prompt: is required when background_reference is not given")
	}
	for _, n := range []struct {
		name string
		dst  *float64
	}{
		{"preserve_original_subject", &f.preserve},
		{"original_background_depth", &f.depth},
		{"light_source_strength", &f.strength},
	} {
		if values[n.name] == nil {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(text(n.name)), 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
			errs = append(errs, fmt.Sprintf("%s: must be a number between 0 and 1, got %q", n.name, text(n.name)))
			continue
		}
		*n.dst = v
	}
	if v, ok := values["keep_original_background"]; ok {
		switch string(v) {
		case "true":
			f.keep = true
		case "false":
		default:
			errs = append(errs, fmt.Sprintf("keep_original_background: must be one of true, false, got %q", v))
		}
	}
	if v, ok := values["light_source_direction"]; ok {
		f.direction = string(v)
		if !relightOneOf(f.direction, "left", "right", "above", "below") {
			errs = append(errs, fmt.Sprintf("light_source_direction: must be one of left, right, above, below, got %q", v))
		}
	}
	if values["light_source_strength"] != nil && values["light_source_direction"] == nil && values["light_reference"] == nil {
		errs = append(errs, "light_source_strength: requires light_source_direction or light_reference")
	}
	if v, ok := values["seed"]; ok {
		seed, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64)
		if err != nil || seed != math.Trunc(seed) || seed < 0 || seed > relightMaxSeed {
			errs = append(errs, fmt.Sprintf("seed: must be a whole number between 0 and %d, got %q", int64(relightMaxSeed), v))
		}
		f.seed = int64(seed)
	}
	if v, ok := values["output_format"]; ok {
		f.format = string(v)
		if !relightOneOf(f.format, "jpeg", "png", "webp") {
			errs = append(errs, fmt.Sprintf("output_format: must be one of jpeg, png, webp, got %q", v))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

// checkRelightImage returns what is wrong with an image input, or "". The
// aspect rule applies to the subject only.
func checkRelightImage(data []byte, subject bool) string {
	info, _, err := media.CheckImage(bytes.NewReader(data), media.ImageRules{})
	if err != nil {
		return "must be a jpeg, png or webp image"
	}
	w, h := info.Width, info.Height
	switch px := w * h; {
	case w < relightMinSide || h < relightMinSide:
		return fmt.Sprintf("every side must be at least %d pixels, got %dx%d", relightMinSide, w, h)
	case px < relightMinPixels || px > relightMaxPixels:
		return fmt.Sprintf("must have between %d and %d pixels, got %d (%dx%d)", relightMinPixels, relightMaxPixels, px, w, h)
	case subject && float64(max(w, h)) > relightMaxAspect*float64(min(w, h)):
		return fmt.Sprintf("aspect ratio must be between 1:2.5 and 2.5:1, got %dx%d", w, h)
	}
	return ""
}

func relightOneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

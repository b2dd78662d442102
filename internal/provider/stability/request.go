package stability

import (
	"bytes"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// RelightRequest is the form of a replace-background-and-relight call
// (other-providers.md §1.1). Empty strings and nil pointers are omitted, so
// Stability applies its defaults (preserve_original_subject 0.6,
// original_background_depth 0.5, light_source_strength 0.3, png).
type RelightRequest struct {
	// SubjectImage is the JPEG, PNG or WebP bytes of the subject (see
	// FitSubject). SubjectName is its file name (default "subject.<ext>"),
	// SubjectType its MIME type (default: sniffed from the bytes).
	SubjectImage []byte
	SubjectName  string
	SubjectType  string
	// BackgroundPrompt is required (Lepus sends no background_reference); it
	// may describe only the lighting. Prompts must be English.
	BackgroundPrompt string
	ForegroundPrompt string
	NegativePrompt   string
	// PreserveOriginalSubject, OriginalBackgroundDepth and
	// LightSourceStrength are in [0, 1].
	PreserveOriginalSubject *float64
	OriginalBackgroundDepth *float64
	// KeepOriginalBackground is "true", "false" or "" (omitted): a string
	// form field, not a boolean.
	KeepOriginalBackground string
	// LightSourceDirection is "left", "right", "above", "below" or "" (no
	// directional light). LightSourceStrength needs it.
	LightSourceDirection string
	LightSourceStrength  *float64
	// Seed is in [0, 4294967294]; 0 or nil means random.
	Seed *int64
	// OutputFormat is "png", "jpeg", "webp" or "" (png).
	OutputFormat string
}

// maxSeed is the largest seed Stability accepts.
const maxSeed = 4_294_967_294

// validate refuses what Stability would refuse, before anything is paid.
func (r *RelightRequest) validate() error {
	var errs []error
	if len(r.SubjectImage) == 0 {
		errs = append(errs, errors.New("subject_image: is required"))
	}
	if strings.TrimSpace(r.BackgroundPrompt) == "" {
		errs = append(errs, errors.New("background_prompt: is required"))
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{
		{"preserve_original_subject", r.PreserveOriginalSubject},
		{"original_background_depth", r.OriginalBackgroundDepth},
		{"light_source_strength", r.LightSourceStrength},
	} {
		if f.v != nil && !(*f.v >= 0 && *f.v <= 1) {
			errs = append(errs, fmt.Errorf("%s: must be between 0 and 1, got %v", f.name, *f.v))
		}
	}
	if !oneOf(r.KeepOriginalBackground, "", "true", "false") {
		errs = append(errs, fmt.Errorf("keep_original_background: must be \"true\" or \"false\", got %q", r.KeepOriginalBackground))
	}
	if !oneOf(r.LightSourceDirection, "", "left", "right", "above", "below") {
		errs = append(errs, fmt.Errorf("light_source_direction: must be left, right, above or below, got %q", r.LightSourceDirection))
	}
	if r.LightSourceStrength != nil && r.LightSourceDirection == "" {
		errs = append(errs, errors.New("light_source_strength: needs light_source_direction"))
	}
	if r.Seed != nil && (*r.Seed < 0 || *r.Seed > maxSeed) {
		errs = append(errs, fmt.Errorf("seed: must be between 0 and %d, got %d", maxSeed, *r.Seed))
	}
	if !oneOf(r.OutputFormat, "", "png", "jpeg", "webp") {
		errs = append(errs, fmt.Errorf("output_format: must be png, jpeg or webp, got %q", r.OutputFormat))
	}
	return errors.Join(errs...)
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// encode validates r and returns the multipart body and its content type.
func (r *RelightRequest) encode() ([]byte, string, error) {
	if err := r.validate(); err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	typ := r.SubjectType
	if typ == "" {
		typ = http.DetectContentType(r.SubjectImage)
	}
	name := r.SubjectName
	if name == "" {
		name = "subject." + extFor(typ)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="subject_image"; filename="%s"`, quoteEscaper.Replace(name)))
	h.Set("Content-Type", typ)
	part, err := mw.CreatePart(h)
	if err != nil {
		return nil, "", fmt.Errorf("encode subject_image: %w", err)
	}
	if _, err := part.Write(r.SubjectImage); err != nil {
		return nil, "", fmt.Errorf("encode subject_image: %w", err)
	}
	fields := []struct{ name, value string }{
		{"background_prompt", r.BackgroundPrompt},
		{"foreground_prompt", r.ForegroundPrompt},
		{"negative_prompt", r.NegativePrompt},
		{"preserve_original_subject", formatFloat(r.PreserveOriginalSubject)},
		{"original_background_depth", formatFloat(r.OriginalBackgroundDepth)},
		{"keep_original_background", r.KeepOriginalBackground},
		{"light_source_direction", r.LightSourceDirection},
		{"light_source_strength", formatFloat(r.LightSourceStrength)},
		{"seed", formatSeed(r.Seed)},
		{"output_format", r.OutputFormat},
	}
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		if err := mw.WriteField(f.name, f.value); err != nil {
			return nil, "", fmt.Errorf("encode %s: %w", f.name, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("encode form: %w", err)
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func formatFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func formatSeed(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

// extFor is the file extension of an image MIME type.
func extFor(mime string) string {
	switch mime {
	case "image/jpeg":
		return "jpg"
	case "image/webp":
		return "webp"
	}
	return "png"
}

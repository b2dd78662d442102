package workflow

import (
	"cmp"
	"sort"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// ---- 10a. Skin enhance: Kling omni-image, 3 credits ----

// SkinEnhanceRequest is the body of POST /enhance-style/skin-enhance.
type SkinEnhanceRequest struct {
	CapabilityID string `json:"capability_id,omitempty" hidden:"true"`
	ImageURL     string `json:"image_url" minLength:"1" maxLength:"4096" doc:"The portrait to retouch."`
	Intensity    string `json:"intensity,omitempty" enum:"natural,moderate,max" default:"natural"`
}

var skinIntensity = map[string]string{
	"natural":  "enhance skin texture, subtle skin smoothing, keep natural look, high quality portrait",
	"moderate": "skin retouching, smooth skin, remove blemishes, bright and clear complexion, portrait photography",
	"max":      "perfect skin, flawless complexion, professional beauty retouching, studio quality skin, magazine cover",
}

func (r *SkinEnhanceRequest) Capability() string { return "skin_enhance" }

func (r *SkinEnhanceRequest) Normalize() error {
	r.CapabilityID, r.Intensity = r.Capability(), cmp.Or(r.Intensity, "natural")
	return choice("body.intensity", r.Intensity, skinIntensity)
}

func (r *SkinEnhanceRequest) Images() []ImageInput {
	return []ImageInput{{Field: "body.image_url", URL: &r.ImageURL}}
}

func skinPrompt(req StyleRequest) (string, []string, string) {
	r := req.(*SkinEnhanceRequest)
	return "<<<image_1>>> " + skinIntensity[r.Intensity], []string{r.ImageURL}, ""
}

// ---- 10c. Outfit swap: Kling omni-image, 5 credits ----

// OutfitSwapRequest is the body of POST /enhance-style/outfit-swap.
type OutfitSwapRequest struct {
	CapabilityID    string `json:"capability_id,omitempty" hidden:"true"`
	PersonImageURL  string `json:"person_image_url" minLength:"1" maxLength:"4096" doc:"The person to dress."`
	GarmentImageURL string `json:"garment_image_url" minLength:"1" maxLength:"4096" doc:"The garment to put on them."`
	GarmentType     string `json:"garment_type,omitempty" enum:"upper,lower,full" default:"upper"`
}

var garmentTypes = map[string]string{
	"upper": "wearing the outfit shown in <<<image_2>>> as upper body clothing",
	"lower": "wearing the pants/skirt shown in <<<image_2>>>",
	"full":  "wearing the complete outfit shown in <<<image_2>>>",
}

func (r *OutfitSwapRequest) Capability() string { return "outfit_swap" }

func (r *OutfitSwapRequest) Normalize() error {
	r.CapabilityID, r.GarmentType = r.Capability(), cmp.Or(r.GarmentType, "upper")
	return choice("body.garment_type", r.GarmentType, garmentTypes)
}

func (r *OutfitSwapRequest) Images() []ImageInput {
	return []ImageInput{{Field: "body.person_image_url", URL: &r.PersonImageURL}, {Field: "body.garment_image_url", URL: &r.GarmentImageURL}}
}

func outfitSwapPrompt(req StyleRequest) (string, []string, string) {
	r := req.(*OutfitSwapRequest)
	p := "<<<image_1>>> person " + garmentTypes[r.GarmentType] + ", <<<image_2>>> is the garment reference,\n" +
		"keep person's face and body unchanged, only change clothing,\n" +
		"photorealistic, high quality"
	return p, []string{r.PersonImageURL, r.GarmentImageURL}, ""
}

// ---- 10d. AI stylist: Kling omni-image, 5 credits ----

// AIStylistRequest is the body of POST /enhance-style/ai-stylist.
type AIStylistRequest struct {
	CapabilityID    string   `json:"capability_id,omitempty" hidden:"true"`
	GarmentImageURL string   `json:"garment_image_url" minLength:"1" maxLength:"4096" doc:"The garment to build a look around."`
	Occasion        string   `json:"occasion,omitempty" enum:"daily,work,date,travel,party" default:"daily"`
	StyleTags       []string `json:"style_tags,omitempty" maxItems:"8" doc:"Style words such as minimalist or vintage; left out of the prompt when empty."`
	Season          string   `json:"season,omitempty" enum:"spring,summer,autumn,winter," doc:"Left out of the prompt when empty."`
	Gender          string   `json:"gender,omitempty" enum:"female,male," doc:"The model's gender; left out of the prompt when empty."`
}

var occasions = map[string]string{
	"daily":  "everyday casual outfit",
	"work":   "professional office outfit",
	"date":   "elegant date night outfit",
	"travel": "comfortable travel outfit",
	"party":  "stylish party outfit",
}

func (r *AIStylistRequest) Capability() string { return "ai_stylist" }

func (r *AIStylistRequest) Normalize() error {
	r.CapabilityID, r.Occasion = r.Capability(), cmp.Or(r.Occasion, "daily")
	var tags []string
	for _, t := range r.StyleTags {
		if t = strings.TrimSpace(t); t != "" {
			if len(t) > 40 {
				return lepus.FieldErrorf("body.style_tags", "%q is longer than 40 characters", t)
			}
			tags = append(tags, t)
		}
	}
	r.StyleTags = tags
	return firstErr(
		choice("body.occasion", r.Occasion, occasions),
		optionalOneOf("body.season", r.Season, "spring", "summer", "autumn", "winter"),
		optionalOneOf("body.gender", r.Gender, "female", "male"),
	)
}

func (r *AIStylistRequest) Images() []ImageInput {
	return []ImageInput{{Field: "body.garment_image_url", URL: &r.GarmentImageURL}}
}

// stylistPrompt fills the stylist template; an empty optional value leaves
// its clause out rather than a hole (workflows.md §10d).
func stylistPrompt(req StyleRequest) (string, []string, string) {
	r := req.(*AIStylistRequest)
	line2 := "based on <<<image_1>>> garment"
	if len(r.StyleTags) > 0 {
		line2 += ", " + strings.Join(r.StyleTags, ", ") + " style"
	}
	if r.Season != "" {
		line2 += ", " + r.Season + " season"
	}
	model := "model wearing the complete styled outfit, full body shot,"
	if r.Gender != "" {
		model = r.Gender + " " + model
	}
	p := "Fashion stylist recommendation: create a complete " + occasions[r.Occasion] + " coordination\n" +
		line2 + ",\n" +
		model + "\n" +
		"fashion photography, high quality"
	return p, []string{r.GarmentImageURL}, ""
}

// ---- 10b. Relight: Stability AI, 8 credits ----

// RelightRequest is the body of POST /enhance-style/relight.
type RelightRequest struct {
	CapabilityID   string   `json:"capability_id,omitempty" hidden:"true"`
	ImageURL       string   `json:"image_url" minLength:"1" maxLength:"4096" doc:"The photo to relight."`
	LightingType   string   `json:"lighting_type,omitempty" enum:"natural,studio,golden_hour,dramatic,neon,soft" default:"natural"`
	LightDirection string   `json:"light_direction,omitempty" enum:"front,back,left,right,top,below" default:"front"`
	LightIntensity *float64 `json:"light_intensity,omitempty" minimum:"0" maximum:"1" default:"1" doc:"0 to 1; Stability gets 0.7 × this as light_source_strength."`
}

var lightingTypes = map[string]string{
	"natural":     "natural daylight, soft ambient lighting",
	"studio":      "professional studio lighting, clean white background",
	"golden_hour": "warm golden hour sunlight, soft warm tones",
	"dramatic":    "dramatic moody lighting, strong contrast, dark atmosphere",
	"neon":        "neon lighting, colorful neon glow, cyberpunk atmosphere",
	"soft":        "soft diffused lighting, beauty lighting, gentle shadows",
}

// lightDirections maps the request's direction to Stability's
// (contract-decisions #10): front, back and top → above; below → below.
var lightDirections = map[string]string{
	"front": "above", "back": "above", "top": "above", "below": "below", "left": "left", "right": "right",
}

func (r *RelightRequest) Capability() string { return "relight" }

func (r *RelightRequest) Normalize() error {
	r.CapabilityID = r.Capability()
	r.LightingType, r.LightDirection = cmp.Or(r.LightingType, "natural"), cmp.Or(r.LightDirection, "front")
	if r.LightIntensity == nil {
		r.LightIntensity = ptr(1.0)
	}
	if *r.LightIntensity < 0 || *r.LightIntensity > 1 {
		return lepus.FieldErrorf("body.light_intensity", "is %g; give 0 to 1", *r.LightIntensity)
	}
	return firstErr(
		choice("body.lighting_type", r.LightingType, lightingTypes),
		choice("body.light_direction", r.LightDirection, lightDirections),
	)
}

func (r *RelightRequest) Images() []ImageInput {
	return []ImageInput{{Field: "body.image_url", URL: &r.ImageURL}}
}

// Relight polling: Stability asks for no more than one poll per 10 s
// (contract-decisions #10): 10 s × 30, the same 300 s.
const (
	relightPollInterval = 10 * time.Second
	relightMaxPolls     = 30
)

func relightStages(StyleRequest) []lepus.Stage {
	return []lepus.Stage{{Name: "image", Phase: lepus.PhaseSubmit, Provider: ProviderStability,
		Endpoint: PathStabilityRelight, PollInterval: relightPollInterval, MaxPolls: relightMaxPolls}}
}

// ProviderStability names Stability AI on a stage.
const ProviderStability = "stability"

// PathStabilityRelight is Stability's replace-background-and-relight endpoint.
const PathStabilityRelight = "/v2beta/stable-image/edit/replace-background-and-relight"

// StabilityRelight is the persisted relight request: the form fields Lepus
// sends, and where the subject image comes from.
type StabilityRelight struct {
	SubjectImageURL         string  `json:"subject_image_url"`
	BackgroundPrompt        string  `json:"background_prompt"`
	KeepOriginalBackground  string  `json:"keep_original_background"`
	LightSourceDirection    string  `json:"light_source_direction"`
	LightSourceStrength     float64 `json:"light_source_strength"`
	PreserveOriginalSubject float64 `json:"preserve_original_subject"`
	OutputFormat            string  `json:"output_format"`
}

func relightBody(req StyleRequest, _ *lepus.Stage, _ Env) (any, error) {
	r := req.(*RelightRequest)
	return StabilityRelight{
		SubjectImageURL:         r.ImageURL,
		BackgroundPrompt:        lightingTypes[r.LightingType],
		KeepOriginalBackground:  "true", // relight, not a new background
		LightSourceDirection:    lightDirections[r.LightDirection],
		LightSourceStrength:     min(1, max(0, 0.7**r.LightIntensity)),
		PreserveOriginalSubject: 0.7,
		OutputFormat:            "png",
	}, nil
}

// ---- shared ----

// choice refuses a value that is not a key of allowed, listing the keys.
func choice[V any](field, v string, allowed map[string]V) error {
	if _, ok := allowed[v]; ok {
		return nil
	}
	keys := make([]string, 0, len(allowed))
	for k := range allowed {
		keys = append(keys, k)
	}
	return oneOf(field, v, sortedStrings(keys)...)
}

func optionalOneOf(field, v string, allowed ...string) error {
	if v == "" {
		return nil
	}
	return oneOf(field, v, allowed...)
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}

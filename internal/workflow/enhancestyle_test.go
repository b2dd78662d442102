package workflow

import (
	"reflect"
	"strings"
	"testing"
)

// The prompts of workflows.md §10, byte for byte, for fixed inputs.
func TestEnhanceStyle_Prompts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		req    StyleRequest
		prompt string
		images []any
		aspect any
	}{
		{"SkinModerate", &SkinEnhanceRequest{ImageURL: "u1", Intensity: "moderate"},
			"<<<image_1>>> skin retouching, smooth skin, remove blemishes, bright and clear complexion, portrait photography",
			[]any{map[string]any{"image": "u1"}}, nil},
		{"OutfitSwapLower", &OutfitSwapRequest{PersonImageURL: "p", GarmentImageURL: "g", GarmentType: "lower"},
			"<<<image_1>>> person wearing the pants/skirt shown in <<<image_2>>>, <<<image_2>>> is the garment reference,\n" +
				"keep person's face and body unchanged, only change clothing,\n" +
				"photorealistic, high quality",
			[]any{map[string]any{"image": "p"}, map[string]any{"image": "g"}}, nil},
		{"StylistFull", &AIStylistRequest{GarmentImageURL: "g", Occasion: "date", StyleTags: []string{"minimalist", "french"}, Season: "autumn", Gender: "female"},
			"Fashion stylist recommendation: create a complete elegant date night outfit coordination\n" +
				"based on <<<image_1>>> garment, minimalist, french style, autumn season,\n" +
				"female model wearing the complete styled outfit, full body shot,\n" +
				"fashion photography, high quality",
			[]any{map[string]any{"image": "g"}}, nil},
		{"StylistNoOptionals", &AIStylistRequest{GarmentImageURL: "g"},
			"Fashion stylist recommendation: create a complete everyday casual outfit coordination\n" +
				"based on <<<image_1>>> garment,\n" +
				"model wearing the complete styled outfit, full body shot,\n" +
				"fashion photography, high quality",
			[]any{map[string]any{"image": "g"}}, nil},
		{"OutfitShotDouyin", &OutfitShotRequest{GarmentImageURL: "g", ContentType: "flat_lay", Platform: "douyin"},
			"<<<image_1>>> flat lay photography, top-down view, neatly arranged items on clean background",
			[]any{map[string]any{"image": "g"}}, "9:16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := "image"
			if _, ok := tc.req.(*OutfitShotRequest); ok {
				st = "variation-1"
			}
			got, _ := build(t, "enhance_style", tc.req, st, nil)
			if got["prompt"] != tc.prompt {
				t.Fatalf("prompt:\n%q\nwant\n%q", got["prompt"], tc.prompt)
			}
			if got["model_name"] != "kling-image-o1" || !reflect.DeepEqual(got["image_list"], tc.images) || got["aspect_ratio"] != tc.aspect {
				t.Fatalf("sent %v", got)
			}
		})
	}
}

// contract-decisions #10: direction mapping, strength 0.7 × intensity,
// keep_original_background "true", png, the lighting prompt as background_prompt.
func TestRelight_Request(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir, want string
		intensity float64
		strength  float64
	}{{"front", "above", 1, 0.7}, {"back", "above", 0.5, 0.35}, {"top", "above", 0, 0}, {"below", "below", 1, 0.7}, {"left", "left", 1, 0.7}, {"right", "right", 1, 0.7}} {
		got, _ := build(t, "enhance_style", &RelightRequest{ImageURL: "u", LightingType: "neon", LightDirection: tc.dir, LightIntensity: ptr(tc.intensity)}, "image", nil)
		want := map[string]any{"subject_image_url": "u", "background_prompt": "neon lighting, colorful neon glow, cyberpunk atmosphere",
			"keep_original_background": "true", "light_source_direction": tc.want, "light_source_strength": tc.strength,
			"preserve_original_subject": 0.7, "output_format": "png"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: sent %v, want %v", tc.dir, got, want)
		}
	}
	def := NewRegistry(0).Get("enhance_style")
	st := def.Plan(&RelightRequest{ImageURL: "u"})[0]
	if st.Provider != ProviderStability || st.PollInterval.Seconds() != 10 || st.MaxPolls != 30 {
		t.Fatalf("relight stage polls %v × %d on %s", st.PollInterval, st.MaxPolls, st.Provider)
	}
}

func TestEnhanceStyle_Choices(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		req   StyleRequest
		field string
	}{
		{&SkinEnhanceRequest{Intensity: "extreme"}, "body.intensity"},
		{&AIStylistRequest{Occasion: "funeral"}, "body.occasion"},
		{&AIStylistRequest{Season: "monsoon"}, "body.season"},
		{&RelightRequest{LightIntensity: ptr(2.0)}, "body.light_intensity"},
		{&RelightRequest{LightingType: "disco"}, "body.lighting_type"},
		{&OutfitShotRequest{Variations: 5}, "body.variations"},
		{&OutfitShotRequest{Mode: "try_on"}, "body.avatar_id"},
	} {
		err := tc.req.Normalize()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%T: err = %v, want one naming %s", tc.req, err, tc.field)
		}
	}
	err := (&AIStylistRequest{Occasion: "funeral"}).Normalize()
	if !strings.Contains(err.Error(), "daily, date, party, travel, work") {
		t.Fatalf("the error must list the allowed values: %v", err)
	}
}

func TestOutfitShot_VariationsAndCost(t *testing.T) {
	t.Parallel()
	def := NewRegistry(0).Get("enhance_style")
	costs := NewRegistry(0).DefaultCosts()
	for n, want := range map[int]int{1: 8, 2: 16, 3: 24, 4: 24} {
		req := &OutfitShotRequest{GarmentImageURL: "g", Variations: n}
		if err := req.Normalize(); err != nil {
			t.Fatal(err)
		}
		stages := def.Plan(req)
		cost := def.Cost(req, costs)
		AssignCosts(stages, cost)
		total := 0
		for _, st := range stages {
			if !st.Optional || st.Group != "variations" {
				t.Fatalf("variation stage %+v must be optional and grouped", st)
			}
			total += st.Cost
		}
		if len(stages) != n || cost != want || total != want {
			t.Fatalf("%d variations: %d stages, cost %d (stage shares %d), want %d", n, len(stages), cost, total, want)
		}
	}
}

package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// relightPart is one form part; a part with a file name is a file.
type relightPart struct {
	name, file string
	data       []byte
}

func relightField(name, value string) relightPart {
	return relightPart{name: name, data: []byte(value)}
}

func relightFile(name string, data []byte) relightPart {
	return relightPart{name: name, file: name + ".png", data: data}
}

// encodeRelightForm builds a multipart body the way any client would.
func encodeRelightForm(t *testing.T, parts []relightPart) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.file != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.file))
			h.Set("Content-Type", "image/png")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(p.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

func TestStability_Validation(t *testing.T) {
	t.Parallel()
	b := setupRelight(t)
	subject := relightFile("subject_image", relightSubject())
	bg := relightField("background_prompt", "studio lighting")
	with := func(extra ...relightPart) []relightPart { return append([]relightPart{subject, bg}, extra...) }
	tests := []struct {
		name    string
		parts   []relightPart
		ctype   string   // overrides the multipart content type
		wantErr []string // empty: accepted
	}{
		{name: "OK_Minimal", parts: with()},
		{name: "OK_AllFields", parts: with(
			relightField("foreground_prompt", "a woman in a red coat"), relightField("negative_prompt", "blurry"),
			relightField("preserve_original_subject", "1"), relightField("original_background_depth", "0"),
			relightField("keep_original_background", "false"), relightField("light_source_direction", "below"),
			relightField("light_source_strength", "1.0"), relightField("seed", "4294967294"),
			relightField("output_format", "webp"), relightFile("light_reference", relightPNG(100, 100)),
			relightFile("background_reference", relightPNG(64, 64)))},
		{name: "OK_BackgroundReferenceOnly", parts: []relightPart{subject, relightFile("background_reference", relightPNG(80, 80))}},
		{name: "OK_StrengthWithLightReference", parts: with(relightFile("light_reference", relightPNG(90, 90)), relightField("light_source_strength", "0.5"))},
		{name: "OK_PromptAtLimit", parts: []relightPart{subject, relightField("background_prompt", strings.Repeat("é", 10_000))}},
		{name: "OK_SmallestSubject", parts: []relightPart{relightFile("subject_image", relightPNG(64, 64)), bg}},
		{name: "OK_AspectAtLimit", parts: []relightPart{relightFile("subject_image", relightPNG(160, 64)), bg}},

		{name: "ErrUnknownField", parts: with(relightField("style_preset", "anime")), wantErr: []string{"style_preset: unknown parameter"}},
		{name: "ErrDuplicateField", parts: with(bg), wantErr: []string{"background_prompt: may be given only once"}},
		{name: "ErrNotMultipart", parts: with(), ctype: "application/x-www-form-urlencoded", wantErr: []string{"content-type: must be multipart/form-data"}},
		{name: "ErrNoSubject", parts: []relightPart{bg}, wantErr: []string{"subject_image: is required"}},
		{name: "ErrSubjectNotFile", parts: []relightPart{relightField("subject_image", "aGVsbG8="), bg}, wantErr: []string{"subject_image: must be a file"}},
		{name: "ErrSubjectNotImage", parts: []relightPart{relightFile("subject_image", []byte("GIF89a\x01\x00\x01\x00")), bg},
			wantErr: []string{"subject_image: must be a jpeg, png or webp image"}},
		{name: "ErrSubjectSide", parts: []relightPart{relightFile("subject_image", relightPNG(63, 100)), bg},
			wantErr: []string{"subject_image: every side must be at least 64 pixels, got 63x100"}},
		{name: "ErrSubjectPixels", parts: []relightPart{relightFile("subject_image", relightPNG(3073, 3072)), bg},
			wantErr: []string{"subject_image: must have between 4096 and 9437184 pixels, got 9440256"}},
		{name: "ErrSubjectAspect", parts: []relightPart{relightFile("subject_image", relightPNG(161, 64)), bg},
			wantErr: []string{"subject_image: aspect ratio must be between 1:2.5 and 2.5:1, got 161x64"}},
		{name: "ErrBackgroundReferenceSide", parts: with(relightFile("background_reference", relightPNG(32, 200))),
			wantErr: []string{"background_reference: every side must be at least 64 pixels"}},
		{name: "ErrLightReferenceNotImage", parts: with(relightFile("light_reference", []byte("not an image"))),
			wantErr: []string{"light_reference: must be a jpeg, png or webp image"}},
		{name: "ErrNoBackground", parts: []relightPart{subject}, wantErr: []string{"background_prompt: is required when background_reference is not given"}},
		{name: "ErrBlankBackground", parts: []relightPart{subject, relightField("background_prompt", "  ")},
			wantErr: []string{"background_prompt: is required"}},
		{name: "ErrLongForeground", parts: with(relightField("foreground_prompt", strings.Repeat("a", 10_001))),
			wantErr: []string{"foreground_prompt: must be at most 10000 characters, got 10001"}},
		{name: "ErrLongNegative", parts: with(relightField("negative_prompt", strings.Repeat("a", 10_001))),
			wantErr: []string{"negative_prompt: must be at most 10000 characters"}},
		{name: "ErrPreserveRange", parts: with(relightField("preserve_original_subject", "1.5")),
			wantErr: []string{"preserve_original_subject: must be a number between 0 and 1"}},
		{name: "ErrPreserveNotNumber", parts: with(relightField("preserve_original_subject", "high")),
			wantErr: []string{"preserve_original_subject: must be a number between 0 and 1"}},
		{name: "ErrDepthRange", parts: with(relightField("original_background_depth", "-0.1")),
			wantErr: []string{"original_background_depth: must be a number between 0 and 1"}},
		{name: "ErrStrengthRange", parts: with(relightField("light_source_direction", "left"), relightField("light_source_strength", "1.01")),
			wantErr: []string{"light_source_strength: must be a number between 0 and 1"}},
		{name: "ErrStrengthAlone", parts: with(relightField("light_source_strength", "0.3")),
			wantErr: []string{"light_source_strength: requires light_source_direction or light_reference"}},
		{name: "ErrKeepCapitalised", parts: with(relightField("keep_original_background", "True")),
			wantErr: []string{"keep_original_background: must be one of true, false"}},
		{name: "ErrKeepNumber", parts: with(relightField("keep_original_background", "1")),
			wantErr: []string{"keep_original_background: must be one of true, false"}},
		{name: "ErrDirection", parts: with(relightField("light_source_direction", "front")),
			wantErr: []string{"light_source_direction: must be one of left, right, above, below"}},
		{name: "ErrOutputFormat", parts: with(relightField("output_format", "jpg")),
			wantErr: []string{"output_format: must be one of jpeg, png, webp"}},
		{name: "ErrSeedNegative", parts: with(relightField("seed", "-1")), wantErr: []string{"seed: must be a whole number between 0 and 4294967294"}},
		{name: "ErrSeedTooBig", parts: with(relightField("seed", "4294967295")), wantErr: []string{"seed: must be a whole number"}},
		{name: "ErrSeedFraction", parts: with(relightField("seed", "1.5")), wantErr: []string{"seed: must be a whole number"}},
		{name: "ErrSeveral", parts: []relightPart{subject, relightField("output_format", "gif"), relightField("colour", "red")},
			wantErr: []string{"colour: unknown parameter", "background_prompt: is required", "output_format: must be one of"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, ctype := encodeRelightForm(t, tt.parts)
			if tt.ctype != "" {
				ctype = tt.ctype
			}
			req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/v2beta/stable-image/edit/replace-background-and-relight", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+relightKey)
			req.Header.Set("Content-Type", ctype)
			resp, err := b.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				ID     string   `json:"id"`
				Name   string   `json:"name"`
				Errors []string `json:"errors"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatalf("status %d: decode: %v", resp.StatusCode, err)
			}
			if len(tt.wantErr) == 0 {
				if resp.StatusCode != 200 || !relightIDPattern.MatchString(got.ID) {
					t.Fatalf("status %d, reply %+v, want 200 with an id", resp.StatusCode, got)
				}
				return
			}
			if resp.StatusCode != 400 || got.Name != "invalid_parameters" || got.ID == "" {
				t.Fatalf("status %d, reply %+v, want 400 invalid_parameters", resp.StatusCode, got)
			}
			if len(got.Errors) != len(tt.wantErr) {
				t.Errorf("errors %q, want %d", got.Errors, len(tt.wantErr))
			}
			for _, want := range tt.wantErr {
				found := false
				for _, e := range got.Errors {
					found = found || strings.HasPrefix(e, want)
				}
				if !found {
					t.Errorf("errors %q, want one starting %q", got.Errors, want)
				}
			}
		})
	}
}

package workflow

import (
	"testing"

	"github.com/lepus-ai/lepus/internal/lepus"
)

func TestCheckText(t *testing.T) {
	t.Parallel()
	type inner struct {
		Name string `json:"name"`
	}
	type Embedded struct {
		Extra string `json:"extra"`
	}
	type req struct {
		Embedded
		Prompt  string            `json:"prompt,omitempty"`
		Tags    []string          `json:"style_tags"`
		Ptr     *string           `json:"ptr"`
		Items   []inner           `json:"items"`
		Labels  map[string]string `json:"labels"`
		Skipped string            `json:"-"`
		NoTag   string
		N       int `json:"n"`
	}
	s := func(v string) *string { return &v }
	tests := []struct {
		name  string
		req   any
		field string // "" when the request is accepted
	}{
		{"OKEmpty", &req{}, ""},
		{"OKTabNewlineCR", &req{Prompt: "a\tb\r\nc\n"}, ""},
		{"OKUnicode", &req{Prompt: "雪の中の狐 🦊 — naïve"}, ""},
		{"OKSkipped", &req{Skipped: "\x00"}, ""},
		{"ErrNUL", &req{Prompt: "a\x00b"}, "body.prompt"},
		{"ErrEscape", &req{Prompt: "\x1b[31m"}, "body.prompt"},
		{"ErrDEL", &req{Prompt: "\x7f"}, "body.prompt"},
		{"ErrC1", &req{Prompt: "\u0085"}, "body.prompt"},
		{"ErrInvalidUTF8", &req{Prompt: "caf\xe9"}, "body.prompt"},
		{"ErrSliceIndex", &req{Tags: []string{"ok", "bad\x00"}}, "body.style_tags[1]"},
		{"ErrPointer", &req{Ptr: s("\x01")}, "body.ptr"},
		{"ErrNested", &req{Items: []inner{{"x"}, {"y"}, {"\x02"}}}, "body.items[2].name"},
		{"ErrMapValue", &req{Labels: map[string]string{"k": "\x03"}}, "body.labels.k"},
		{"ErrMapKey", &req{Labels: map[string]string{"\x03": "v"}}, "body.labels"},
		{"ErrEmbedded", &req{Embedded: Embedded{Extra: "\x00"}}, "body.extra"},
		{"ErrNoTag", &req{NoTag: "\x00"}, "body.NoTag"},
		{"ErrRealRequest", &AIStylistRequest{GarmentImageURL: "http://x/a.png", StyleTags: []string{"chic", "", "x\x00"}}, "body.style_tags[2]"},
		{"ErrRealCustomPrompt", &FaceSwapRequest{CustomPrompt: "\x00"}, "body.custom_prompt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckText(tt.req)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			le, ok := err.(*lepus.Error)
			if !ok || le.Code != lepus.EInvalid || le.Field != tt.field {
				t.Fatalf("err = %#v, want EInvalid naming %s", err, tt.field)
			}
		})
	}
}

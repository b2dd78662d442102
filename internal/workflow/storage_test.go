package workflow

import (
	"strings"
	"testing"
)

func TestSafeSegment(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"alice", "2f1c9a5e-7d4b-4c1e-9a3f-1b2c3d4e5f60", "user@example.com"} {
		if SafeSegment(ok) != ok {
			t.Errorf("%q changed to %q", ok, SafeSegment(ok))
		}
	}
	for _, bad := range []string{"..", ".", "", "a/b", "../etc", strings.Repeat("x", 200)} {
		if got := SafeSegment(bad); strings.ContainsAny(got, "/.") || got == bad {
			t.Errorf("%q kept as %q", bad, got)
		}
	}
}

func TestChooseByRules(t *testing.T) {
	t.Parallel()
	opts := []AvatarOption{{Key: "front"}, {Key: "three_quarter_left"}, {Key: "profile_right"}, {Key: "slight_above"}}
	for prompt, want := range map[string]string{
		"a portrait in profile by the sea":   "profile_right",
		"seen from above, lying in the park": "slight_above",
		"turned towards the window":          "three_quarter_left",
		"smiling at the camera":              "front",
	} {
		if got := ChooseByRules(ChooseRequest{Prompt: prompt, Options: opts}); got.Key != want || got.By != "rules" {
			t.Errorf("%q: %+v, want %s", prompt, got, want)
		}
	}
	// An angle the avatar lacks (it failed) is never chosen.
	if got := ChooseByRules(ChooseRequest{Prompt: "in profile", Options: opts[:2]}); got.Key != "front" {
		t.Errorf("a missing angle was chosen: %+v", got)
	}
}

package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// faceSchema is the shape of a workflow body in the server's OpenAPI.
const faceSchema = `{"type":"object","properties":{
	"prompt":{"type":"string"},
	"duration":{"type":"string","enum":["5","10"]},
	"n":{"type":"integer"},
	"generate_video":{"type":"boolean"},
	"image_urls":{"type":["array","null"],"items":{"type":"string"}},
	"cfg_scale":{"type":"number"}}}`

func TestSetValue(t *testing.T) {
	t.Parallel()
	var schema Schema
	if err := json.Unmarshal([]byte(faceSchema), &schema); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sets []string
		want string
	}{
		{"StringFieldStaysText", []string{"duration=5", "prompt=true"}, `{"duration":"5","prompt":"true"}`},
		{"NumbersAndBooleans", []string{"n=2", "generate_video=true", "cfg_scale=0.5"}, `{"cfg_scale":0.5,"generate_video":true,"n":2}`},
		{"UnknownFieldJSONOrText", []string{"x=1", "y=hello", "z={\"a\":1}"}, `{"x":1,"y":"hello","z":{"a":1}}`},
		{"ArrayAppends", []string{"image_urls=http://a", "image_urls=http://b"}, `{"image_urls":["http://a","http://b"]}`},
		{"ArrayWhole", []string{`image_urls=["http://a"]`}, `{"image_urls":["http://a"]}`},
		{"DottedKeysNest", []string{"a.b=1", "a.c=x"}, `{"a":{"b":1,"c":"x"}}`},
		{"LaterWins", []string{"n=1", "n=3"}, `{"n":3}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var list []assignment
			for _, s := range tc.sets {
				if err := (assignments{list: &list}).Set(s); err != nil {
					t.Fatal(err)
				}
			}
			body := map[string]any{}
			for _, a := range list {
				field := schema.field(a.keys)
				if err := setValue(body, a.keys, coerce(a.value, field), field); err != nil {
					t.Fatal(err)
				}
			}
			got, _ := json.Marshal(body)
			if string(got) != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAssignments_SetRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"novalue", "=x", "a..b=1", ".a=1"} {
		var list []assignment
		if err := (assignments{list: &list}).Set(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	body := map[string]any{"a": "text"}
	if err := setValue(body, []string{"a", "b"}, 1, nil); err == nil || !strings.Contains(err.Error(), "a is not an object") {
		t.Fatalf("nesting into a string: %v", err)
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	var plain strings.Builder
	p := &plainProgress{w: &plain}
	p.state(EventState{Status: "processing", Progress: 31, Step: "image.wait"})
	p.state(EventState{Status: "processing", Progress: 31, Step: "image.wait"}) // no change: no line
	p.state(EventState{Status: "completed", Progress: 100, Step: "image.done"})
	if want := "processing  31% image.wait\ncompleted  100% image.done\n"; plain.String() != want {
		t.Fatalf("plain:\n%q\nwant\n%q", plain.String(), want)
	}

	var bar strings.Builder
	b := &barProgress{w: &bar, width: 10}
	b.state(EventState{Status: "processing", Progress: 50, Step: "image.wait"})
	b.state(EventState{Progress: 100, Step: "image.done"}) // a progress event keeps the status
	b.done()
	if want := "\r\x1b[2K█████░░░░░  50% processing image.wait\r\x1b[2K██████████ 100% processing image.done\n"; bar.String() != want {
		t.Fatalf("bar:\n%q\nwant\n%q", bar.String(), want)
	}
}

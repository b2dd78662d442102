package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lepus-ai/lepus/internal/workflow"
)

// TestDecodeRequest checks that a workflow body, decoded untyped, gets the
// defaults huma gives a typed body: every field with a default tag that the
// body leaves out or sets to null has the tag's value, and a given value is
// kept. It covers every route of every workflow.
func TestDecodeRequest(t *testing.T) {
	t.Parallel()
	reg := huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)
	for _, def := range workflow.NewRegistry(0).Definitions() {
		for _, rt := range def.Routes {
			typ := reflect.TypeOf(rt.New()).Elem()
			schema := reg.SchemaFromRef(reg.Schema(typ, true, "").Ref)
			for i := range typ.NumField() {
				f := typ.Field(i)
				tag, ok := f.Tag.Lookup("default")
				if !ok {
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				for _, body := range []string{`{}`, `{"` + name + `":null}`} {
					req := rt.New()
					if err := decodeRequest(json.RawMessage(body), schema, req); err != nil {
						t.Fatalf("%s %s: %v", rt.Path, body, err)
					}
					if got := fmt.Sprint(reflect.Indirect(reflect.ValueOf(req).Elem().Field(i))); got != tag {
						t.Errorf("%s %s: %s is %q, want the default %q", rt.Path, body, name, got, tag)
					}
				}
			}
		}
	}

	t.Run("KeepsGivenValues", func(t *testing.T) {
		t.Parallel()
		req := &workflow.FaceSwapRequest{}
		reg := huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)
		schema := reg.SchemaFromRef(reg.Schema(reflect.TypeOf(*req), true, "").Ref)
		body := `{"source_image_url":"s","face_image_url":"f","resolution":"2k","generate_video":true}`
		if err := decodeRequest(json.RawMessage(body), schema, req); err != nil {
			t.Fatal(err)
		}
		want := workflow.FaceSwapRequest{SourceImageURL: "s", FaceImageURL: "f", Resolution: "2k", GenerateVideo: true, VideoDuration: "5"}
		if *req != want {
			t.Fatalf("decoded %+v, want %+v", *req, want)
		}
	})
}

package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// openAPIDoc is the part of the OpenAPI document the lint test reads.
type openAPIDoc struct {
	Servers []struct{ URL string }
	Tags    []struct{ Name, Description string }
	Paths   map[string]map[string]struct {
		OperationID string
		Summary     string
		Description string
		Tags        []string
		Security    *[]map[string][]string
		RequestBody *struct {
			Content map[string]struct {
				Schema map[string]any
			}
		}
		Responses map[string]struct {
			Description string
			Headers     map[string]any
		}
	}
	Components struct {
		Schemas map[string]any
	}
}

func getOpenAPI(t *testing.T, d Deps) openAPIDoc {
	t.Helper()
	b := setup(t, d)
	resp, err := http.Get(b.srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc openAPIDoc
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestOpenAPI_Lint holds the rules Redocly's recommended set and
// Spectral's oas set check (scripts/openapi-check runs them), and Lepus's
// own: every operation is documented and tagged, says who may call it, and
// a create documents the 200 of an idempotent replay.
func TestOpenAPI_Lint(t *testing.T) {
	t.Parallel()
	doc := getOpenAPI(t, Deps{})

	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers %+v, want one, relative /, without LEPUS_PUBLIC_URL", doc.Servers)
	}
	defined := map[string]bool{}
	for _, tag := range doc.Tags {
		if tag.Description == "" {
			t.Errorf("tag %s has no description", tag.Name)
		}
		defined[tag.Name] = true
	}
	public := map[string]bool{"livez": true, "readyz": true, "healthz": true, "kling-callback": true, "get-upload-content": true}
	var creates int
	for path, ops := range doc.Paths {
		for method, op := range ops {
			name := method + " " + path
			if op.Summary == "" || op.Description == "" {
				t.Errorf("%s: summary %q, description %q: want both", name, op.Summary, op.Description)
			}
			if len(op.Tags) == 0 {
				t.Errorf("%s has no tag", name)
			}
			for _, tag := range op.Tags {
				if !defined[tag] {
					t.Errorf("%s: tag %s is not defined at the top level", name, tag)
				}
			}
			switch {
			case op.Security == nil:
				t.Errorf("%s does not say who may call it (security)", name)
			case public[op.OperationID] != (len(*op.Security) == 0):
				t.Errorf("%s: security %v, public %v", name, *op.Security, public[op.OperationID])
			}
			if op.RequestBody != nil {
				if s, ok := op.RequestBody.Content["application/json"]; ok && s.Schema["$ref"] != nil {
					t.Errorf("%s: request body is a $ref (openapi-typescript then requires fields with defaults)", name)
				}
			}
			if len(op.Tags) == 1 && op.Tags[0] == "Workflows" {
				creates++
				r, ok := op.Responses["200"]
				if !ok || !strings.Contains(r.Description, "Idempotency-Key") || r.Headers["Idempotent-Replayed"] == nil {
					t.Errorf("%s: the 200 of an idempotent replay is not documented: %+v", name, r)
				}
				if _, ok := op.Responses["202"]; !ok {
					t.Errorf("%s: no 202", name)
				}
			}
		}
	}
	if creates < 14 {
		t.Errorf("%d create operations, want every workflow's", creates)
	}
	for _, unused := range []string{"FormFile", "AvatarOption", "FaceSwapRequest"} {
		if _, ok := doc.Components.Schemas[unused]; ok {
			t.Errorf("component %s is in the document but used nowhere", unused)
		}
	}
	if _, ok := doc.Components.Schemas["TaskView"]; !ok {
		t.Error("TaskView, used by responses, was pruned")
	}
}

// TestOpenAPI_PublicURL: with LEPUS_PUBLIC_URL the document names it as
// its server.
func TestOpenAPI_PublicURL(t *testing.T) {
	t.Parallel()
	doc := getOpenAPI(t, Deps{PublicURL: "https://lepus.example.com"})
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://lepus.example.com" {
		t.Errorf("servers %+v", doc.Servers)
	}
}

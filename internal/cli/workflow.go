package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
)

// Workflow is one workflow the server offers, as its OpenAPI document
// describes it: the operation id names it (face-swap, skin-enhance, …).
// The list is read from the server, so the CLI never falls behind it.
type Workflow struct {
	Name    string
	Path    string
	Summary string
	// Body is the request body's schema; nil when the document has none.
	Body *Schema
}

// Schema is the part of a JSON Schema the CLI reads to turn --set and
// --file values into the right JSON types.
type Schema struct {
	Ref        string             `json:"$ref"`
	Type       any                `json:"type"` // "string" or ["array", "null"]
	Properties map[string]*Schema `json:"properties"`
	Items      *Schema            `json:"items"`
	Required   []string           `json:"required"`
	Enum       []any              `json:"enum"`
}

// Is reports whether the schema allows JSON type t.
func (s *Schema) Is(t string) bool {
	if s == nil {
		return false
	}
	switch v := s.Type.(type) {
	case string:
		return v == t
	case []any:
		return slices.Contains(v, any(t))
	}
	return false
}

// only reports whether t is the schema's one type (null aside).
func (s *Schema) only(t string) bool {
	if s == nil {
		return false
	}
	switch v := s.Type.(type) {
	case string:
		return v == t
	case []any:
		for _, x := range v {
			if x != t && x != "null" {
				return false
			}
		}
		return len(v) > 0
	}
	return false
}

// field returns the schema of the (dotted) key path, or nil.
func (s *Schema) field(keys []string) *Schema {
	for _, k := range keys {
		if s == nil {
			return nil
		}
		s = s.Properties[k]
	}
	return s
}

// workflowTag is the OpenAPI tag of the workflow create operations.
const workflowTag = "Workflows"

// Workflows reads the server's /openapi.json and returns its workflows,
// in path order.
func (c *Client) Workflows(ctx context.Context) ([]Workflow, error) {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string   `json:"operationId"`
			Summary     string   `json:"summary"`
			Tags        []string `json:"tags"`
			RequestBody struct {
				Content map[string]struct {
					Schema *Schema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]*Schema `json:"schemas"`
		} `json:"components"`
	}
	if _, err := c.getJSON(ctx, "/openapi.json", &doc); err != nil {
		return nil, err
	}
	resolve := func(s *Schema) *Schema {
		for i := 0; s != nil && s.Ref != "" && i < 8; i++ {
			s = doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
		}
		return s
	}
	var out []Workflow
	for path, ops := range doc.Paths {
		op, ok := ops["post"]
		if !ok || !slices.Contains(op.Tags, workflowTag) || op.OperationID == "" {
			continue
		}
		body := resolve(op.RequestBody.Content["application/json"].Schema)
		resolveAll(body, resolve, 0)
		out = append(out, Workflow{Name: op.OperationID, Path: path, Summary: op.Summary, Body: body})
	}
	slices.SortFunc(out, func(a, b Workflow) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// resolveAll replaces references inside s (properties, items) by their
// schemas, to a small depth (request bodies are shallow).
func resolveAll(s *Schema, resolve func(*Schema) *Schema, depth int) {
	if s == nil || depth > 4 {
		return
	}
	for k, p := range s.Properties {
		s.Properties[k] = resolve(p)
		resolveAll(s.Properties[k], resolve, depth+1)
	}
	s.Items = resolve(s.Items)
	resolveAll(s.Items, resolve, depth+1)
}

// findWorkflow returns the workflow named name ("face-swap"); a task type
// ("face_swap") is accepted too.
func findWorkflow(wfs []Workflow, name string) (Workflow, bool) {
	name = strings.ReplaceAll(strings.TrimSpace(name), "_", "-")
	for _, w := range wfs {
		if w.Name == name {
			return w, true
		}
	}
	return Workflow{}, false
}

// rawJSON pretty-prints a JSON document for --json output.
func rawJSON(data []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, bytes.TrimSpace(data), "", "  ") != nil {
		return string(data)
	}
	return b.String()
}

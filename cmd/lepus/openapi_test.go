package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// TestOpenAPICommand: `lepus openapi` prints the served document with no
// database or listener, its server taken from LEPUS_PUBLIC_URL.
func TestOpenAPICommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, publicURL, wantServer string }{
		{"Relative", "", "/"},
		{"PublicURL", "https://lepus.example.com", "https://lepus.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			getenv := func(k string) string {
				if k == "LEPUS_PUBLIC_URL" {
					return tc.publicURL
				}
				return ""
			}
			if err := run(context.Background(), []string{"openapi"}, getenv, nil, &out, &errOut); err != nil {
				t.Fatalf("lepus openapi: %v (%s)", err, errOut.String())
			}
			var doc struct {
				OpenAPI string
				Servers []struct{ URL string }
				Paths   map[string]any
			}
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if doc.OpenAPI != "3.1.0" || len(doc.Servers) != 1 || doc.Servers[0].URL != tc.wantServer || doc.Paths["/readyz"] == nil {
				t.Fatalf("openapi %q servers %+v, %d paths", doc.OpenAPI, doc.Servers, len(doc.Paths))
			}
		})
	}
}

// TestServe_Health: a running lepus serve is live and ready (its database,
// bucket, and River's and Lepus's tables), and keeps /healthz.
func TestServe_Health(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil)
	for _, path := range []string{"/livez", "/readyz", "/healthz"} {
		resp := s.do(t, http.MethodGet, path, "", nil, nil, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"status":"`)) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

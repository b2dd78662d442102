package httpapi

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestDocs_Offline: /docs (Swagger UI) and /redoc (ReDoc) are pages whose
// every script, stylesheet and link is served by Lepus itself, so they work
// with no network access; / leads to /docs.
func TestDocs_Offline(t *testing.T) {
	t.Parallel()
	b := setup(t, Deps{})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(t *testing.T, path string, header ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	// A reference in a page: src/href attributes and Redoc's spec-url.
	refRx := regexp.MustCompile(`(?:src|href|spec-url)="([^"]*)"`)

	for _, page := range []struct{ path, wantScript string }{
		{"/docs", "SwaggerUIBundle"},
		{"/redoc", "Redoc"},
	} {
		t.Run(strings.TrimPrefix(page.path, "/"), func(t *testing.T) {
			t.Parallel()
			resp, html := get(t, page.path)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("%s: %d %q", page.path, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("%s: CSP %q does not limit scripts to this server", page.path, csp)
			}
			if m := regexp.MustCompile(`https?://`).FindString(html); m != "" {
				t.Errorf("%s names an absolute URL: %s", page.path, html)
			}
			refs := refRx.FindAllStringSubmatch(html, -1)
			var scripts int
			for _, r := range refs {
				ref := r[1]
				if strings.HasPrefix(ref, "//") || strings.Contains(ref, ":") {
					t.Errorf("%s refers to another host: %q", page.path, ref)
					continue
				}
				// Relative to the page at the server's root.
				res, body := get(t, "/"+ref)
				if res.StatusCode != http.StatusOK {
					t.Errorf("%s refers to %s, which answers %d", page.path, ref, res.StatusCode)
					continue
				}
				ct := res.Header.Get("Content-Type")
				switch {
				case strings.HasSuffix(ref, ".js"):
					scripts++
					if ct != "text/javascript; charset=utf-8" || len(body) < 100 {
						t.Errorf("%s: Content-Type %q, %d bytes", ref, ct, len(body))
					}
					if strings.Contains(body, page.wantScript) {
						page.wantScript = ""
					}
				case strings.HasSuffix(ref, ".css"):
					if ct != "text/css; charset=utf-8" {
						t.Errorf("%s: Content-Type %q", ref, ct)
					}
				}
			}
			if scripts == 0 || page.wantScript != "" {
				t.Errorf("%s: %d scripts, none defining %s", page.path, scripts, page.wantScript)
			}
		})
	}

	t.Run("AssetRevalidated", func(t *testing.T) {
		t.Parallel()
		resp, _ := get(t, "/docs/assets/swagger-ui.css")
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != http.StatusOK || etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("%d ETag %q Cache-Control %q", resp.StatusCode, etag, resp.Header.Get("Cache-Control"))
		}
		if resp, _ := get(t, "/docs/assets/swagger-ui.css", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match %s: %d, want 304", etag, resp.StatusCode)
		}
	})

	t.Run("ErrNotAnAsset", func(t *testing.T) {
		t.Parallel()
		for _, p := range []string{"/docs/assets/README.md", "/docs/assets/", "/docs/assets/nope.js", "/docs/assets/swagger.html"} {
			if resp, _ := get(t, p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", p, resp.StatusCode)
			}
		}
	})

	t.Run("RootRedirects", func(t *testing.T) {
		t.Parallel()
		resp, _ := get(t, "/")
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/docs" {
			t.Fatalf("/: %d Location %q, want 302 /docs", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := get(t, "/nope"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/nope: %d, want 404 (only / itself redirects)", resp.StatusCode)
		}
	})
}

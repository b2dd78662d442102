package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/auth"
)

func newSigner(t *testing.T) *auth.Signer {
	t.Helper()
	s, err := auth.NewSigner([]byte("test-secret-test-secret-test-secret-0123"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func serve(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(Prefix, Handler(cfg))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestHandler_Files: the page and every file it loads are served with
// their type and the strict CSP; the page loads nothing from elsewhere.
func TestHandler_Files(t *testing.T) {
	t.Parallel()
	srv := serve(t, Config{})
	resp, page := get(t, srv.URL+"/console/", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /console/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); csp != CSP || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("CSP %q", csp)
	}
	// Every file the page names (src/href) is served; none is remote.
	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("page references %v", refs)
	}
	for _, m := range refs {
		if strings.Contains(m[1], "//") {
			t.Errorf("the page loads %s from elsewhere", m[1])
			continue
		}
		r, _ := get(t, srv.URL+"/console/"+m[1], nil)
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", m[1], r.StatusCode)
		}
	}
	// Every module the scripts import is served, with a JavaScript type.
	for name, f := range loadFiles() {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		for _, m := range regexp.MustCompile(`from '\./([a-z]+\.js)'`).FindAllStringSubmatch(string(f.data), -1) {
			r, _ := get(t, srv.URL+"/console/js/"+m[1], nil)
			if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
				t.Errorf("%s imports %s: %d %s", name, m[1], r.StatusCode, r.Header.Get("Content-Type"))
			}
		}
		if regexp.MustCompile(`https?://`).Match(f.data) {
			t.Errorf("%s names a remote URL", name)
		}
	}
	// An unchanged file is not sent again.
	r, _ := get(t, srv.URL+"/console/style.css", nil)
	if r2, _ := get(t, srv.URL+"/console/style.css", map[string]string{"If-None-Match": r.Header.Get("ETag")}); r2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", r2.StatusCode)
	}
	if r, _ := get(t, srv.URL+"/console/nope.js", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown file: %d", r.StatusCode)
	}
	if r, _ := get(t, srv.URL+"/console", nil); r.Request.URL.Path != "/console/" {
		t.Errorf("/console ended at %s", r.Request.URL.Path)
	}
}

// post sends a POST; a "Host" entry in header replaces the request's Host.
func post(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// wantForbidden checks a 403 problem+json naming the header at fault.
func wantForbidden(t *testing.T, resp *http.Response, body []byte, location string) {
	t.Helper()
	var p struct {
		Status int
		Errors []struct{ Location string }
	}
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/problem+json" ||
		json.Unmarshal(body, &p) != nil || p.Status != 403 || len(p.Errors) != 1 || p.Errors[0].Location != location {
		t.Errorf("%d %s %s; want 403 problem+json naming %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, location)
	}
	if strings.Contains(string(body), `"token"`) {
		t.Errorf("a refused sign-in returned a token: %s", body)
	}
}

// TestHandler_DevToken: with the developer sign-in on, the console's own
// page (Sec-Fetch-Site: same-origin, at a loopback or the public host)
// gets a short-lived token for DevUser; curl without the header, another
// site's page and a rebound DNS name do not; with it off the route does
// not exist.
func TestHandler_DevToken(t *testing.T) {
	t.Parallel()
	signer := newSigner(t)
	wantToken := func(t *testing.T, resp *http.Response, body []byte) {
		t.Helper()
		var out struct {
			Token     string
			User      string
			ExpiresIn int `json:"expires_in"`
		}
		if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		user, err := signer.Verify(out.Token)
		if err != nil || user != DevUser || out.User != DevUser || out.ExpiresIn != 3600 {
			t.Errorf("token for %q (%v), %+v", user, err, out)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
	}
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		srv := serve(t, Config{Signer: signer, DevSignIn: true, PublicURL: "https://lepus.example"})
		_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
		for _, h := range []map[string]string{
			{"Sec-Fetch-Site": "same-origin"},
			{"Origin": srv.URL, "Sec-Fetch-Site": "same-origin"},
			{"Host": "localhost:" + port, "Sec-Fetch-Site": "same-origin"},
			{"Host": "[::1]:" + port, "Sec-Fetch-Site": "same-origin"},
			{"Host": "lepus.example", "Origin": "https://lepus.example", "Sec-Fetch-Site": "same-origin"},
			{"Host": "LEPUS.example:443", "Sec-Fetch-Site": "same-origin"},
		} {
			resp, body := post(t, srv.URL+"/console/dev-token", h)
			wantToken(t, resp, body)
		}
	})
	t.Run("ErrNoSecFetchSite", func(t *testing.T) {
		t.Parallel()
		srv := serve(t, Config{Signer: signer, DevSignIn: true})
		// curl, or a browser that does not say where a request comes from.
		for _, h := range []map[string]string{nil, {"Origin": srv.URL}} {
			resp, body := post(t, srv.URL+"/console/dev-token", h)
			wantForbidden(t, resp, body, "header.Sec-Fetch-Site")
		}
	})
	t.Run("ErrOtherSite", func(t *testing.T) {
		t.Parallel()
		srv := serve(t, Config{Signer: signer, DevSignIn: true})
		for _, tc := range []struct {
			header   map[string]string
			location string
		}{
			{map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://elsewhere.example"}, "header.Sec-Fetch-Site"},
			{map[string]string{"Sec-Fetch-Site": "same-site", "Origin": srv.URL}, "header.Sec-Fetch-Site"},
			{map[string]string{"Sec-Fetch-Site": "none"}, "header.Sec-Fetch-Site"},
			{map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://elsewhere.example"}, "header.Origin"},
			{map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "null"}, "header.Origin"},
		} {
			resp, body := post(t, srv.URL+"/console/dev-token", tc.header)
			wantForbidden(t, resp, body, tc.location)
		}
		if r, _ := get(t, srv.URL+"/console/dev-token", nil); r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d", r.StatusCode)
		}
	})
	t.Run("ErrRebinding", func(t *testing.T) {
		t.Parallel()
		// evil.example resolved to this server: the browser calls the
		// request same-origin, but Host names the other site.
		srv := serve(t, Config{Signer: signer, DevSignIn: true, PublicURL: "https://lepus.example"})
		_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
		for _, host := range []string{"evil.example:" + port, "localhost.evil.example:" + port, "127.0.0.1.evil.example", "lepus.example.evil.example", "lepus.example:8443"} {
			resp, body := post(t, srv.URL+"/console/dev-token", map[string]string{
				"Host": host, "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin",
			})
			wantForbidden(t, resp, body, "header.Host")
		}
	})
	t.Run("ErrOff", func(t *testing.T) {
		t.Parallel()
		srv := serve(t, Config{Signer: signer})
		if resp, body := post(t, srv.URL+"/console/dev-token", map[string]string{"Sec-Fetch-Site": "same-origin"}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("off: %d %s", resp.StatusCode, body)
		}
	})
}

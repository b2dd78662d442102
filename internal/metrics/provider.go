package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// ProviderTransport wraps next (http.DefaultTransport when nil) so every
// call to provider is counted by endpoint and result code and timed. The
// provider clients take an *http.Client; this instruments them at the
// HTTP boundary, whatever the call is (submit, poll, list, download).
func (m *Metrics) ProviderTransport(provider string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if m == nil {
		return next
	}
	return &providerTransport{m: m, provider: provider, next: next}
}

type providerTransport struct {
	m        *Metrics
	provider string
	next     http.RoundTripper
}

func (t *providerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	endpoint := t.m.endpoints.name(t.provider, req.Method, req.URL.Path)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.m.providerCalls.WithLabelValues(t.provider, endpoint, code).Inc()
	t.m.providerDuration.WithLabelValues(t.provider, endpoint).Observe(time.Since(start).Seconds())
	return resp, err
}

// maxEndpoints bounds the endpoint label values of one provider; past it
// calls are counted as "other". Lepus calls a few dozen endpoints, so this
// is only a guard against a path shape the id rule below misses.
const maxEndpoints = 100

// endpointNames turns request paths into bounded endpoint labels.
type endpointNames struct {
	mu   sync.Mutex
	seen map[string]map[string]bool // provider → endpoint
}

// name is "METHOD /path" with every path segment that looks like an id
// written {id}, so GET /v1/videos/omni-video/861234 and /861235 are one
// endpoint. The provider clients build paths from fixed endpoint
// constants plus an id, and their query strings (list pages) are left out.
func (e *endpointNames) name(provider, method, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if isID(s) {
			segs[i] = "{id}"
		}
	}
	name := method + " " + strings.Join(segs, "/")
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen == nil {
		e.seen = map[string]map[string]bool{}
	}
	seen := e.seen[provider]
	if seen == nil {
		seen = map[string]bool{}
		e.seen[provider] = seen
	}
	if !seen[name] {
		if len(seen) >= maxEndpoints {
			return "other"
		}
		seen[name] = true
	}
	return name
}

// isID reports whether a path segment is an identifier rather than an
// endpoint word. Endpoint words are lowercase words joined by '-' with at
// most one run of digits ("v1", "v2beta", "image2video",
// "multi-image2image"); ids are long, or carry '_', capitals or several
// digit runs (Kling's numeric task ids, Stability's hex ids, Lepus's
// "tsk_…-image" external ids).
func isID(s string) bool {
	if s == "" {
		return false
	}
	if len(s) > 40 {
		return true
	}
	runs, inRun, letters := 0, false, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if !inRun {
				runs++
			}
			inRun = true
			continue
		case r >= 'a' && r <= 'z':
			letters++
		case r == '-' || r == '.':
		default: // '_', capitals, anything else
			if unicode.IsUpper(r) || r == '_' || r > unicode.MaxASCII {
				return true
			}
		}
		inRun = false
	}
	return runs > 1 || (runs == 1 && letters == 0)
}

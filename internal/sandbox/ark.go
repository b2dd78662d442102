package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// The sandbox also fakes Doubao Seedream 4.0 image generation on Volcengine
// Ark (other-providers.md §2) at POST /ark/api/v3/images/generations, so a
// client with base URL {sandbox}/ark/api/v3 works. It is strict like the
// real API (ark_validate.go), answers with JSON or server-sent events, and
// makes portraits derived from the first reference image (ark_render.go),
// served as JPEG from /sandbox/cdn/ark/{gen}/{index}.jpeg.

// pathArkImages is the Ark images endpoint under the sandbox.
const pathArkImages = "/ark/api/v3/images/generations"

// arkState is the fake Ark's memory; guarded by Sandbox.mu. The zero value
// is ready to use.
type arkState struct {
	gens     map[string]*arkGen // answered generations, by id (for the CDN)
	seq      uint64
	failNext int          // FailArk calls not yet used
	mixed    map[int]bool // image indexes to fail with moderation
	calls    int          // requests with a valid key
	images   int          // images made (billed)
}

// FailArk makes the next n valid requests fail: a non-streamed one with
// HTTP 500 InternalServiceError, a streamed one with a single
// partial_failed event after which the stream stops, as an internal error
// stops the rest of a group. Requests refused by validation do not use one.
func (s *Sandbox) FailArk(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ark.failNext += n
}

// ArkMixed makes the given image indexes of every following request come
// back as partial_failed OutputImageSensitiveContentDetected while the
// other images succeed, as Ark's moderation does to one image of a group.
// ArkMixed() with no indexes restores all-success.
func (s *Sandbox) ArkMixed(failIndexes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ark.mixed = map[int]bool{}
	for _, i := range failIndexes {
		s.ark.mixed[i] = true
	}
}

// arkItem is one element of data[] or the image part of a stream event.
type arkItem struct {
	URL     string        `json:"url,omitempty"`
	B64JSON string        `json:"b64_json,omitempty"`
	Size    string        `json:"size,omitempty"`
	Error   *arkItemError `json:"error,omitempty"`
}

type arkItemError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type arkUsage struct {
	GeneratedImages int `json:"generated_images"`
	OutputTokens    int `json:"output_tokens"`
	TotalTokens     int `json:"total_tokens"`
}

// handleArkImages serves POST /ark/api/v3/images/generations.
func (s *Sandbox) handleArkImages(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.cfg.ArkKey {
		writeArkError(w, arkErr(http.StatusUnauthorized, "AuthenticationError", "",
			"The API key or AK/SK in the request is missing or invalid."))
		return
	}
	s.mu.Lock()
	s.ark.calls++
	s.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCreateBody))
	if err != nil {
		writeArkError(w, arkErr(http.StatusBadRequest, "InvalidParameter", "", "cannot read the request body"))
		return
	}
	req, e := validateArk(body, s.cfg.ArkImages)
	if e != nil {
		writeArkError(w, e)
		return
	}
	if e := s.arkCheckImages(r.Context(), req); e != nil {
		writeArkError(w, e)
		return
	}

	s.mu.Lock()
	fail := s.ark.failNext > 0
	if fail {
		s.ark.failNext--
	}
	mixed := s.ark.mixed
	s.ark.seq++
	g := req.gen(strconv.FormatUint(s.idBase+s.ark.seq, 10))
	g.created = s.cfg.Now()
	if s.ark.gens == nil {
		s.ark.gens = map[string]*arkGen{}
	}
	s.ark.gens[g.id] = g
	s.mu.Unlock()

	if fail && !req.stream {
		writeArkError(w, arkErr(http.StatusInternalServerError, "InternalServiceError", "",
			"The service encountered an unexpected internal error."))
		return
	}
	out := &arkAnswer{s: s, w: w, r: r, req: req, g: g, created: s.cfg.Now().Unix()}
	out.run(fail, mixed)
}

// run makes the images one by one over the latency, sending each as it is
// done when streamed, then ends the answer.
func (a *arkAnswer) run(fail bool, mixed map[int]bool) {
	s, r, req, g := a.s, a.r, a.req, a.g
	per := s.cfg.ArkLatency / time.Duration(req.n)
	for i := range req.n {
		if !sleep(r.Context(), per) {
			return
		}
		var item arkItem
		stop := false // an internal error stops the rest of the group, as at Ark
		switch {
		case fail:
			item.Error = &arkItemError{Code: "InternalServiceError", Message: "The service encountered an unexpected internal error." + requestIDSuffix()}
			stop = true
		case mixed[i]:
			item.Error = &arkItemError{Code: "OutputImageSensitiveContentDetected",
				Message: "The request failed because the output image may contain sensitive information." + requestIDSuffix()}
		default:
			it, err := s.arkImage(r, g, i)
			if err != nil {
				s.log.Error("sandbox: ark render", "gen_id", g.id, "index", i, "err", err)
				it = arkItem{Error: &arkItemError{Code: "InternalServiceError", Message: "cannot render the image" + requestIDSuffix()}}
				stop = true
			}
			item = it
		}
		if !a.item(i, item) {
			return // the client has gone
		}
		if stop {
			if !req.stream {
				a.finish()
			}
			return // a stream just ends, without its completed event
		}
	}
	a.finish()
}

// arkImage makes image i of g as a URL or base64 item and counts it.
func (s *Sandbox) arkImage(r *http.Request, g *arkGen, i int) (arkItem, error) {
	item := arkItem{Size: g.size}
	if g.b64 {
		b, err := s.arkResult(g, i)
		if err != nil {
			return arkItem{}, err
		}
		item.B64JSON = encodeBase64(b)
	} else {
		item.URL = fmt.Sprintf("%s/sandbox/cdn/ark/%s/%d.jpeg?X-Tos-Expires=86400", s.resultBase(r), g.id, i)
	}
	s.mu.Lock()
	s.ark.images++
	g.ok = append(g.ok, i)
	rec := s.arkRecordLocked(g)
	s.mu.Unlock()
	s.saveArk(rec) // before the URL is sent
	return item, nil
}

// arkAnswer writes one generation's answer: events as images are made
// when streamed, else the collected JSON at the end.
type arkAnswer struct {
	s       *Sandbox
	w       http.ResponseWriter
	r       *http.Request
	req     *arkRequest
	g       *arkGen
	created int64
	items   []arkItem
	usage   arkUsage
}

// item records image i; it reports false when the client has gone.
func (a *arkAnswer) item(i int, it arkItem) bool {
	a.items = append(a.items, it)
	if it.Error == nil {
		a.usage.GeneratedImages++
		a.usage.OutputTokens += a.g.pixels / 256
		a.usage.TotalTokens = a.usage.OutputTokens
	}
	if !a.req.stream {
		return true
	}
	typ := "image_generation.partial_succeeded"
	if it.Error != nil {
		typ = "image_generation.partial_failed"
	}
	return a.event(typ, struct {
		Type       string `json:"type"`
		Model      string `json:"model"`
		Created    int64  `json:"created"`
		ImageIndex int    `json:"image_index"`
		arkItem
	}{typ, a.req.model, a.created, i, it})
}

// finish ends the answer: the completed event and [DONE], or the JSON.
func (a *arkAnswer) finish() {
	if a.req.stream {
		typ := "image_generation.completed"
		if a.event(typ, map[string]any{"type": typ, "model": a.req.model, "created": a.created, "usage": a.usage}) {
			_, _ = io.WriteString(a.w, "data: [DONE]\n\n")
		}
		return
	}
	a.w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(a.w).Encode(map[string]any{
		"model": a.req.model, "created": a.created, "data": a.items, "usage": a.usage,
	})
}

// event writes one SSE event and flushes it. The first event also sends
// the headers, as Ark's do only once the first image is done.
func (a *arkAnswer) event(typ string, data any) bool {
	b, err := json.Marshal(data)
	if err != nil {
		a.s.log.Error("sandbox: ark event", "err", err)
		return false
	}
	h := a.w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
	}
	if _, err := fmt.Fprintf(a.w, "event: %s\ndata: %s\n\n", typ, b); err != nil {
		return false
	}
	return http.NewResponseController(a.w).Flush() == nil && a.r.Context().Err() == nil
}

// arkError is a whole-request refusal in Ark's shape.
type arkError struct {
	status               int
	code, param, message string
}

func arkErr(status int, code, param, message string) *arkError {
	return &arkError{status: status, code: code, param: param, message: message}
}

// arkTypes is the "type" Ark sends with each status.
var arkTypes = map[int]string{400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 429: "TooManyRequests", 500: "InternalServerError"}

// writeArkError writes {"error": {code, message, param, type}}.
func writeArkError(w http.ResponseWriter, e *arkError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
		"code": e.code, "message": e.message + requestIDSuffix(), "param": e.param, "type": arkTypes[e.status],
	}})
}

// requestIDSuffix ends Ark error messages, which name the request.
func requestIDSuffix() string { return " Request id: " + requestID() }

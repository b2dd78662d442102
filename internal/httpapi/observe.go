package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/metrics"
)

// RequestIDHeader carries a request's id, accepted from the client (or a
// proxy before it) and returned on every response.
const RequestIDHeader = "X-Request-Id"

// maxRequestID is the longest request id accepted from a client.
const maxRequestID = 128

// quietRoutes are probed and scraped every few seconds: their successes
// are logged at debug, not info, so they do not drown the access log.
var quietRoutes = map[string]bool{"/livez": true, "/readyz": true, "/healthz": true, "/metrics": true}

// requestInfo is what the access log learns while a request is served.
type requestInfo struct{ user string }

type requestInfoKey struct{}

// observe gives each request an id (the client's X-Request-Id when valid,
// else a new one), returns it, puts it in the context (tasks created by the
// request keep it), and after the response writes one access log line and
// the HTTP metrics, by route pattern, never by raw path: paths hold
// callback tokens and upload ids, which are secrets.
func observe(log *slog.Logger, m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		info := &requestInfo{}
		r = r.WithContext(lepus.WithRequestID(context.WithValue(r.Context(), requestInfoKey{}, info), id))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			// The mux set r.Pattern on this very request while routing.
			method, route := routeOf(r)
			status := rec.status
			if status == 0 {
				status = http.StatusOK // nothing written: net/http sends 200
			}
			d := time.Since(start)
			m.HTTPRequest(method, route, status, d)
			if provider, ok := strings.CutPrefix(route, "/callbacks/"); ok {
				provider, _, _ = strings.Cut(provider, "/")
				m.Callback(provider, status)
			}
			level := slog.LevelInfo
			if quietRoutes[route] && status < 400 {
				level = slog.LevelDebug
			}
			// Not r's context: its request id would be added a second time.
			log.LogAttrs(context.Background(), level, "http request",
				slog.String("method", method), slog.String("route", route), slog.Int("status", status),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.Int64("bytes", rec.bytes),
				slog.String("user_id", info.user), slog.String("request_id", id))
		}()
		next.ServeHTTP(rec, r)
	})
}

// noteUser tells the access log who the authenticated caller is; it runs
// after authMiddleware.
func noteUser(ctx huma.Context, next func(huma.Context)) {
	if info, ok := ctx.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.user = userID(ctx.Context())
	}
	next(ctx)
}

// mountMetrics serves the Prometheus metrics at GET /metrics, when the
// server has them.
func mountMetrics(mux *http.ServeMux, m *metrics.Metrics, log *slog.Logger) {
	if m != nil {
		mux.Handle("GET /metrics", m.Handler(log))
	}
}

// validRequestID accepts 1 to 128 printable ASCII characters: the id is
// logged and echoed in a header, so nothing else gets through.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// newRequestID returns 32 hex digits of crypto/rand.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// knownMethods are the methods reported as themselves; any other is
// "other", so a client cannot mint label values.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// routeOf returns the request's method and the path of the route pattern
// that served it ("/tasks/{id}"), or "unmatched".
func routeOf(r *http.Request) (method, route string) {
	method = r.Method
	if !knownMethods[method] {
		method = "other"
	}
	if r.Pattern == "" {
		return method, "unmatched"
	}
	route = r.Pattern
	if _, path, ok := strings.Cut(route, " "); ok {
		route = path
	}
	return method, route
}

// statusRecorder notes the status and size of a response. It unwraps to
// the writer it wraps (http.ResponseController, huma's deadlines) and
// flushes (event streams).
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

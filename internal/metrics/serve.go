package metrics

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Listen serves GET /metrics on addr, apart from the API: the only way to
// scrape lepus worker, which serves no HTTP API. It returns once the
// listener is open, with the bound address (addr may use port 0); stop
// closes it.
func (m *Metrics) Listen(addr string, logger *slog.Logger) (bound string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(logger))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && logger != nil {
			logger.Error("metrics server stopped", "error", err)
		}
	}()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}

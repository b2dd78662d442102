package metrics

import (
	"strconv"
	"time"
)

// HTTPRequest records one served request: method, route pattern (never the
// raw path, so ids do not multiply series), status and duration.
func (m *Metrics) HTTPRequest(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

// Callback records a provider's status callback and the status it was
// answered with (200 taken as a hint, 404 for an unknown token, …).
func (m *Metrics) Callback(provider string, status int) {
	if m == nil {
		return
	}
	m.callbacks.WithLabelValues(provider, strconv.Itoa(status)).Inc()
}

// Package metrics owns Lepus's Prometheus metrics: their names, labels and
// buckets, the registry they live in, and the few adapters that feed them
// (a lepus.Store decorator for task lifecycles, a RoundTripper for provider
// calls, a collector that reads the queue at scrape time). It keeps no
// global state: the program builds one Metrics and passes it on.
package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// durationBuckets span a provider's life: sub-second API calls to the
// tens of minutes a long video may take (seconds).
var durationBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 2400}

// requestBuckets are for HTTP handlers and provider calls (seconds).
var requestBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Metrics are every metric a lepus process exports. A nil *Metrics is
// valid and records nothing, so components built without one (unit tests)
// need no checks.
type Metrics struct {
	reg *prometheus.Registry

	tasksCreated  *prometheus.CounterVec   // type
	tasksEnded    *prometheus.CounterVec   // type, status
	queued        *prometheus.HistogramVec // workflow, provider
	atProvider    *prometheus.HistogramVec // workflow, provider
	collecting    *prometheus.HistogramVec // workflow, provider
	total         *prometheus.HistogramVec // workflow, provider, status
	polls         *prometheus.CounterVec   // workflow, provider
	creditsDebit  *prometheus.CounterVec   // type
	creditsRefund *prometheus.CounterVec   // type

	providerCalls    *prometheus.CounterVec   // provider, endpoint, code
	providerDuration *prometheus.HistogramVec // provider, endpoint
	callbacks        *prometheus.CounterVec   // provider, code

	httpRequests *prometheus.CounterVec   // method, route, code
	httpDuration *prometheus.HistogramVec // method, route

	endpoints endpointNames
}

// New returns Metrics registered in a registry of their own, with Go's
// runtime and the process's collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "lepus", Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "lepus", Name: name, Help: help, Buckets: buckets}, labels)
		m.reg.MustRegister(h)
		return h
	}
	m.tasksCreated = counter("tasks_created_total", "Tasks accepted, by task type.", "type")
	m.tasksEnded = counter("tasks_ended_total", "Tasks that ended, by task type and final status.", "type", "status")
	m.queued = histogram("task_queued_seconds",
		"Time from a task's creation to its first run, observed when it ends.", durationBuckets, "workflow", "provider")
	m.atProvider = histogram("task_provider_seconds",
		"Time a stage spent at its provider (accepted to seen ended), per stage, observed when the task ends.", durationBuckets, "workflow", "provider")
	m.collecting = histogram("task_collect_seconds",
		"Time from a stage ending at its provider to its last result stored, per stage, observed when the task ends.", durationBuckets, "workflow", "provider")
	m.total = histogram("task_total_seconds",
		"Time from a task's creation to its end.", durationBuckets, "workflow", "provider", "status")
	m.polls = counter("task_polls_total",
		"Status queries of single provider tasks, counted when their task ends (batch list polls are in lepus_provider_calls_total).", "workflow", "provider")
	m.creditsDebit = counter("credits_debited_total", "Credits debited when tasks were accepted, by task type.", "type")
	m.creditsRefund = counter("credits_refunded_total", "Credits refunded to failed, canceled or partly failed tasks, by task type.", "type")
	m.providerCalls = counter("provider_calls_total",
		`Provider HTTP calls, by provider, endpoint ("METHOD /path" with ids as {id}) and result code (the HTTP status, or "error" when no answer came).`,
		"provider", "endpoint", "code")
	m.providerDuration = histogram("provider_call_seconds", "Provider HTTP call latency, to the response headers.", requestBuckets, "provider", "endpoint")
	m.callbacks = counter("callbacks_total", "Provider status callbacks received, by provider and answer status.", "provider", "code")
	m.httpRequests = counter("http_requests_total", "HTTP requests, by method, route pattern and status.", "method", "route", "code")
	m.httpDuration = histogram("http_request_seconds",
		"HTTP request duration, to the end of the response (event streams last as long as the task).", requestBuckets, "method", "route")
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is where the metrics live; more collectors can be added to it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's text format. A collector that
// fails (the database is down) is logged and left out; the rest is served.
func (m *Metrics) Handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{logger},
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       10 * time.Second, // a scrape never hangs on a stuck query
	})
}

// slogPrinter adapts a *slog.Logger to promhttp's Logger.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	if p.log != nil {
		p.log.Warn("metrics scrape", "error", slogJoin(v))
	}
}

func slogJoin(v []any) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

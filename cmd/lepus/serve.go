package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/riverqueue/river"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/auth"
	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/config"
	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/httpapi"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/job/adapter"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/metrics"
	"github.com/lepus-ai/lepus/internal/provider/ark"
	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/provider/llm"
	"github.com/lepus-ai/lepus/internal/provider/stability"
	"github.com/lepus-ai/lepus/internal/sqlstore"
	"github.com/lepus-ai/lepus/internal/webhook"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// role is what one lepus process does: serve the HTTP API, work the
// queue, or both.
type role struct {
	name string
	api  bool // serve the HTTP API
	work bool // run jobs: workers, crash recovery, batch polling
}

var (
	roleServe  = role{name: "serve", api: true, work: true}
	roleAPI    = role{name: "api", api: true}
	roleWorker = role{name: "worker", work: true}
)

// runServe runs the API and the workers in one process until ctx ends: the
// embedded default (SQLite, local files, the provider sandbox when no keys
// are set), and also one process of many on Postgres.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runRole(ctx, roleServe, args, getenv, stdout, stderr)
}

// runRole runs one role until ctx ends. lepus api and lepus worker are for
// scale: any number of each on one Postgres database (one process holds a
// SQLite database), with real provider keys (the built-in sandbox lives in
// a serve process), on tables `lepus migrate` made current.
//
// Shutdown order: see server.shutdown.
func runRole(ctx context.Context, r role, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(r.name, flag.ContinueOnError)
	cfg, logger, err := loadConfig(fs, args, getenv, stderr)
	if err != nil {
		return err
	}
	if r != roleServe {
		if !cfg.IsPostgres() {
			return fmt.Errorf("lepus %s needs a Postgres LEPUS_DATABASE_URL shared with the other processes; on SQLite run lepus serve", r.name)
		}
		if cfg.SandboxMode() {
			return fmt.Errorf("lepus %s needs provider keys (KLING_ACCESS_KEY, KLING_SECRET_KEY): the built-in sandbox runs only in lepus serve; for a shared sandbox run lepus sandbox and point KLING_BASE_URL at it", r.name)
		}
		// Workers render webhook payloads and APIs their answers: with no
		// listener of their own to derive it from (a worker) or behind a
		// load balancer (an API), links would be relative or wrong.
		if cfg.PublicURL == "" {
			return fmt.Errorf("lepus %s needs LEPUS_PUBLIC_URL, the address clients reach the API at (task, asset and upload links and webhook payloads are built from it); lepus serve alone derives it from its listener", r.name)
		}
	}
	var ln net.Listener
	if r.api {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
		defer ln.Close()
		if cfg.PublicURL == "" {
			cfg.PublicURL = "http://" + ln.Addr().String()
		}
	}

	if cfg.DebugAddr != "" {
		stop, err := startDebug(cfg.DebugAddr, logger)
		if err != nil {
			return fmt.Errorf("LEPUS_DEBUG_ADDR: %w", err)
		}
		defer stop()
	}
	m := metrics.New() // this process's registry: no global default
	if cfg.MetricsAddr != "" {
		bound, stop, err := m.Listen(cfg.MetricsAddr, logger)
		if err != nil {
			return fmt.Errorf("LEPUS_METRICS_ADDR: %w", err)
		}
		defer stop()
		logger.Info("metrics serving", "url", "http://"+bound+"/metrics")
	}
	var db *database
	if r == roleServe {
		db, err = openDatabase(ctx, cfg, logger)
	} else {
		db, err = openMigrated(ctx, cfg, logger)
	}
	if err != nil {
		return err
	}
	defer db.close()

	pc, mode, stopSandbox, err := buildProviders(ctx, cfg, getenv, m, logger)
	if err != nil {
		return err
	}
	defer stopSandbox()
	srv, err := wire(ctx, cfg, r, db, pc, mode, m, logger)
	if err != nil {
		return err
	}
	if r.work {
		// The process is known (and what a dead predecessor left running is
		// handed back) before the queue fetches its first job.
		if err := srv.rescuer.Start(ctx); err != nil {
			return fmt.Errorf("start crash recovery: %w", err)
		}
		// Not ctx itself: River treats the end of Start's context as a hard
		// stop that cancels running jobs at once, before shutdown's grace and
		// hand-back. shutdown stops the queue.
		if err := srv.queue.Start(context.WithoutCancel(ctx)); err != nil {
			srv.rescuer.Stop(ctx)
			srv.waker.Stop()
			return fmt.Errorf("start queue: %w", err)
		}
		for _, w := range srv.engine.Watchers {
			w.Start(ctx)
		}
	}
	if srv.listener != nil {
		srv.listener.Start(ctx)
	}
	var httpSrv *http.Server
	serveErr := make(chan error, 1)
	if r.api {
		httpSrv = &http.Server{Handler: httpapi.CORS(cfg.CORSOrigins)(srv.handler), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
		go func() { serveErr <- httpSrv.Serve(ln) }()
	}
	logger.Info("lepus "+r.name+" running", "url", cfg.PublicURL, "mode", mode, "database", db.store.Dialect())
	if cfg.AllowPrivateURLs {
		logger.Warn("SSRF guard off: URL inputs and result downloads may reach loopback and private addresses (LEPUS_ALLOW_PRIVATE_URLS, on by default in sandbox mode); never expose this server to untrusted users",
			"mode", mode)
	}
	if mode == "live" && !publicReachable(cfg.PublicURL) {
		logger.Warn("LEPUS_PUBLIC_URL is not reachable from the internet: providers cannot fetch uploads or post callbacks; set it to this server's public address",
			"public_url", cfg.PublicURL)
	}
	if r.api {
		fmt.Fprintf(stdout, "lepus serving at %s (%s mode)\n", cfg.PublicURL, mode)
	} else {
		fmt.Fprintf(stdout, "lepus worker running (%s mode)\n", mode)
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "error", err)
		}
	}
	srv.shutdown(context.WithoutCancel(ctx), r, httpSrv, cfg.ShutdownGrace, logger)
	return nil
}

// buildProviders builds the provider clients: the configured ones, and in
// sandbox mode (no Kling keys) the built-in sandbox for every provider
// without its own key. stop ends the sandbox. Every client's calls are
// counted in m.
func buildProviders(ctx context.Context, cfg config.Config, getenv func(string) string, m *metrics.Metrics, logger *slog.Logger) (pc providers, mode string, stop func(), err error) {
	kcfg := kling.Config{BaseURL: cfg.Kling.BaseURL, AccessKey: cfg.Kling.AccessKey, SecretKey: cfg.Kling.SecretKey,
		HTTPClient: providerHTTP(m, workflow.ProviderKling, 60*time.Second)}
	lcfg := cfg.LLM
	scfg := cfg.Stability
	acfg := cfg.Ark
	mode, stop = "live", func() {}
	if cfg.SandboxMode() {
		sb, err := startSandbox(ctx, getenv, cfg.DataDir, logger)
		if err != nil {
			return pc, "", stop, err
		}
		stop = sb.stop
		kcfg.BaseURL, kcfg.AccessKey, kcfg.SecretKey = sb.url, sb.cfg.AccessKey, sb.cfg.SecretKey
		if !lcfg.Configured() {
			lcfg = config.LLMConfig{BaseURL: sb.url + "/llm/v1", APIKey: sb.cfg.LLMKey, Model: "sandbox-llm"}
		}
		if scfg.APIKey == "" {
			scfg = config.StabilityConfig{BaseURL: sb.url, APIKey: sb.cfg.StabilityKey}
		}
		if acfg.APIKey == "" {
			acfg.BaseURL, acfg.APIKey = sb.url+"/ark/api/v3", sb.cfg.ArkKey
		}
		mode = "sandbox"
		logger.Info("no Kling keys set: using the built-in provider sandbox", "sandbox_url", sb.url)
	}
	if lcfg.Configured() {
		if pc.llm, err = llm.NewClient(llm.Config{BaseURL: lcfg.BaseURL, APIKey: lcfg.APIKey, Model: lcfg.Model,
			HTTPClient: providerHTTP(m, workflow.ProviderLLM, 60*time.Second)}); err != nil {
			return pc, "", stop, err
		}
	}
	pc.kling, pc.seedreamModel = kling.NewClient(kcfg), acfg.Model
	if acfg.APIKey != "" {
		// No client timeout: a Seedream group takes minutes; the context bounds it.
		pc.ark = ark.NewClient(ark.Config{BaseURL: acfg.BaseURL, APIKey: acfg.APIKey, HTTPClient: providerHTTP(m, workflow.ProviderArk, 0)})
	}
	if scfg.APIKey != "" {
		pc.stability = stability.NewClient(stability.Config{BaseURL: scfg.BaseURL, APIKey: scfg.APIKey,
			HTTPClient: providerHTTP(m, workflow.ProviderStability, 120*time.Second)})
	}
	return pc, mode, stop, nil
}

// providerHTTP is a provider client's *http.Client, with the timeout its
// package would default to: pooled connections (many concurrent polls
// reuse them instead of paying a TLS handshake each), every call counted
// in m by endpoint and result code.
func providerHTTP(m *metrics.Metrics, provider string, timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost, t.IdleConnTimeout = 512, 256, 90*time.Second
	return &http.Client{Transport: m.ProviderTransport(provider, t), Timeout: timeout}
}

// shutdown stops the process in order: event streams end at once (clients
// reconnect elsewhere) and no new request or job is taken; running steps
// get the grace period to finish; what is still running then is cut short
// and handed back to the queue without costing an attempt; last, the
// process leaves (so others need not wait for its heartbeat to lapse).
func (s *server) shutdown(ctx context.Context, r role, httpSrv *http.Server, grace time.Duration, logger *slog.Logger) {
	logger.Info("shutting down", "grace", grace)
	close(s.closing)
	if s.listener != nil {
		s.listener.Stop() // the streams it fed have ended
	}
	graceCtx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		if httpSrv != nil {
			if err := httpSrv.Shutdown(graceCtx); err != nil {
				_ = httpSrv.Close()
			}
		}
	}()
	if !r.work {
		<-httpDone
		s.waker.Stop()
		return
	}
	if err := s.queue.Stop(graceCtx); err != nil {
		logger.Warn("running steps did not finish within the grace period; handing them back", "error", err)
		s.engine.Stopping()
		cutCtx, cancelCut := context.WithTimeout(ctx, 10*time.Second)
		if err := s.queue.StopAndCancel(cutCtx); err != nil {
			logger.Warn("stop queue", "error", err)
		}
		cancelCut()
	}
	<-httpDone
	for _, w := range s.engine.Watchers {
		w.Stop()
	}
	s.waker.Stop()
	s.rescuer.Stop(ctx)
}

// server is a wired Lepus: the HTTP handler, the queue and what keeps it.
type server struct {
	handler http.Handler
	queue   *job.Client
	engine  *job.Engine
	waker   *job.Waker
	rescuer *job.Rescuer
	closing chan struct{} // closed at shutdown: ends event streams
	// listener feeds the hub with other processes' task changes; nil on
	// SQLite (one process) and in a worker (no event streams).
	listener *sqlstore.TaskListener
}

// providers are the provider clients, built for live or sandbox mode.
type providers struct {
	kling         *kling.Client
	llm           *llm.Client       // nil: no LLM configured
	stability     *stability.Client // nil: relight unavailable
	ark           *ark.Client       // nil: portraits come from Kling
	seedreamModel string
}

// wire builds and connects every component. It is the one place that knows
// every concrete type.
func wire(ctx context.Context, cfg config.Config, r role, db *database, pc providers, mode string, m *metrics.Metrics, logger *slog.Logger) (*server, error) {
	secret, err := auth.LoadOrCreateSecret(cfg.JWTSecret, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	signer, err := auth.NewSigner(secret, time.Now)
	if err != nil {
		return nil, err
	}
	bucket, err := blob.Open(ctx, cfg.BlobURL)
	if err != nil {
		return nil, err
	}
	fetcher := fetch.New(fetch.Config{AllowPrivate: cfg.AllowPrivateURLs})
	workflows := workflow.NewRegistry(cfg.PollInterval)
	if err := workflows.CheckCosts(cfg.Costs); err != nil {
		return nil, fmt.Errorf("LEPUS_COSTS: %w", err)
	}
	hub := app.NewHub()
	hub.Recheck = cfg.EventsRecheck
	var listener *sqlstore.TaskListener
	if r.api && cfg.IsPostgres() {
		// Event streams here hear at once of the changes any process commits.
		listener = &sqlstore.TaskListener{DSN: cfg.DatabaseURL, OnTask: hub.Publish, OnReset: hub.PublishAll, Logger: logger}
	}

	// Every task's start and end pass through this store: it counts them.
	store := &metrics.Store{Store: db.store, M: m}
	engine := &job.Engine{
		Store: store, Workflows: workflows, Blob: bucket, Fetch: fetcher,
		Providers: map[string]job.Provider{
			workflow.ProviderKling: adapter.NewKling(pc.kling),
			workflow.ProviderLLM:   adapter.NewLLM(pc.llm),
			workflow.ProviderArk:   adapter.NewArk(pc.ark),
		},
		SeedreamModel: pc.seedreamModel,
		Slots:         map[string]int{workflow.PoolKlingImage: cfg.Kling.ImageSlots, workflow.PoolKlingVideo: cfg.Kling.VideoSlots},
		Notify:        hub.Publish, RetryBase: cfg.RetryBase, Now: time.Now, Logger: logger,
	}
	m.WatchQueue(db.store.DB(), engine.Slots, logger)
	unavailable := map[string]string{}
	if pc.stability != nil {
		// Its requests about one result stay adapter.StabilityMinPoll (10 s)
		// apart whatever LEPUS_POLL_INTERVAL says: Stability's rule.
		engine.Providers[workflow.ProviderStability] = adapter.NewStability(pc.stability, fetcher)
	} else {
		unavailable[workflow.ProviderStability] = "relight is not available: STABILITY_API_KEY is not set"
	}
	if mode == "sandbox" || publicReachable(cfg.PublicURL) {
		engine.CallbackURL = func(token string) string { return cfg.PublicURL + "/callbacks/kling/" + token }
	}
	workers := river.NewWorkers()
	kinds, err := job.Register(workers, engine, workflows, cfg.JobTimeout)
	if err != nil {
		return nil, err
	}
	job.RegisterWebhooks(workers, &job.WebhookWorker{Store: db.store, Sender: webhook.NewSender(fetcher, webhook.Config{}),
		RetryBase: cfg.WebhookRetryBase, Logger: logger})
	qcfg := db.queueConfig(cfg, logger)
	if r.work {
		qcfg.Workers = cfg.Workers // else an insert-only client: it runs no jobs
	}
	qcfg.ProcessID = processID()
	queue, waker, err := job.NewClient(db.store.DB(), workers, qcfg)
	if err != nil {
		return nil, err
	}
	engine.Waker = waker
	engine.Watchers = map[string]*job.Watcher{workflow.ProviderKling: {
		Store: db.store, Provider: workflow.ProviderKling, Lister: engine.Providers[workflow.ProviderKling].(job.Lister),
		Wake: waker.Wake, Ended: engine.ProviderEnded, Interval: watchInterval(cfg.PollInterval), Logger: logger,
	}}
	kinds.Sweeper.Client = queue
	host, _ := os.Hostname()
	rescuer := &job.Rescuer{
		Store: db.store, Client: queue, DB: db.store.DB(), Dialect: db.store.Dialect(),
		Process: lepus.Process{ID: qcfg.ProcessID, Host: host, PID: os.Getpid()},
		Running: &engine.Running, Waker: waker, Logger: logger, Exclusive: !cfg.IsPostgres(),
	}
	svc := &app.Service{
		Store: store, Workflows: workflows, Blob: bucket, Fetch: fetcher,
		Enqueue:   kinds.Enqueue(queue),
		CancelJob: job.CancelTx(queue),
		Queue:     engine,
		Costs:     cfg.Costs, Grant: cfg.StartingCredits, PublicURL: cfg.PublicURL, Mode: mode, Unavailable: unavailable,
		Slots: engine.Slots, Hub: hub, Now: time.Now, Logger: logger,
		MaxInFlight: cfg.Limits.MaxInFlight,
	}
	// Task events a webhook subscribes to queue their delivery in the
	// transaction that records them.
	db.store.SetWebhookHook(job.WebhookHook(queue, httpapi.WebhookData(svc)))
	closing := make(chan struct{})
	var admin *httpapi.Admin
	if r.api {
		riverUI, err := httpapi.NewRiverUI(ctx, queue, logger)
		if err != nil {
			return nil, err
		}
		admin = &httpapi.Admin{Token: cfg.AdminToken, Auth: signer, River: riverUI, Logger: logger}
	}
	handler := httpapi.NewHandler(httpapi.Deps{App: svc, Workflows: workflows, Auth: signer, Logger: logger, Version: version, Closing: closing, Admin: admin, Metrics: m,
		RateLimit: httpapi.RateLimit{PerSecond: cfg.Limits.Rate, Burst: cfg.Limits.Burst},
		PublicURL: cfg.PublicURL, ConsoleDevSignIn: cfg.ConsoleDevSignIn,
		Migrated: func(ctx context.Context) error { // for /readyz: River's tables and Lepus's
			return errors.Join(job.CheckMigrated(ctx, db.store.DB(), qcfg), db.store.CheckMigrated(ctx))
		}})
	return &server{handler: handler, queue: queue, engine: engine, waker: waker, rescuer: rescuer, closing: closing, listener: listener}, nil
}

// watchInterval is the batch poll's short interval: a twentieth of the
// provider poll interval (5 s unless overridden), between 50 and 250 ms. A
// look is one list request per 500 tasks in flight, so looking often is
// cheap, and it bounds how long an ended task (and its provider slot)
// waits to be noticed.
func watchInterval(poll time.Duration) time.Duration {
	return min(max(cmp.Or(poll, 5*time.Second)/20, 50*time.Millisecond), 250*time.Millisecond)
}

// processID names this process in the queue (River's client id, seen in
// each job's attempted_by) and in lepus_process: unique per start.
func processID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("lepus-%s-%d-%s", host, os.Getpid(), app.NewID("")[:8])
}

// publicReachable reports whether a provider on the internet could reach
// url: not loopback, private or link-local.
func publicReachable(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "" || host == "localhost" {
		return false // unset or local
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return true // a DNS name: assume it is public
	}
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified())
}

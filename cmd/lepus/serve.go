package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/riverqueue/river"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/auth"
	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/config"
	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/httpapi"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/provider/ark"
	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/provider/llm"
	"github.com/lepus-ai/lepus/internal/provider/stability"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// runServe runs the API and the workers in one process until ctx ends.
//
// Shutdown order: stop accepting HTTP requests (in-flight ones get 10 s),
// then stop the queue (running steps finish; waiting tasks stay snoozed in
// the database), then the sandbox, then the database.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg, logger, err := loadConfig(fs, args, getenv, stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + ln.Addr().String()
	}

	if cfg.DebugAddr != "" {
		stop, err := startDebug(cfg.DebugAddr, logger)
		if err != nil {
			return fmt.Errorf("LEPUS_DEBUG_ADDR: %w", err)
		}
		defer stop()
	}
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.close()

	kcfg := kling.Config{BaseURL: cfg.Kling.BaseURL, AccessKey: cfg.Kling.AccessKey, SecretKey: cfg.Kling.SecretKey}
	lcfg := cfg.LLM
	scfg := cfg.Stability
	acfg := cfg.Ark
	mode := "live"
	if cfg.SandboxMode() {
		sb, err := startSandbox(ctx, getenv, logger)
		if err != nil {
			return err
		}
		defer sb.stop()
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

	var lc *llm.Client
	if lcfg.Configured() {
		if lc, err = llm.NewClient(llm.Config{BaseURL: lcfg.BaseURL, APIKey: lcfg.APIKey, Model: lcfg.Model}); err != nil {
			return err
		}
	}
	pc := providers{kling: kling.NewClient(kcfg), llm: lc, seedreamModel: acfg.Model}
	if acfg.APIKey != "" {
		pc.ark = ark.NewClient(ark.Config{BaseURL: acfg.BaseURL, APIKey: acfg.APIKey})
	}
	if scfg.APIKey != "" {
		pc.stability = stability.NewClient(stability.Config{BaseURL: scfg.BaseURL, APIKey: scfg.APIKey})
	}
	srv, err := wire(ctx, cfg, db, pc, mode, logger)
	if err != nil {
		return err
	}
	if err := srv.queue.Start(ctx); err != nil {
		return fmt.Errorf("start queue: %w", err)
	}
	httpSrv := &http.Server{Handler: srv.handler, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	logger.Info("lepus serving", "url", cfg.PublicURL, "mode", mode, "database", db.store.Dialect())
	if mode == "live" && !publicReachable(cfg.PublicURL) {
		logger.Warn("LEPUS_PUBLIC_URL is not reachable from the internet: providers cannot fetch uploads or post callbacks; set it to this server's public address",
			"public_url", cfg.PublicURL)
	}
	fmt.Fprintf(stdout, "lepus serving at %s (%s mode)\n", cfg.PublicURL, mode)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "error", err)
		}
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = httpSrv.Shutdown(shutCtx)
	if err := srv.queue.Stop(shutCtx); err != nil {
		logger.Warn("stop queue", "error", err)
	}
	return nil
}

// server is a wired Lepus: the HTTP handler and the queue client.
type server struct {
	handler http.Handler
	queue   *job.Client
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
func wire(ctx context.Context, cfg config.Config, db *database, pc providers, mode string, logger *slog.Logger) (*server, error) {
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

	engine := &job.Engine{
		Store: db.store, Workflows: workflows, Blob: bucket, Fetch: fetcher,
		Providers: map[string]job.Provider{
			workflow.ProviderKling: job.NewKlingProvider(pc.kling),
			workflow.ProviderLLM:   job.NewLLMProvider(pc.llm),
			workflow.ProviderArk:   job.NewArkProvider(pc.ark),
		},
		SeedreamModel: pc.seedreamModel,
		Slots:         map[string]int{workflow.PoolKlingImage: cfg.Kling.ImageSlots, workflow.PoolKlingVideo: cfg.Kling.VideoSlots},
		Notify:        hub.Publish, Now: time.Now, Logger: logger,
	}
	unavailable := map[string]string{}
	if pc.stability != nil {
		minPoll := 10 * time.Second // Stability asks for requests about one result 10 s apart
		if cfg.PollInterval > 0 {
			minPoll = cfg.PollInterval
		}
		engine.Providers[workflow.ProviderStability] = job.NewStabilityProvider(pc.stability, fetcher, minPoll)
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
	qcfg := db.queueConfig(cfg, logger)
	qcfg.Workers = cfg.Workers
	queue, err := job.NewClient(db.store.DB(), workers, qcfg)
	if err != nil {
		return nil, err
	}
	kinds.Sweeper.Client = queue
	svc := &app.Service{
		Store: db.store, Workflows: workflows, Blob: bucket, Fetch: fetcher,
		Enqueue:   kinds.Enqueue(queue),
		CancelJob: job.CancelTx(queue),
		WakeJob:   job.Wake(queue, logger),
		Costs:     cfg.Costs, Grant: cfg.StartingCredits, PublicURL: cfg.PublicURL, Mode: mode, Unavailable: unavailable,
		Hub: hub, Now: time.Now, Logger: logger,
	}
	handler := httpapi.NewHandler(httpapi.Deps{App: svc, Auth: signer, Logger: logger, Version: version})
	return &server{handler: handler, queue: queue}, nil
}

// publicReachable reports whether a provider on the internet could reach
// url: not loopback, private or link-local.
func publicReachable(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return true // a DNS name: assume it is public
	}
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified())
}

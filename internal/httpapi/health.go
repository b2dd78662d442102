package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Health: /livez answers while the process serves, /readyz only when the
// process can do its work (database, bucket, current schema), and /healthz
// is the older combined check, kept for clients that use it.

type livezOutput struct {
	Body struct {
		Status string `json:"status" enum:"ok"`
	}
}

type readyzOutput struct {
	Body struct {
		Status     string `json:"status" enum:"ready"`
		Database   string `json:"database" enum:"ok"`
		Storage    string `json:"storage" enum:"ok"`
		Migrations string `json:"migrations" enum:"ok"`
	}
}

type healthOutput struct {
	Body struct {
		Status   string `json:"status" enum:"ok,degraded"`
		Mode     string `json:"mode" enum:"sandbox,live" doc:"sandbox when the built-in provider sandbox stands in for Kling."`
		Database string `json:"database" doc:"ok, or the reason the database is unreachable."`
		Storage  string `json:"storage" doc:"ok, or unreachable when blob storage (the bucket) does not answer."`
		Version  string `json:"version"`
	}
}

type creditsOutput struct {
	Body struct {
		Balance int `json:"balance"`
	}
}

func registerHealth(api huma.API, h *handlers) {
	huma.Register(api, huma.Operation{
		OperationID: "livez", Method: http.MethodGet, Path: "/livez",
		Summary: "Liveness", Tags: []string{"Operations"}, Security: public,
		Description: "Answers 200 whenever the process is serving HTTP, whatever the state of the database or the bucket: " +
			"restart the process only when this fails.",
	}, func(ctx context.Context, _ *struct{}) (*livezOutput, error) {
		out := &livezOutput{}
		out.Body.Status = "ok"
		return out, nil
	})

	migrated := migratedCheck(h)
	huma.Register(api, huma.Operation{
		OperationID: "readyz", Method: http.MethodGet, Path: "/readyz",
		Summary: "Readiness", Tags: []string{"Operations"}, Security: public, Errors: []int{503},
		Description: "Answers 200 when the database and the bucket answer and the database's tables are current; " +
			"otherwise 503 problem+json whose errors name each failing part (database, storage, migrations). " +
			"Each check gives up after " + readyTimeout.String() + ". Send traffic to this process only while it answers 200.",
	}, func(ctx context.Context, _ *struct{}) (*readyzOutput, error) {
		if failing := h.notReady(ctx, migrated); len(failing) > 0 {
			names, errs := make([]string, len(failing)), make([]error, len(failing))
			for i, f := range failing {
				names[i], errs[i] = f.Location+" "+f.Message, f
			}
			return nil, huma.NewError(http.StatusServiceUnavailable, "not ready: "+strings.Join(names, "; "), errs...)
		}
		out := &readyzOutput{}
		out.Body.Status, out.Body.Database, out.Body.Storage, out.Body.Migrations = "ready", "ok", "ok", "ok"
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz",
		Summary: "Health and mode (compatibility)", Tags: []string{"Operations"}, Security: public,
		Description: "Always 200 while serving; status is degraded and the failing part unreachable when the database " +
			"or the bucket does not answer. Kept for existing clients: probes should use /livez and /readyz.",
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		out := &healthOutput{}
		out.Body.Status, out.Body.Mode, out.Body.Database, out.Body.Version = "ok", h.app.Mode, "ok", h.version
		out.Body.Storage = "ok"
		if err := pingDatabase(ctx, h); err != nil {
			h.log.WarnContext(ctx, "health: database ping", "error", err)
			out.Body.Status, out.Body.Database = "degraded", "unreachable"
		}
		if err := pingStorage(ctx, h); err != nil {
			h.log.WarnContext(ctx, "health: storage ping", "error", err)
			out.Body.Status, out.Body.Storage = "degraded", "unreachable"
		}
		return out, nil
	})
}

// readyTimeout bounds each health probe: the S3 SDK retries a refused
// connection with backoff, a database driver may wait for a TCP timeout,
// and a health check must answer quickly.
const readyTimeout = 2 * time.Second

// notReady runs the readiness checks at once and returns one detail per
// failing part; the errors themselves (hosts, addresses) go only to the
// log. The schema is checked only once the database answers, so an outage
// is not also reported as missing tables.
func (h *handlers) notReady(ctx context.Context, migrated func(context.Context) error) []*huma.ErrorDetail {
	var dbErr, migErr, storageErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		if dbErr = pingDatabase(ctx, h); dbErr == nil {
			ctx, cancel := context.WithTimeout(ctx, readyTimeout)
			defer cancel()
			migErr = migrated(ctx)
		}
	})
	wg.Go(func() { storageErr = pingStorage(ctx, h) })
	wg.Wait()
	var failing []*huma.ErrorDetail
	if dbErr != nil {
		h.log.WarnContext(ctx, "readyz: database ping", "error", dbErr)
		failing = append(failing, &huma.ErrorDetail{Location: "database", Message: "unreachable"})
	}
	if migErr != nil {
		h.log.WarnContext(ctx, "readyz: schema", "error", migErr)
		failing = append(failing, &huma.ErrorDetail{Location: "migrations", Message: "not current: run lepus migrate"})
	}
	if storageErr != nil {
		h.log.WarnContext(ctx, "readyz: storage ping", "error", storageErr)
		failing = append(failing, &huma.ErrorDetail{Location: "storage", Message: "unreachable"})
	}
	return failing
}

// migratedCheck returns the schema check of /readyz: Deps.Migrated, else
// the store's own. A schema found current stays current (migrations only
// add), so it is checked again only until it first passes.
func migratedCheck(h *handlers) func(context.Context) error {
	check := h.migrated
	if check == nil {
		check = func(ctx context.Context) error {
			if s, ok := h.app.Store.(interface{ CheckMigrated(context.Context) error }); ok {
				return s.CheckMigrated(ctx)
			}
			return nil
		}
	}
	var current atomic.Bool
	return func(ctx context.Context) error {
		if current.Load() {
			return nil
		}
		err := check(ctx)
		if err == nil {
			current.Store(true)
		}
		return err
	}
}

func pingDatabase(ctx context.Context, h *handlers) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return h.app.Store.Ping(ctx)
}

// pingStorage checks that the bucket answers; a service without blob
// storage (some tests) has nothing to check.
func pingStorage(ctx context.Context, h *handlers) error {
	if h.app.Blob == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return h.app.Blob.Ping(ctx)
}

func registerCredits(api huma.API, h *handlers) {
	huma.Register(api, huma.Operation{
		OperationID: "get-credits", Method: http.MethodGet, Path: "/credits",
		Summary: "Your credit balance", Tags: []string{"Credits"}, Security: secured, Errors: []int{401},
		Description: "The credits you have left. Starting a task debits its cost at once; a task that fails " +
			"or is canceled gets its credits back. A new user starts with LEPUS_STARTING_CREDITS.",
	}, func(ctx context.Context, _ *struct{}) (*creditsOutput, error) {
		b, err := h.app.Balance(ctx, userID(ctx))
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		out := &creditsOutput{}
		out.Body.Balance = b
		return out, nil
	})
}

type callbackInput struct {
	Token   string `path:"token" maxLength:"64"`
	RawBody []byte
}

type callbackOutput struct {
	Body struct {
		OK bool `json:"ok"`
	}
}

func registerCallbacks(api huma.API, h *handlers) {
	huma.Register(api, huma.Operation{
		OperationID: "kling-callback", Method: http.MethodPost, Path: "/callbacks/kling/{token}",
		Summary: "Kling task status callback (a hint: Lepus re-queries Kling)", Tags: []string{"Callbacks"}, Security: public,
		Description: "Kling posts here when a task it runs for Lepus changes state. The token in the path, unique per " +
			"provider task, is the only credential; the body is not trusted: Lepus asks Kling for the task's state itself.",
		MaxBodyBytes: 1 << 20, Errors: []int{404, 422},
	}, func(ctx context.Context, in *callbackInput) (*callbackOutput, error) {
		if err := h.app.HandleKlingCallback(ctx, in.Token, bytesReader(in.RawBody)); err != nil {
			return nil, problem(ctx, h.log, err)
		}
		out := &callbackOutput{}
		out.Body.OK = true
		return out, nil
	})
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

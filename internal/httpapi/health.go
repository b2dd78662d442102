package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

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
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz",
		Summary: "Liveness and mode", Tags: []string{"Operations"},
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		out := &healthOutput{}
		out.Body.Status, out.Body.Mode, out.Body.Database, out.Body.Version = "ok", h.app.Mode, "ok", h.version
		out.Body.Storage = "ok"
		if err := h.app.Store.DB().PingContext(ctx); err != nil {
			h.log.Warn("health: database ping", "error", err)
			out.Body.Status, out.Body.Database = "degraded", "unreachable"
		}
		if err := pingStorage(ctx, h); err != nil {
			h.log.Warn("health: storage ping", "error", err)
			out.Body.Status, out.Body.Storage = "degraded", "unreachable"
		}
		return out, nil
	})
}

// storagePingTimeout bounds the storage probe: the S3 SDK retries a refused
// connection with backoff, and a health check must answer quickly.
const storagePingTimeout = 2 * time.Second

// pingStorage checks that the bucket answers; a service without blob
// storage (some tests) has nothing to check.
func pingStorage(ctx context.Context, h *handlers) error {
	if h.app.Blob == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, storagePingTimeout)
	defer cancel()
	return h.app.Blob.Ping(ctx)
}

func registerCredits(api huma.API, h *handlers) {
	huma.Register(api, huma.Operation{
		OperationID: "get-credits", Method: http.MethodGet, Path: "/credits",
		Summary: "Your credit balance", Tags: []string{"Credits"}, Security: secured, Errors: []int{401},
	}, func(ctx context.Context, _ *struct{}) (*creditsOutput, error) {
		b, err := h.app.Balance(ctx, userID(ctx))
		if err != nil {
			return nil, problem(h.log, err)
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
		Summary: "Kling task status callback (a hint: Lepus re-queries Kling)", Tags: []string{"Callbacks"},
		MaxBodyBytes: 1 << 20, Errors: []int{404, 422},
	}, func(ctx context.Context, in *callbackInput) (*callbackOutput, error) {
		if err := h.app.HandleKlingCallback(ctx, in.Token, bytesReader(in.RawBody)); err != nil {
			return nil, problem(h.log, err)
		}
		out := &callbackOutput{}
		out.Body.OK = true
		return out, nil
	})
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

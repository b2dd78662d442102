package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/apiclient"
	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
	"github.com/lepus-ai/lepus/bench/internal/load"
	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// runNoop measures the load generator against a server that does nothing
// but decode the face-swap body and answer 202: the HTTP floor.
func runNoop(ctx context.Context, o options) (load.Result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return load.Result{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(noop), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		_ = srv.Close()
		<-served
	}()

	// The client signs a token the no-op server never checks: the request
	// carries the same headers as Lepus's.
	api, err := apiclient.New("http://"+ln.Addr().String(), lepusproc.RandomHex(32), o.clients)
	if err != nil {
		return load.Result{}, err
	}
	scene, face := fakeUploads(ln.Addr().String())
	key := keys("noop")
	return warmThenRun(ctx, o, func(ctx context.Context, i int) error {
		_, err := api.FaceSwap(ctx, key(i), scene, face)
		return err
	}, nil)
}

// noop reads and decodes the body and answers a small JSON 202.
func noop(w http.ResponseWriter, r *http.Request) {
	var req workflow.FaceSwapRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"id":"tsk_noop","status":"pending"}`))
}

// fakeUploads returns two URLs shaped like Lepus's upload URLs on host
// (http://<host>/uploads/upl_<26 characters>), for the phases with no
// Lepus to upload to: their requests and rows are then Lepus's size.
func fakeUploads(host string) (scene, face string) {
	return "http://" + host + "/uploads/" + app.NewID("upl_"), "http://" + host + "/uploads/" + app.NewID("upl_")
}

// keys returns a phase's Idempotency-Key for request i, unique per run.
func keys(phase string) func(i int) string {
	run := lepusproc.RandomHex(4)
	return func(i int) string { return fmt.Sprintf("create-%s-%s-%d", run, phase, i) }
}

package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/lepus-ai/lepus/internal/httpapi"
)

// runOpenAPI prints the OpenAPI document the API serves at /openapi.json
// (or /openapi.yaml), without a database, a bucket or a listener: for
// linters and client generators (scripts/openapi-check). It builds the real
// handler and asks it, so the printed document is the served one.
func runOpenAPI(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	yaml := fs.Bool("yaml", false, "print YAML instead of JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h := httpapi.NewHandler(httpapi.Deps{
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Version:   version,
		PublicURL: getenv("LEPUS_PUBLIC_URL"), // the servers entry; unset: "/"
	})
	path := "/openapi.json"
	if *yaml {
		path = "/openapi.yaml"
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("openapi: %s answered %d", path, rec.Code)
	}
	_, err := stdout.Write(rec.Body.Bytes())
	return err
}

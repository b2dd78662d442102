package adapter_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/job/adapter"
	"github.com/lepus-ai/lepus/internal/provider/ark"
	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/provider/stability"
)

// refusing is a transport whose every request fails before reaching the
// provider (a refused connection).
type refusing struct{}

func (refusing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connect: connection refused")
}

// TestExplain: each provider shows its own API answers as they are and
// claims no other error; Kling also names a transport failure, without
// the address it could not reach.
func TestExplain(t *testing.T) {
	t.Parallel()
	kc := kling.NewClient(kling.Config{BaseURL: "http://kling.internal", AccessKey: "ak", SecretKey: "sk",
		HTTPClient: &http.Client{Transport: refusing{}}})
	_, klingTransport := kc.Get(context.Background(), kling.PathOmniImage, "t1")
	if klingTransport == nil {
		t.Fatal("a Get through a refusing transport succeeded")
	}
	klingAPI := &kling.APIError{Method: http.MethodPost, Path: kling.PathOmniImage, HTTPStatus: 400, Code: 1201, Message: "bad prompt"}
	stabilityAPI := &stability.APIError{Status: 400, Name: "invalid_parameters", Errors: []string{"seed: too big"}}
	arkAPI := &ark.APIError{Status: 400, Code: "InvalidParameter", Message: "size"}
	other := errors.New("database is locked")

	providers := map[string]job.Provider{
		"kling":     adapter.NewKling(kc),
		"stability": adapter.NewStability(stability.NewClient(stability.Config{APIKey: "k"}), fetch.New(fetch.Config{})),
		"ark":       adapter.NewArk(nil),
	}
	for _, tt := range []struct {
		name, provider string
		err            error
		want           string // "" when the provider does not claim the error
	}{
		{"KlingAPI", "kling", fmt.Errorf("submit image: %w", klingAPI), "submit image: " + klingAPI.Error()},
		{"KlingTransport", "kling", klingTransport, "the provider could not be reached"},
		{"KlingOther", "kling", other, ""},
		{"KlingNotStability", "kling", stabilityAPI, ""},
		{"StabilityAPI", "stability", stabilityAPI, stabilityAPI.Error()},
		{"StabilityOther", "stability", klingAPI, ""},
		{"ArkAPI", "ark", arkAPI, arkAPI.Error()},
		{"ArkOther", "ark", other, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x, ok := providers[tt.provider].(job.Explainer)
			if !ok {
				t.Fatalf("%s is not a job.Explainer", tt.provider)
			}
			got, claimed := x.Explain(tt.err)
			if claimed != (tt.want != "") || got != tt.want {
				t.Fatalf("Explain(%v) = %q, %v; want %q", tt.err, got, claimed, tt.want)
			}
		})
	}
	if _, ok := adapter.NewLLM(nil).(job.Explainer); ok {
		t.Fatal("the LLM adapter explains errors; its failures never reach a client as a provider answer")
	}
}

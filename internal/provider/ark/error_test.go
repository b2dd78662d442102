package ark

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClient_Generate_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		stream      bool
		status      int
		contentType string
		body        string
		wantStatus  int
		wantCode    string
		retryable   bool
	}{
		{"InvalidParameter", false, 400, "application/json",
			`{"error":{"code":"InvalidParameter","message":"The parameter size specified in the request is not valid","param":"size","type":"BadRequest"}}`,
			400, "InvalidParameter", false},
		{"InvalidParameterToStream", true, 400, "application/json",
			`{"error":{"code":"InvalidParameter","message":"max_images must be in [1, 15]","param":"","type":"BadRequest"}}`,
			400, "InvalidParameter", false},
		{"Auth", true, 401, "application/json", `{"error":{"code":"AuthenticationError","message":"the API key is invalid"}}`,
			401, "AuthenticationError", false},
		{"ModelNotFound", false, 404, "application/json", `{"error":{"code":"InvalidEndpointOrModel.NotFound","message":"no such model"}}`,
			404, "InvalidEndpointOrModel.NotFound", false},
		{"RateLimited", false, 429, "application/json", `{"error":{"code":"AccountRateLimitExceeded","message":"slow down"}}`,
			429, "AccountRateLimitExceeded", true},
		{"EndpointTPM", true, 429, "application/json", `{"error":{"code":"RateLimitExceeded.EndpointTPMExceeded","message":"tpm"}}`,
			429, "RateLimitExceeded.EndpointTPMExceeded", true},
		{"Overloaded", false, 429, "application/json", `{"error":{"code":"ServerOverloaded","message":"busy"}}`,
			429, "ServerOverloaded", true},
		{"QuotaExceeded", false, 429, "application/json", `{"error":{"code":"QuotaExceeded","message":"quota used up"}}`,
			429, "QuotaExceeded", false},
		{"SetLimitExceeded", false, 429, "application/json", `{"error":{"code":"SetLimitExceeded","message":"limit"}}`,
			429, "SetLimitExceeded", false},
		{"Internal", false, 500, "application/json", `{"error":{"code":"InternalServiceError","message":"oops"}}`,
			500, "InternalServiceError", true},
		{"BadGatewayHTML", true, 502, "text/html", `<html><body>Bad Gateway</body></html>`, 502, "", true},
		{"ErrorOn200", false, 200, "application/json", `{"error":{"code":"InvalidParameter","message":"bad"}}`,
			200, "InvalidParameter", false},
		{"ErrorEventInStream", true, 200, "text/event-stream", "data: {\"error\":{\"code\":\"ServerOverloaded\",\"message\":\"busy\"}}\n\n",
			200, "ServerOverloaded", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			im, err := c.Generate(context.Background(), &ImagesRequest{Model: ModelSeedream40, Prompt: "p", Stream: tt.stream})
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), images %+v; want *APIError", err, err, im)
			}
			if im != nil {
				t.Errorf("images = %+v with an error", im)
			}
			if apiErr.Status != tt.wantStatus || apiErr.Code != tt.wantCode || apiErr.Message == "" {
				t.Errorf("err = %+v", apiErr)
			}
			if apiErr.Retryable() != tt.retryable || IsRetryable(err) != tt.retryable {
				t.Errorf("retryable = %v, want %v", apiErr.Retryable(), tt.retryable)
			}
			if !strings.HasPrefix(err.Error(), "ark: POST /images/generations: http ") {
				t.Errorf("err = %q", err)
			}
		})
	}
}

func TestClient_Generate_KeyNeverInErrors(t *testing.T) {
	t.Parallel()
	echo := func(status int, contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			auth := r.Header.Get("Authorization")
			if contentType == "application/json" {
				_, _ = io.WriteString(w, `{"error":{"code":"AuthenticationError","message":"bad header `+auth+`"}}`)
				return
			}
			_, _ = io.WriteString(w, "proxy says "+auth)
		}
	}
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"EchoedInJSON", echo(401, "application/json")},
		{"EchoedInHTML", echo(502, "text/html")},
		{"EchoedIn200Garbage", echo(200, "application/json")},
		{"EchoedInStream", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, `data: {"error":{"code":"AuthenticationError","message":"bad `+r.Header.Get("Authorization")+`"}}`+"\n\n")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, tt.h)
			_, err := c.Generate(context.Background(), &ImagesRequest{Model: "m", Prompt: "p", Stream: true})
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "Bearer ark") {
				t.Errorf("key leaked: %v", err)
			}
			if !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("err = %v, want the echoed key redacted", err)
			}
		})
	}
	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c := NewClient(Config{BaseURL: srv.URL, APIKey: testKey})
		_, err := c.Generate(context.Background(), &ImagesRequest{Model: "m", Prompt: "p"})
		var tErr *TransportError
		if !errors.As(err, &tErr) || !IsRetryable(err) || strings.Contains(err.Error(), testKey) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestClient_Generate_Canceled(t *testing.T) {
	t.Parallel()
	got := make(chan struct{})
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leave
		close(got)
		<-r.Context().Done() // headers never come, as when the first image is slow
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-got; cancel() }()
	_, err := c.Generate(ctx, &ImagesRequest{Model: "m", Prompt: "p", Stream: true})
	if !errors.Is(err, context.Canceled) || IsRetryable(err) {
		t.Errorf("err = %v, want canceled and not retryable", err)
	}
}

func TestClient_Generate_NilRequest(t *testing.T) {
	t.Parallel()
	if _, err := NewClient(Config{}).Generate(context.Background(), nil); err == nil {
		t.Error("nil request accepted")
	}
}

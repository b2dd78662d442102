package llm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClient_Complete(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
		wantErr string
	}{
		{"OK", func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Model    string `json:"model"`
				Messages []struct{ Role, Content string }
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			if r.URL.Path != "/api/v3/chat/completions" || r.Header.Get("Authorization") != "Bearer k" ||
				body.Model != "m" || len(body.Messages) != 2 || body.Messages[0].Role != "system" || body.Messages[1].Content != "a cat" {
				http.Error(w, "unexpected request", 400)
				return
			}
			if r.Header.Get("OpenAI-Organization") != "" {
				http.Error(w, "stray header", 400)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":" a fluffy cat "},"finish_reason":"stop"}]}`))
		}, "a fluffy cat", ""},
		{"ServerError", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`{"error":{"message":"boom"}}`))
		}, "", "http 500"},
		{"NoChoices", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"1","object":"chat.completion","created":1,"model":"m","choices":[]}`))
		}, "", "no choices"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c, err := NewClient(Config{BaseURL: srv.URL + "/api/v3", APIKey: "k", Model: "m"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Complete(context.Background(), "rewrite", "a cat")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "Bearer") {
					t.Fatalf("err = %v, want one with %q and no credentials", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Complete = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestNewClient_RequiresConfig(t *testing.T) {
	t.Parallel()
	if _, err := NewClient(Config{BaseURL: "http://x"}); err == nil {
		t.Fatal("a client without key and model must be refused")
	}
}

// TestClient_IgnoresEnvironment: the SDK's environment defaults (such as
// OPENAI_ORG_ID) must not add headers sent to another provider. Not
// parallel: it sets the environment.
func TestClient_IgnoresEnvironment(t *testing.T) {
	t.Setenv("OPENAI_ORG_ID", "org-123")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/elsewhere")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("OpenAI-Organization") != "" {
			http.Error(w, "stray header", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`))
	}))
	defer srv.Close()
	c, err := NewClient(Config{BaseURL: srv.URL, APIKey: "k", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Complete(context.Background(), "s", "u"); err != nil || got != "ok" {
		t.Fatalf("Complete = %q, %v", got, err)
	}
}

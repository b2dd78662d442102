package sandbox_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lepus-ai/lepus/internal/provider/kling"
)

func TestSandbox_Auth(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	now := time.Now()
	sign := func(iss, sk string, nbf, exp time.Time) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": iss, "nbf": nbf.Unix(), "exp": exp.Unix()}).SignedString([]byte(sk))
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	good := sign("sandbox-ak", "sandbox-sk", now.Add(-5*time.Second), now.Add(30*time.Minute))
	tests := []struct {
		name     string
		header   string
		wantCode int
	}{
		{"Missing", "", 1001},
		{"NotBearer", "Basic abc", 1002},
		{"Garbage", "Bearer not.a.jwt", 1002},
		{"WrongSecret", sign("sandbox-ak", "other-sk", now.Add(-5*time.Second), now.Add(time.Hour)), 1002},
		{"WrongIssuer", sign("other-ak", "sandbox-sk", now.Add(-5*time.Second), now.Add(time.Hour)), 1002},
		{"NotYetValid", sign("sandbox-ak", "sandbox-sk", now.Add(time.Hour), now.Add(2*time.Hour)), 1003},
		{"Expired", sign("sandbox-ak", "sandbox-sk", now.Add(-2*time.Hour), now.Add(-time.Hour)), 1004},
		{"Good", good, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodPost, b.srv.URL+kling.PathOmniImage, strings.NewReader(`{"prompt":"x"}`))
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var env struct {
				Code      int             `json:"code"`
				Message   string          `json:"message"`
				RequestID string          `json:"request_id"`
				Data      json.RawMessage `json:"data"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
				t.Fatal(err)
			}
			if env.Code != tt.wantCode || env.RequestID == "" {
				t.Errorf("code = %d (%s), want %d", env.Code, env.Message, tt.wantCode)
			}
			wantStatus := http.StatusUnauthorized
			if tt.wantCode == 0 {
				wantStatus = http.StatusOK
				if env.Message != "SUCCEED" || len(env.Data) == 0 {
					t.Errorf("success envelope = %+v", env)
				}
			}
			if resp.StatusCode != wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, wantStatus)
			}
		})
	}
}

// TestSandbox_ClientWrongKeys checks the client's one re-sign on 1002 and
// its auth classification against the sandbox.
func TestSandbox_ClientWrongKeys(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := kling.NewClient(kling.Config{BaseURL: b.srv.URL, AccessKey: "sandbox-ak", SecretKey: "wrong"})
	_, err := c.Get(t.Context(), kling.PathOmniImage, "1")
	if kling.Classify(err) != kling.ClassAuth {
		t.Fatalf("err = %v, class %v; want auth", err, kling.Classify(err))
	}
}

func TestSandbox_UnknownRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, err := b.client.Get(t.Context(), kling.PathOmniImage, "999")
	if kling.Classify(err) != kling.ClassNotFound {
		t.Errorf("missing task: %v", err)
	}
	_, err = b.client.Create(t.Context(), "/v1/images/omni-edit", json.RawMessage(`{"prompt":"x"}`))
	var apiErr *kling.APIError
	if !asAPIError(err, &apiErr) || apiErr.Code != 1203 || apiErr.HTTPStatus != 404 {
		t.Errorf("unknown path: %v", err)
	}
	// A task is only visible under the path that created it.
	created, err := b.client.Create(t.Context(), kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.Get(t.Context(), kling.PathOmniVideo, created.TaskID); kling.Classify(err) != kling.ClassNotFound {
		t.Errorf("cross-path get: %v", err)
	}
	req, _ := http.NewRequest(http.MethodDelete, b.srv.URL+kling.PathOmniImage, nil)
	req.Header.Set("Authorization", "x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unauthenticated DELETE: status %d", resp.StatusCode)
	}
}

// sandboxToken signs a valid token for the default sandbox keys.
func sandboxToken() (string, time.Time, error) {
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "sandbox-ak", "nbf": now.Add(-5 * time.Second).Unix(), "exp": now.Add(30 * time.Minute).Unix(),
	}).SignedString([]byte("sandbox-sk"))
	return tok, now, err
}

package kling

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testAK = "ak-test"
	testSK = "sk-test-secret"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// checkAuth asserts the request carries a JWT exactly per kling-api.md §1.2.
func checkAuth(t *testing.T, r *http.Request, now time.Time) {
	t.Helper()
	h := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		t.Errorf("Authorization = %q, want Bearer <jwt>", h)
		return
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return []byte(testSK), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		t.Errorf("parse jwt: %v", err)
		return
	}
	if tok.Header["typ"] != "JWT" || tok.Header["alg"] != "HS256" || len(tok.Header) != 2 {
		t.Errorf("jwt header = %v, want alg HS256, typ JWT only", tok.Header)
	}
	if claims["iss"] != testAK {
		t.Errorf("iss = %v, want %s", claims["iss"], testAK)
	}
	if exp, _ := claims["exp"].(float64); int64(exp) != now.Add(30*time.Minute).Unix() {
		t.Errorf("exp = %v, want now+1800", claims["exp"])
	}
	if nbf, _ := claims["nbf"].(float64); int64(nbf) != now.Add(-5*time.Second).Unix() {
		t.Errorf("nbf = %v, want now-5", claims["nbf"])
	}
	if len(claims) != 3 {
		t.Errorf("claims = %v, want only iss, exp, nbf", claims)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func newTestClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return NewClient(Config{BaseURL: srv.URL, AccessKey: testAK, SecretKey: testSK, Now: func() time.Time { return testNow }})
}

func writeEnvelope(w http.ResponseWriter, status, code int, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "request_id": "req-1", "data": data})
}

func TestClient_Create(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		path     string
		body     any
		wantBody string
	}{
		{
			name: "OmniImage",
			path: PathOmniImage,
			body: OmniImageRequest{
				ModelName: ModelImageO1, Prompt: "swap <<<image_1>>> <<<image_2>>>",
				ImageList:  []OmniImage{{Image: "https://x/a.png"}, {Image: "https://x/b.png"}},
				Resolution: ResolutionOneK, N: 1, ExternalTaskID: "ext-1", CallbackURL: "https://cb/x",
			},
			wantBody: `{"model_name":"kling-image-o1","prompt":"swap <<<image_1>>> <<<image_2>>>","image_list":[{"image":"https://x/a.png"},{"image":"https://x/b.png"}],"resolution":"1k","n":1,"callback_url":"https://cb/x","external_task_id":"ext-1"}`,
		},
		{
			name: "OmniVideoFirstFrame",
			path: PathOmniVideo,
			body: OmniVideoRequest{
				ModelName: ModelVideoO1, Prompt: "subtle motion",
				ImageList: []OmniVideoImage{{ImageURL: "https://x/a.png", Type: FrameFirst}},
				Mode:      "std", Duration: "5",
			},
			wantBody: `{"model_name":"kling-video-o1","prompt":"subtle motion","image_list":[{"image_url":"https://x/a.png","type":"first_frame"}],"mode":"std","duration":"5"}`,
		},
		{
			name:     "RawMessage",
			path:     PathText2Video,
			body:     json.RawMessage(`{"prompt":"a cat","duration":"5"}`),
			wantBody: `{"prompt":"a cat","duration":"5"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != tt.path {
					t.Errorf("got %s %s, want POST %s", r.Method, r.URL.Path, tt.path)
				}
				checkAuth(t, r, testNow)
				got, _ := io.ReadAll(r.Body)
				if !jsonEqual(t, got, []byte(tt.wantBody)) {
					t.Errorf("body = %s\nwant   %s", got, tt.wantBody)
				}
				writeEnvelope(w, 200, 0, "SUCCEED", map[string]any{
					"task_id": "8672837", "task_status": "submitted",
					"task_info":  map[string]any{"external_task_id": "ext-1"},
					"created_at": 1722769557708, "updated_at": 1722769557708,
				})
			})
			task, err := c.Create(context.Background(), tt.path, tt.body)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if task.TaskID != "8672837" || task.TaskStatus != StatusSubmitted || task.TaskInfo.ExternalTaskID != "ext-1" || task.CreatedAt != 1722769557708 {
				t.Errorf("task = %+v", task)
			}
			if task.Done() {
				t.Error("submitted task reports Done")
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("unmarshal %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func TestClient_Get(t *testing.T) {
	t.Parallel()
	fixture, err := os.ReadFile("testdata/task_succeed.json")
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.EscapedPath() != "/v1/videos/omni-video/lepus%2Ft1" {
			t.Errorf("got %s %s", r.Method, r.URL.EscapedPath())
		}
		checkAuth(t, r, testNow)
		_, _ = w.Write(fixture)
	})
	task, err := c.Get(context.Background(), PathOmniVideo, "lepus/t1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !task.Done() || task.TaskStatus != StatusSucceed || task.FinalUnitDeduction != "1" {
		t.Errorf("task = %+v", task)
	}
	if len(task.TaskResult.Videos) != 1 || task.TaskResult.Videos[0].Duration != "5.1" || task.TaskResult.Videos[0].ID != "a1b2c3" {
		t.Errorf("videos = %+v", task.TaskResult.Videos)
	}
}

func TestClient_List(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != PathOmniImage || r.URL.Query().Get("pageNum") != "2" || r.URL.Query().Get("pageSize") != "50" {
			t.Errorf("got %s", r.URL)
		}
		writeEnvelope(w, 200, 0, "SUCCEED", []map[string]any{{"task_id": "1"}, {"task_id": "2"}})
	})
	ts, err := c.List(context.Background(), PathOmniImage, 2, 50)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(ts) != 2 || ts[1].TaskID != "2" {
		t.Errorf("tasks = %+v", ts)
	}
}

func TestClient_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		status    int
		body      string
		wantClass Class
		wantCode  int
		wantCalls int32
	}{
		{"Busy1303", "POST", 429, `{"code":1303,"message":"parallel task over resource pack limit","request_id":"r9"}`, ClassBusy, 1303, 1},
		{"Arrears1101", "POST", 429, `{"code":1101,"message":"account in arrears","request_id":"r9"}`, ClassAccount, 1101, 1},
		{"Invalid1201", "POST", 400, `{"code":1201,"message":"prompt is required","request_id":"r9"}`, ClassInvalid, 1201, 1},
		{"Server5000", "POST", 500, `{"code":5000,"message":"internal error","request_id":"r9"}`, ClassRetryable, 5000, 1},
		{"Timeout5002", "POST", 504, `{"code":5002,"message":"timeout","request_id":"r9"}`, ClassRetryable, 5002, 1},
		{"AuthTwice1002", "POST", 401, `{"code":1002,"message":"invalid","request_id":"r9"}`, ClassAuth, 1002, 2},
		{"ModelMissingOnCreate1203", "POST", 404, `{"code":1203,"message":"model not found","request_id":"r9"}`, ClassInvalid, 1203, 1},
		{"TaskMissing1203", "GET", 404, `{"code":1203,"message":"task not found","request_id":"r9"}`, ClassNotFound, 1203, 1},
		{"Get404NoCode", "GET", 404, `404 page not found`, ClassNotFound, 0, 1},
		{"BadGatewayHTML", "POST", 502, `<html><body>Bad Gateway</body></html>`, ClassRetryable, 0, 1},
		{"CodeOn200", "POST", 200, `{"code":1301,"message":"content risk","request_id":"r9"}`, ClassInvalid, 1301, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			var err error
			if tt.method == "GET" {
				_, err = c.Get(context.Background(), PathOmniImage, "123")
			} else {
				_, err = c.Create(context.Background(), PathOmniImage, OmniImageRequest{Prompt: "p"})
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Code != tt.wantCode || apiErr.HTTPStatus != tt.status {
				t.Errorf("code/status = %d/%d", apiErr.Code, apiErr.HTTPStatus)
			}
			if got := Classify(err); got != tt.wantClass {
				t.Errorf("Classify = %v, want %v", got, tt.wantClass)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "kling: ") || !strings.Contains(msg, "http ") {
				t.Errorf("error %q lacks prefix or status", msg)
			}
			if tt.wantCode != 0 && !strings.Contains(msg, "request_id r9") {
				t.Errorf("error %q lacks request_id", msg)
			}
			if strings.Contains(msg, testSK) || strings.Contains(msg, "eyJ") {
				t.Errorf("error %q leaks a secret", msg)
			}
		})
	}
}

func TestClient_AuthRetry(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r, testNow)
		if calls.Add(1) == 1 {
			writeEnvelope(w, 401, 1004, "token expired", nil)
			return
		}
		writeEnvelope(w, 200, 0, "SUCCEED", map[string]any{"task_id": "1", "task_status": "submitted"})
	})
	if _, err := c.Create(context.Background(), PathOmniImage, OmniImageRequest{Prompt: "p"}); err != nil {
		t.Fatalf("Create after one 1004: %v", err)
	}
	if calls.Load() != 2 {
		t.Errorf("calls = %d, want 2", calls.Load())
	}
}

func TestClient_TokenCache(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := testNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens = append(tokens, r.Header.Get("Authorization"))
		mu.Unlock()
		writeEnvelope(w, 200, 0, "SUCCEED", map[string]any{"task_id": "1"})
	}))
	t.Cleanup(srv.Close)
	c := NewClient(Config{BaseURL: srv.URL, AccessKey: testAK, SecretKey: testSK, Now: clock})
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	get := func() {
		t.Helper()
		if _, err := c.Get(context.Background(), PathOmniImage, "1"); err != nil {
			t.Fatal(err)
		}
	}
	get()
	advance(24 * time.Minute) // 6 min left: reuse
	get()
	advance(2 * time.Minute) // 4 min left: re-sign
	get()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", tokens[2])
	req.Header.Set("Content-Type", "application/json")
	checkAuth(t, req, clock()) // the fresh token is signed at the current time
	if tokens[0] != tokens[1] {
		t.Error("token not reused while fresh")
	}
	if tokens[1] == tokens[2] {
		t.Error("token not re-signed 5 min before expiry")
	}
}

func TestClient_TransportErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"Reset", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}},
		{"GarbageOn200", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"code":0,"data":`)
		}},
		{"NoData", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"code":0,"message":"SUCCEED"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, tt.h)
			_, err := c.Create(context.Background(), PathOmniImage, OmniImageRequest{Prompt: "p"})
			if err == nil {
				t.Fatal("want error")
			}
			if !IsRetryable(err) || Classify(err) != ClassRetryable {
				t.Errorf("err %v: class %v, want retryable", err, Classify(err))
			}
			if !strings.HasPrefix(err.Error(), "kling: POST /v1/images/omni-image") {
				t.Errorf("err = %q", err)
			}
		})
	}
	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c := NewClient(Config{BaseURL: srv.URL, AccessKey: testAK, SecretKey: testSK})
		_, err := c.Get(context.Background(), PathOmniImage, "1")
		if !IsRetryable(err) {
			t.Errorf("connection refused: %v not retryable", err)
		}
	})
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want Class
	}{
		{nil, ClassNone},
		{&APIError{Method: "POST", HTTPStatus: 429, Code: 1302}, ClassRetryable},
		{&APIError{Method: "POST", HTTPStatus: 429, Code: 1303}, ClassBusy},
		{&APIError{Method: "POST", HTTPStatus: 503, Code: 5001}, ClassRetryable},
		{&APIError{Method: "POST", HTTPStatus: 401, Code: 1000}, ClassAuth},
		{&APIError{Method: "POST", HTTPStatus: 401, Code: 1004}, ClassAuth},
		{&APIError{Method: "POST", HTTPStatus: 429, Code: 1100}, ClassAccount},
		{&APIError{Method: "POST", HTTPStatus: 429, Code: 1102}, ClassAccount},
		{&APIError{Method: "POST", HTTPStatus: 403, Code: 1103}, ClassAccount},
		{&APIError{Method: "POST", HTTPStatus: 400, Code: 1200}, ClassInvalid},
		{&APIError{Method: "POST", HTTPStatus: 404, Code: 1202}, ClassInvalid},
		{&APIError{Method: "POST", HTTPStatus: 400, Code: 1300}, ClassInvalid},
		{&APIError{Method: "POST", HTTPStatus: 500, Code: 9999}, ClassRetryable},
		{&APIError{Method: "POST", HTTPStatus: 400, Code: 9999}, ClassInvalid},
		{errors.New("marshal failed"), ClassInvalid},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if !IsRetryable(&APIError{Code: 1303}) || IsRetryable(&APIError{Code: 1101, HTTPStatus: 429}) {
		t.Error("IsRetryable: 1303 must be retryable, 1101 must not")
	}
}

func TestParseCallback(t *testing.T) {
	t.Parallel()
	task, err := ParseCallback(strings.NewReader(`{"task_id":"42","task_status":"succeed","task_info":{"external_task_id":"e"},"task_result":{"images":[{"index":0,"url":"https://cdn/0.png"}]},"created_at":1,"updated_at":2,"extra_field":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if task.TaskID != "42" || task.TaskInfo.ExternalTaskID != "e" || len(task.TaskResult.Images) != 1 || task.TaskResult.Images[0].URL != "https://cdn/0.png" {
		t.Errorf("task = %+v", task)
	}
	for _, bad := range []string{`{"code":0,"data":{}}`, `not json`, `{}`} {
		if _, err := ParseCallback(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseCallback(%s): want error", bad)
		}
	}
}

func TestNewClient_DefaultTransport(t *testing.T) {
	t.Parallel()
	c := NewClient(Config{AccessKey: "a", SecretKey: "b"})
	tr, ok := c.http.Transport.(*http.Transport)
	if !ok || tr.MaxIdleConnsPerHost < 256 {
		t.Errorf("default transport must keep >= 256 idle conns per host, got %+v", c.http.Transport)
	}
	if c.base != DefaultBaseURL {
		t.Errorf("base = %q", c.base)
	}
}

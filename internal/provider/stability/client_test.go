package stability

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testKey = "sk-test-SECRET-0123456789"

var testID = strings.Repeat("ab", 32)

func newTestClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return NewClient(Config{BaseURL: srv.URL + "/", APIKey: testKey, HTTPClient: srv.Client()})
}

// formPart is one decoded multipart part.
type formPart struct {
	filename, contentType, value string
}

// readForm decodes a multipart body, failing on a repeated field.
func readForm(t *testing.T, r *http.Request) map[string]formPart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type = %q, want multipart/form-data", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	parts := map[string]formPart{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		b, _ := io.ReadAll(p)
		if _, dup := parts[p.FormName()]; dup {
			t.Errorf("field %s sent twice", p.FormName())
		}
		parts[p.FormName()] = formPart{filename: p.FileName(), contentType: p.Header.Get("Content-Type"), value: string(b)}
	}
}

func ptr[T any](v T) *T { return &v }

func TestClient_Start(t *testing.T) {
	t.Parallel()
	subject := []byte("\x89PNG\r\n\x1a\nfake-png-bytes")
	full := &RelightRequest{
		SubjectImage: subject, SubjectName: `me "1".png`, SubjectType: "image/png",
		BackgroundPrompt: "warm golden hour sunlight", ForegroundPrompt: "a woman", NegativePrompt: "blur",
		PreserveOriginalSubject: ptr(0.7), OriginalBackgroundDepth: ptr(0.0),
		KeepOriginalBackground: "true", LightSourceDirection: "above", LightSourceStrength: ptr(0.49),
		Seed: ptr(int64(4294967294)), OutputFormat: "png",
	}
	minimal := &RelightRequest{SubjectImage: []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, BackgroundPrompt: "studio"}

	tests := []struct {
		name   string
		req    *RelightRequest
		want   map[string]formPart // every field, exactly
		status int
		reply  string
	}{
		{
			name: "OK_AllFields", req: full, status: 200, reply: `{"id":"` + testID + `"}`,
			want: map[string]formPart{
				"subject_image":             {filename: `me "1".png`, contentType: "image/png", value: string(subject)},
				"background_prompt":         {value: "warm golden hour sunlight"},
				"foreground_prompt":         {value: "a woman"},
				"negative_prompt":           {value: "blur"},
				"preserve_original_subject": {value: "0.7"},
				"original_background_depth": {value: "0"},
				"keep_original_background":  {value: "true"},
				"light_source_direction":    {value: "above"},
				"light_source_strength":     {value: "0.49"},
				"seed":                      {value: "4294967294"},
				"output_format":             {value: "png"},
			},
		},
		{
			name: "OK_OmitsUnsetFields_202", req: minimal, status: 202, reply: `{"id":"` + testID + `"}`,
			want: map[string]formPart{
				"subject_image":     {filename: "subject.jpg", contentType: "image/jpeg", value: string(minimal.SubjectImage)},
				"background_prompt": {value: "studio"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != PathRelight {
					t.Errorf("%s %s, want POST %s", r.Method, r.URL.Path, PathRelight)
				}
				if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
					t.Errorf("Authorization = %q", got)
				}
				if got := r.Header.Get("Accept"); got != "application/json" {
					t.Errorf("Accept = %q", got)
				}
				got := readForm(t, r)
				if len(got) != len(tt.want) {
					t.Errorf("fields %v, want %d fields", keys(got), len(tt.want))
				}
				for name, want := range tt.want {
					if got[name] != want {
						t.Errorf("field %s = %+v, want %+v", name, got[name], want)
					}
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.reply)
			})
			id, err := c.Start(context.Background(), tt.req)
			if err != nil || id != testID {
				t.Fatalf("Start = %q, %v", id, err)
			}
		})
	}
}

func keys(m map[string]formPart) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestClient_Start_Errors(t *testing.T) {
	t.Parallel()
	req := &RelightRequest{SubjectImage: []byte("\x89PNG\r\n\x1a\n"), BackgroundPrompt: "soft"}
	tests := []struct {
		name                string
		status              int
		reply               string
		wantName            string
		wantErrors          []string
		retryable, notFound bool
	}{
		{"ErrInvalid", 400, `{"id":"e1","name":"invalid_parameters","errors":["seed: must be a number","output_format: bad"]}`,
			"invalid_parameters", []string{"seed: must be a number", "output_format: bad"}, false, false},
		{"ErrModeration", 403, `{"id":"e2","name":"content_moderation","errors":["flagged"]}`, "content_moderation", []string{"flagged"}, false, false},
		{"ErrTooLarge", 413, `{"id":"e3","name":"payload_too_large","errors":["payloads cannot be larger than 10MiB in size"]}`,
			"payload_too_large", []string{"payloads cannot be larger than 10MiB in size"}, false, false},
		{"ErrLanguage", 422, `{"id":"e4","name":"invalid_language","errors":["English is the only supported language for this service"]}`,
			"invalid_language", []string{"English is the only supported language for this service"}, false, false},
		{"ErrRateLimited", 429, `{"id":"e5","name":"rate_limit_exceeded","errors":["slow down"]}`, "rate_limit_exceeded", []string{"slow down"}, true, false},
		{"ErrUnauthorizedV1", 401, `{"id":"e6","name":"unauthorized","message":"missing key"}`, "unauthorized", []string{"missing key"}, false, false},
		{"ErrProxyPage", 502, "<html>\n bad   gateway </html>", "", []string{"<html> bad gateway </html>"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.reply)
			})
			_, err := c.Start(context.Background(), req)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Status != tt.status || apiErr.Name != tt.wantName || strings.Join(apiErr.Errors, "|") != strings.Join(tt.wantErrors, "|") {
				t.Errorf("APIError = %+v", apiErr)
			}
			if apiErr.Retryable() != tt.retryable || apiErr.NotFound() != tt.notFound {
				t.Errorf("Retryable %v NotFound %v", apiErr.Retryable(), apiErr.NotFound())
			}
			if !strings.HasPrefix(err.Error(), "stability: http ") || strings.Contains(err.Error(), testKey) {
				t.Errorf("err = %q", err)
			}
		})
	}
	t.Run("ErrMessageFormat", func(t *testing.T) {
		t.Parallel()
		e := parseAPIError(400, []byte(`{"id":"abc","name":"invalid_parameters","errors":["a: x","b: y"]}`))
		if want := "stability: http 400 invalid_parameters: a: x; b: y (id abc)"; e.Error() != want {
			t.Errorf("Error() = %q, want %q", e.Error(), want)
		}
	})
	t.Run("ErrNoID", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"status":"ok"}`) })
		if _, err := c.Start(context.Background(), req); err == nil || !strings.Contains(err.Error(), "without a generation id") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ErrInvalidRequest_NotSent", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { t.Error("an invalid request was sent") })
		bad := []*RelightRequest{
			{BackgroundPrompt: "x"},
			{SubjectImage: req.SubjectImage},
			{SubjectImage: req.SubjectImage, BackgroundPrompt: "x", LightSourceDirection: "front"},
			{SubjectImage: req.SubjectImage, BackgroundPrompt: "x", KeepOriginalBackground: "yes"},
			{SubjectImage: req.SubjectImage, BackgroundPrompt: "x", LightSourceStrength: ptr(0.5)},
			{SubjectImage: req.SubjectImage, BackgroundPrompt: "x", LightSourceDirection: "left", LightSourceStrength: ptr(1.5)},
			{SubjectImage: req.SubjectImage, BackgroundPrompt: "x", PreserveOriginalSubject: ptr(-0.1)},
			{SubjectImage: req.SubjectImage, BackgroundPrompt: "x", Seed: ptr(int64(4294967295))},
			{SubjectImage: req.SubjectImage, BackgroundPrompt: "x", OutputFormat: "gif"},
			nil,
		}
		for i, r := range bad {
			if _, err := c.Start(context.Background(), r); err == nil {
				t.Errorf("case %d: no error", i)
			}
		}
	})
	t.Run("ErrTransport_NoKey", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		for _, base := range []string{srv.URL, srv.URL + "/" + testKey} {
			c := NewClient(Config{BaseURL: base, APIKey: testKey})
			_, err := c.Start(context.Background(), req)
			if err == nil || strings.Contains(err.Error(), testKey) {
				t.Errorf("err = %v", err)
			}
			_, err = c.Result(context.Background(), testID)
			if err == nil || strings.Contains(err.Error(), testKey) {
				t.Errorf("err = %v", err)
			}
		}
	})
}

func TestClient_Result(t *testing.T) {
	t.Parallel()
	img := "\x89PNG\r\n\x1a\nimage-bytes"
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.Header.Get("Accept") != "*/*" || r.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("%s with Accept %q, Authorization %q", r.Method, r.Header.Get("Accept"), r.Header.Get("Authorization"))
		}
		id, ok := strings.CutPrefix(r.URL.Path, PathResults+"/")
		if !ok {
			t.Errorf("path %s", r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		switch id {
		case "running":
			w.WriteHeader(202)
			_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "status": "in-progress"})
		case "done", "filtered":
			reason := map[string]string{"done": "SUCCESS", "filtered": "CONTENT_FILTERED"}[id]
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("finish-reason", reason)
			w.Header().Set("seed", "1234567")
			_, _ = io.WriteString(w, img)
		case "expired":
			w.WriteHeader(404)
			_, _ = io.WriteString(w, `{"id":"e7","name":"not_found","errors":["generation not found"]}`)
		default:
			w.WriteHeader(429)
			_, _ = io.WriteString(w, `{"id":"e8","name":"rate_limit_exceeded","errors":["poll every 10 s"]}`)
		}
	})
	ctx := context.Background()

	t.Run("InProgress", func(t *testing.T) {
		t.Parallel()
		if res, err := c.Result(ctx, "running"); !errors.Is(err, ErrInProgress) || res != nil {
			t.Errorf("Result = %v, %v", res, err)
		}
	})
	for _, id := range []string{"done", "filtered"} {
		t.Run("OK_"+id, func(t *testing.T) {
			t.Parallel()
			res, err := c.Result(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if string(body) != img || res.ContentType != "image/png" || res.Seed != 1234567 || res.ID != id {
				t.Errorf("result %+v body %q", res, body)
			}
			if res.Filtered() != (id == "filtered") || (id == "done" && res.FinishReason != FinishSuccess) {
				t.Errorf("FinishReason %q", res.FinishReason)
			}
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := c.Result(ctx, "expired")
		var apiErr *APIError
		if !errors.As(err, &apiErr) || !apiErr.NotFound() || apiErr.Retryable() || apiErr.Name != "not_found" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ErrRateLimited", func(t *testing.T) {
		t.Parallel()
		_, err := c.Result(ctx, "other")
		var apiErr *APIError
		if !errors.As(err, &apiErr) || !apiErr.Retryable() || apiErr.NotFound() || strings.Contains(err.Error(), testKey) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ErrEmptyID", func(t *testing.T) {
		t.Parallel()
		if _, err := c.Result(ctx, ""); err == nil {
			t.Error("no error for an empty id")
		}
	})
}

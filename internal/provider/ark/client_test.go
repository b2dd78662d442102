package ark

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

const testKey = "ark-test-key-0123456789"

// newTestClient serves h and returns a client for it with base path /api/v3.
func newTestClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return NewClient(Config{BaseURL: srv.URL + "/api/v3/", APIKey: testKey, HTTPClient: srv.Client()})
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ptr[T any](v T) *T { return &v }

func TestClient_Generate_Request(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  *ImagesRequest
		want string
	}{
		{"Full", &ImagesRequest{
			Model: ModelSeedream40, Prompt: "参考图1、图2中的人物",
			Image:                     []string{"https://a.example/1.jpg", "data:image/png;base64,AAAA"},
			Size:                      "2K",
			SequentialImageGeneration: "auto", SequentialImageGenerationOptions: &SequentialOptions{MaxImages: 4},
			Stream: true, ResponseFormat: "url", Watermark: ptr(false),
		}, `{"model":"doubao-seedream-4-0-250828","prompt":"参考图1、图2中的人物","image":["https://a.example/1.jpg","data:image/png;base64,AAAA"],"size":"2K","sequential_image_generation":"auto","sequential_image_generation_options":{"max_images":4},"stream":true,"response_format":"url","watermark":false}`},
		{"Minimal", &ImagesRequest{Model: "ep-20250101-abc", Prompt: "a cat"},
			`{"model":"ep-20250101-abc","prompt":"a cat","stream":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				switch {
				case r.Method != http.MethodPost || r.URL.Path != "/api/v3/images/generations":
					t.Errorf("request %s %s", r.Method, r.URL.Path)
				case r.Header.Get("Authorization") != "Bearer "+testKey:
					t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
				case r.Header.Get("Content-Type") != "application/json":
					t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
				case string(body) != tt.want:
					t.Errorf("body =\n%s\nwant\n%s", body, tt.want)
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"model":"m","created":1,"data":[{"url":"https://cdn/0.jpeg","size":"2048x2048"}],"usage":{"generated_images":1,"output_tokens":16384,"total_tokens":16384}}`)
			})
			im, err := c.Generate(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(im.Items) != 1 || im.Items[0].URL != "https://cdn/0.jpeg" {
				t.Errorf("items = %+v", im.Items)
			}
		})
	}
}

// checkMixed asserts the answer in testdata/*_mixed: images 0 and 2 made,
// image 1 refused by moderation.
func checkMixed(t *testing.T, im *Images) {
	t.Helper()
	if im.Model != ModelSeedream40 || im.Created != 1757323224 || !im.Complete {
		t.Errorf("header = %q %d complete=%v", im.Model, im.Created, im.Complete)
	}
	if len(im.Items) != 3 {
		t.Fatalf("items = %+v", im.Items)
	}
	for i, it := range im.Items {
		if it.Index != i {
			t.Errorf("item %d has index %d", i, it.Index)
		}
	}
	ok := im.Succeeded()
	if len(ok) != 2 || ok[0].URL != "https://cdn.example/0.jpeg?X-Tos-Expires=86400" || ok[1].Index != 2 || ok[1].Size != "1728x2304" {
		t.Errorf("succeeded = %+v", ok)
	}
	bad := im.Failed()
	if len(bad) != 1 || bad[0].Index != 1 || bad[0].Error.Code != "OutputImageSensitiveContentDetected" || bad[0].URL != "" {
		t.Errorf("failed = %+v", bad)
	}
	if im.Usage != (Usage{GeneratedImages: 2, OutputTokens: 31104, TotalTokens: 31104}) {
		t.Errorf("usage = %+v", im.Usage)
	}
}

func TestClient_Generate_Streamed(t *testing.T) {
	t.Parallel()
	stream := readTestdata(t, "stream_mixed.txt")
	tests := []struct {
		name, contentType, body string
	}{
		{"Official", "text/event-stream", stream},
		{"CRLF", "text/event-stream; charset=utf-8", strings.ReplaceAll(stream, "\n", "\r\n")},
		{"NoDoneNoEventNames", "text/event-stream", strings.NewReplacer(
			"data: [DONE]\n", "", "event: image_generation.partial_succeeded\n", "",
			"event: image_generation.partial_failed\n", "", "event: image_generation.completed\n", "").Replace(stream)},
		{"CommentsAndNoTrailingBlank", "text/event-stream", ": keep-alive\n\n" + strings.TrimSuffix(stream, "\n\n") + "\n"},
		{"SniffedWithoutContentType", "", stream},
		{"MultiLineJSON", "text/event-stream", strings.Replace(stream,
			`data: {"type":"image_generation.completed",`, "data: {\ndata: \"type\":\"image_generation.completed\",", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				} else {
					w.Header()["Content-Type"] = nil // no sniffing by net/http either
				}
				// Send event by event, flushing, as the real stream does.
				for _, part := range strings.SplitAfter(tt.body, "\n\n") {
					_, _ = io.WriteString(w, part)
					w.(http.Flusher).Flush()
				}
			})
			im, err := c.Generate(context.Background(), &ImagesRequest{Model: ModelSeedream40, Prompt: "p", Stream: true,
				SequentialImageGeneration: "auto", SequentialImageGenerationOptions: &SequentialOptions{MaxImages: 4}})
			if err != nil {
				t.Fatal(err)
			}
			checkMixed(t, im) // three images came for max_images 4
		})
	}
}

func TestClient_Generate_NotStreamed(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "images_mixed.json")
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	})
	im, err := c.Generate(context.Background(), &ImagesRequest{Model: ModelSeedream40, Prompt: "p"})
	if err != nil {
		t.Fatal(err)
	}
	checkMixed(t, im)
}

func TestClient_Generate_StreamStopsEarly(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: image_generation.partial_failed\n"+
			`data: {"type":"image_generation.partial_failed","model":"m","created":1,"image_index":0,"error":{"code":"InternalServiceError","message":"internal error"}}`+"\n\n")
	})
	im, err := c.Generate(context.Background(), &ImagesRequest{Model: "m", Prompt: "p", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	if im.Complete || len(im.Items) != 1 || len(im.Succeeded()) != 0 || im.Items[0].Error.Code != "InternalServiceError" {
		t.Errorf("images = %+v", im)
	}
}

func TestClient_Generate_StreamBroken(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"type":"image_generation.partial_succeeded","model":"m","created":1,"image_index":0,"url":"https://cdn/0.jpeg","size":"1x1"}`+"\n\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection drops mid-stream
	})
	im, err := c.Generate(context.Background(), &ImagesRequest{Model: "m", Prompt: "p", Stream: true})
	var tErr *TransportError
	if !errors.As(err, &tErr) || !IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable transport error", err)
	}
	if im == nil || len(im.Succeeded()) != 1 || im.Items[0].URL != "https://cdn/0.jpeg" || im.Complete {
		t.Errorf("images kept = %+v", im)
	}
}

package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/webhook"
)

func TestSender_Send(t *testing.T) {
	t.Parallel()
	secret := webhook.NewSecret()
	now := time.Unix(1700000000, 0)
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		got := make(chan *http.Request, 1)
		body := make(chan string, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- r
			body <- string(b)
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)
		s := webhook.NewSender(fetch.New(fetch.Config{AllowPrivate: true}), webhook.Config{Now: func() time.Time { return now }})
		res := s.Send(context.Background(), webhook.Message{URL: srv.URL, ID: "msg_1", Body: []byte(`{"a":1}`), Secret: secret})
		if res.Err != nil || res.StatusCode != 204 {
			t.Fatalf("Send = %+v", res)
		}
		r := <-got
		want, _ := webhook.Sign(secret, "msg_1", now, []byte(`{"a":1}`))
		if r.Method != http.MethodPost || r.Header.Get("webhook-id") != "msg_1" || r.Header.Get("webhook-timestamp") != "1700000000" ||
			r.Header.Get("webhook-signature") != want || r.Header.Get("Content-Type") != "application/json" || <-body != `{"a":1}` {
			t.Fatalf("request %s %v", r.Method, r.Header)
		}
	})
	t.Run("ErrStatus", func(t *testing.T) {
		t.Parallel()
		for _, h := range []http.HandlerFunc{
			func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) },
			func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) },
		} {
			srv := httptest.NewServer(h)
			s := webhook.NewSender(fetch.New(fetch.Config{AllowPrivate: true}), webhook.Config{})
			res := s.Send(context.Background(), webhook.Message{URL: srv.URL, ID: "msg_1", Body: []byte(`{}`), Secret: secret})
			srv.Close()
			if res.Err == nil || res.StatusCode < 300 || !strings.Contains(res.Err.Error(), "HTTP") {
				t.Fatalf("Send = %+v", res)
			}
		}
	})
	t.Run("ErrPrivateAddress", func(t *testing.T) {
		t.Parallel()
		hit := make(chan struct{}, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit <- struct{}{} }))
		t.Cleanup(srv.Close)
		s := webhook.NewSender(fetch.New(fetch.Config{}), webhook.Config{})
		res := s.Send(context.Background(), webhook.Message{URL: srv.URL, ID: "msg_1", Body: []byte(`{}`), Secret: secret})
		if res.Err == nil || res.StatusCode != 0 || !strings.Contains(res.Err.Error(), "not allowed") || strings.Contains(res.Err.Error(), "127.0.0.1") {
			t.Fatalf("Send = %+v", res)
		}
		select {
		case <-hit:
			t.Fatal("the private receiver was reached")
		default:
		}
	})
}

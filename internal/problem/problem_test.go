package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	w.Header().Set("WWW-Authenticate", `Bearer realm="x"`)
	Write(w, http.StatusForbidden, "no", Field("header.Sec-Fetch-Site", "required"))
	var p struct {
		Title, Detail string
		Status        int
		Errors        []struct{ Location, Message string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if w.Code != 403 || p.Status != 403 || p.Title != "Forbidden" || p.Detail != "no" ||
		len(p.Errors) != 1 || p.Errors[0].Location != "header.Sec-Fetch-Site" || p.Errors[0].Message != "required" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	h := w.Header()
	if h.Get("Content-Type") != "application/problem+json" || h.Get("Cache-Control") != "no-store" || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("headers %v", h)
	}
}

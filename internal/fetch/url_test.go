package fetch

import (
	"errors"
	"net/url"
	"testing"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		url    string
		reason string // empty: valid
	}{
		{"HTTPS", "https://cdn.example.com/a.png?x=1", ""},
		{"HTTPUpperScheme", "HTTP://example.com", ""},
		{"HostPort", "http://example.com:8080/x", ""},
		{"Empty", "", "must not be empty"},
		{"Blank", "   ", "must not be empty"},
		{"FTP", "ftp://example.com/file", "must be an absolute http(s) URL"},
		{"Relative", "/uploads/a.png", "must be an absolute http(s) URL"},
		{"NoScheme", "example.com/a.png", "must be an absolute http(s) URL"},
		{"Data", "data:image/png;base64,AAAA", "must be an absolute http(s) URL"},
		{"EmptyHost", "http:///path", "must include a host"},
		{"PortOnly", "http://:80/path", "must include a host"},
		{"Unparsable", "http://exa mple.com/%zz", "is not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckURL(tt.url)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v", tt.url, err)
				}
				return
			}
			var ue *URLError
			if !errors.As(err, &ue) {
				t.Fatalf("CheckURL(%q) = %v, want *URLError", tt.url, err)
			}
			if ue.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", ue.Reason, tt.reason)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://user:pw@cdn.example.com/a/b.mp4?X-Amz-Signature=abc#frag")
	if got, want := redact(u), "https://cdn.example.com/a/b.mp4"; got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
}

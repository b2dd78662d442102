package provider_test

import (
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/provider"
)

func TestTrimBody(t *testing.T) {
	t.Parallel()

	long := strings.Repeat("x", 250)
	for _, tt := range []struct {
		name, body, want string
	}{
		{"Folded", "<html>\n  <body>Bad   Gateway</body>\n</html>\n", "<html> <body>Bad Gateway</body> </html>"},
		{"Cut", long, long[:200] + "…"},
		{"Empty", " \n\t", "empty body"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := provider.TrimBody([]byte(tt.body)); got != tt.want {
				t.Fatalf("TrimBody = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()

	if got := provider.BaseURL("", "https://api.example.com/v3/"); got != "https://api.example.com/v3" {
		t.Errorf("default: %q", got)
	}
	if got := provider.BaseURL("http://127.0.0.1:8080//", "https://api.example.com"); got != "http://127.0.0.1:8080" {
		t.Errorf("configured: %q", got)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()

	if got := provider.Redact("dial https://sk-123@host: refused", "sk-123"); got != "dial https://[redacted]@host: refused" {
		t.Errorf("Redact = %q", got)
	}
	if got := provider.Redact("no key here", ""); got != "no key here" {
		t.Errorf("empty key: %q", got)
	}
}

package job

import (
	"errors"
	"fmt"
	"testing"

	"github.com/lepus-ai/lepus/internal/fetch"
)

// explainer is a Provider that claims the errors in its set; the other
// methods are never called.
type explainer struct {
	Provider
	claims map[error]string
}

func (x explainer) Explain(err error) (string, bool) {
	for e, reason := range x.claims {
		if errors.Is(err, e) {
			return reason, true
		}
	}
	return "", false
}

// TestEngine_publicReason: a download failure and an error a provider
// claims are shown; anything else is summarised. Providers that do not
// explain are skipped.
func TestEngine_publicReason(t *testing.T) {
	t.Parallel()
	refused, unreachable := errors.New("refused"), errors.New("dial tcp 10.0.0.1:443")
	download := fmt.Errorf("download image result 0: %w", &fetch.StatusError{StatusCode: 404})
	e := &Engine{Providers: map[string]Provider{
		"a": struct{ Provider }{}, // explains nothing
		"b": explainer{claims: map[error]string{refused: "b: http 400: refused"}},
		"c": explainer{claims: map[error]string{unreachable: "the provider could not be reached"}},
	}}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"Download", download, download.Error()},
		{"ProviderAnswer", fmt.Errorf("submit: %w", refused), "b: http 400: refused"},
		{"ProviderTransport", unreachable, "the provider could not be reached"},
		{"Internal", errors.New("database is locked"), "an internal error (logged)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := e.publicReason(tt.err); got != tt.want {
				t.Fatalf("publicReason = %q, want %q", got, tt.want)
			}
		})
	}
}

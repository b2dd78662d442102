package job

import (
	"errors"
	"maps"
	"slices"

	"github.com/lepus-ai/lepus/internal/fetch"
)

// publicReason is what a client may read about an error: a provider's own
// answer (its Explainer says which errors those are) or a download
// failure, which say what went wrong; anything else (the database,
// storage) is logged and summarised. Providers are asked in name order, so
// the answer does not depend on map order.
func (e *Engine) publicReason(err error) string {
	var status *fetch.StatusError
	if errors.As(err, &status) {
		return err.Error()
	}
	for _, name := range slices.Sorted(maps.Keys(e.Providers)) {
		if x, ok := e.Providers[name].(Explainer); ok {
			if reason, ok := x.Explain(err); ok {
				return reason
			}
		}
	}
	return "an internal error (logged)"
}

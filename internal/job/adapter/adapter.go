// Package adapter connects the typed provider clients (internal/provider/*)
// to the job engine: each type here implements job.Provider for one
// provider, translating its protocol (submit, poll, list, download) and
// classifying its errors into job.Outcome. The engine imports none of
// them; cmd/lepus builds them and hands them to job.Engine.Providers.
package adapter

import "github.com/lepus-ai/lepus/internal/job"

// What each adapter promises the engine: job.Provider and the optional
// interfaces the engine looks for.
var (
	_ job.Provider     = (*klingProvider)(nil)
	_ job.Lister       = (*klingProvider)(nil)
	_ job.Explainer    = (*klingProvider)(nil)
	_ job.Provider     = (*arkProvider)(nil)
	_ job.Explainer    = (*arkProvider)(nil)
	_ job.Provider     = (*llmProvider)(nil)
	_ job.Provider     = (*stabilityProvider)(nil)
	_ job.Explainer    = (*stabilityProvider)(nil)
	_ job.ResultOpener = (*stabilityProvider)(nil)
	_ job.Spacer       = (*stabilityProvider)(nil)
)

package job

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Provider drives one provider's tasks for the engine. Implementations
// translate the provider's protocol; the engine owns ordering, persistence
// and retries. The implementations live in internal/job/adapter, so the
// engine imports no provider client.
type Provider interface {
	// Submit sends the stage's persisted Request and returns the provider's task id.
	Submit(ctx context.Context, st *lepus.Stage) (string, error)
	// Call sends a synchronous stage's Request and returns the provider's
	// answer, and the result files it names (to collect), if any.
	Call(ctx context.Context, st *lepus.Stage) (json.RawMessage, []lepus.Result, error)
	// Find looks a stage up by its ExternalID, for a retry after a submit
	// whose outcome is unknown. found is false if the provider never accepted it.
	Find(ctx context.Context, st *lepus.Stage) (id string, found bool, err error)
	// Poll reports the state of the stage's provider task.
	Poll(ctx context.Context, st *lepus.Stage) (*PollResult, error)
	// Classify says what the engine should do about an error from the provider.
	Classify(err error) Outcome
}

// PollResult is one observation of a provider task.
type PollResult struct {
	State   PollState
	Message string // the provider's reason when failed
	// Code, when set, is the task error code of a failure (default provider_failed).
	Code    string
	Results []lepus.Result
	// RetrieveAfter asks the engine to wait this long before fetching the
	// results (a provider that rate-limits spaced requests).
	RetrieveAfter time.Duration
}

// ResultOpener is implemented by providers whose results are not plain
// public URLs (they need the provider's credentials); others are fetched
// through the SSRF-safe client.
type ResultOpener interface {
	OpenResult(ctx context.Context, st *lepus.Stage, res *lepus.Result) (body io.ReadCloser, contentType string, err error)
}

// Spacer is implemented by providers that want requests about one task at
// least MinSpacing apart (Stability: 10 s). The engine keeps to it for every
// request about the task, polls, retries and result downloads alike.
type Spacer interface {
	MinSpacing() time.Duration
}

// Explainer is implemented by providers whose errors can be the provider's
// own answer (a refused request, an unreachable host), which a client may
// read when a task gives up; the engine reports any other error only as an
// internal one.
type Explainer interface {
	// Explain returns what a client may read about err, and false when err
	// is not this provider's.
	Explain(err error) (reason string, ok bool)
}

// PollState is the coarse state of a provider task.
type PollState int

// Provider task states.
const (
	PollRunning PollState = iota
	PollSucceeded
	PollFailed
)

// Outcome is the engine's reaction to a provider error.
type Outcome int

// Outcomes of Provider.Classify.
const (
	// OutcomeRetry: transient; retry with backoff (costs an attempt).
	OutcomeRetry Outcome = iota
	// OutcomeBusy: no free provider slot; wait without costing an attempt.
	OutcomeBusy
	// OutcomeDuplicate: the provider already has a task with our external id.
	OutcomeDuplicate
	// OutcomeNotFound: the provider has no such task.
	OutcomeNotFound
	// OutcomeReject: the request is refused for good; fail with the provider's message.
	OutcomeReject
	// OutcomeAccount: the provider account cannot run tasks (billing, permission); fail and alert.
	OutcomeAccount
	// OutcomeAuth: the provider refuses our credentials; fail as a configuration error.
	OutcomeAuth
)

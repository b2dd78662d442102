package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/stability"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// StabilityMinPoll is the least time between two requests about one
// Stability result: Stability warns that polling a result more often than
// once every 10 s is rate limited (other-providers.md §1.2). No setting
// lowers it, LEPUS_POLL_INTERVAL included.
const StabilityMinPoll = 10 * time.Second

// testMinPoll, when positive, replaces StabilityMinPoll in providers built
// afterwards; only SetStabilityMinPollForTests sets it.
var testMinPoll atomic.Int64

// SetStabilityMinPollForTests makes Stability providers built afterwards
// space requests about a result d apart instead of StabilityMinPoll, for
// tests whose Stability is a sandbox that asks for less. It panics outside a
// test binary, so a real process always keeps the 10 s floor. (The simpler
// alternatives both break the contract or the tests: taking the floor from
// configuration lets an operator poll the real Stability too fast, and a
// fixed 10 s makes every relight test wait 20 s.)
func SetStabilityMinPollForTests(d time.Duration) {
	if !testing.Testing() {
		panic("adapter: SetStabilityMinPollForTests called outside a test")
	}
	testMinPoll.Store(int64(d))
}

// stabilityProvider adapts the Stability relight client to job.Provider.
// Stability takes the subject image as a file, so Submit downloads it and
// fits it to Stability's pixel and size limits first. Its results need the
// API key to download (ResultOpener), and it asks for requests about one
// result at least minPoll apart.
type stabilityProvider struct {
	client  *stability.Client
	fetch   *fetch.Client
	minPoll time.Duration
}

// NewStability returns the job.Provider for stages whose Provider is
// "stability". Its requests about one result are StabilityMinPoll apart.
func NewStability(c *stability.Client, f *fetch.Client) job.Provider {
	minPoll := StabilityMinPoll
	if d := time.Duration(testMinPoll.Load()); d > 0 {
		minPoll = d
	}
	return &stabilityProvider{client: c, fetch: f, minPoll: minPoll}
}

// maxSubjectDownload bounds the subject image Lepus downloads.
const maxSubjectDownload = 30 << 20

func (p *stabilityProvider) Submit(ctx context.Context, st *lepus.Stage) (string, error) {
	var req workflow.StabilityRelight
	if err := json.Unmarshal(st.Request, &req); err != nil {
		return "", fmt.Errorf("decode relight request: %w", err)
	}
	resp, err := p.fetch.Open(ctx, req.SubjectImageURL)
	if err != nil {
		return "", fmt.Errorf("download subject image: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSubjectDownload))
	resp.Body.Close()
	if err != nil {
		return "", fmt.Errorf("download subject image: %w", err)
	}
	data, name, mime, _, err := stability.FitSubject(data)
	if err != nil {
		return "", &stability.APIError{Status: http.StatusBadRequest, Name: "invalid_subject", Errors: []string{err.Error()}}
	}
	strength, preserve := req.LightSourceStrength, req.PreserveOriginalSubject
	return p.client.Start(ctx, &stability.RelightRequest{
		SubjectImage: data, SubjectName: name, SubjectType: mime,
		BackgroundPrompt: req.BackgroundPrompt, KeepOriginalBackground: req.KeepOriginalBackground,
		LightSourceDirection: req.LightSourceDirection, LightSourceStrength: &strength,
		PreserveOriginalSubject: &preserve, OutputFormat: req.OutputFormat,
	})
}

// Call is not used: relight is asynchronous.
func (p *stabilityProvider) Call(context.Context, *lepus.Stage) (json.RawMessage, []lepus.Result, error) {
	return nil, nil, errors.New("stability: no synchronous calls")
}

// Find cannot reconcile: Stability has no client-chosen ids. A start whose
// answer was lost is sent again (Stability charges only successful
// generations, so a duplicate that is never fetched is not billed twice by
// Lepus's account beyond that generation).
func (p *stabilityProvider) Find(context.Context, *lepus.Stage) (string, bool, error) {
	return "", false, nil
}

// Poll asks for the result once. It first raises the stage's poll interval
// to minPoll: the engine spaces the stage's polls by that interval when it is
// set, and a workflow-wide override (LEPUS_POLL_INTERVAL) clears the
// relight stage's own 10 s advice. Raising it here keeps the floor with the
// provider that owns the rule, whatever the workflow says, and it is saved
// with the stage, so it holds after a restart too.
func (p *stabilityProvider) Poll(ctx context.Context, st *lepus.Stage) (*job.PollResult, error) {
	st.PollInterval = max(st.PollInterval, p.minPoll)
	res, err := p.client.Result(ctx, st.ProviderTaskID)
	if errors.Is(err, stability.ErrInProgress) {
		return &job.PollResult{State: job.PollRunning}, nil
	}
	if err != nil {
		return nil, err
	}
	res.Body.Close() // fetched again by OpenResult, after the spacing Stability asks for
	if res.FinishReason == "CONTENT_FILTERED" {
		return &job.PollResult{State: job.PollFailed, Code: "content_filtered",
			Message: "Stability's content filter blocked the result (CONTENT_FILTERED)"}, nil
	}
	return &job.PollResult{State: job.PollSucceeded, RetrieveAfter: p.minPoll,
		Results: []lepus.Result{{Kind: lepus.AssetImage, URL: "stability:results/" + st.ProviderTaskID}}}, nil
}

// MinSpacing is Stability's spacing of requests about one result: the
// engine keeps it for polls, retries and the download alike.
func (p *stabilityProvider) MinSpacing() time.Duration { return p.minPoll }

// OpenResult downloads the finished image with Lepus's key.
func (p *stabilityProvider) OpenResult(ctx context.Context, st *lepus.Stage, _ *lepus.Result) (io.ReadCloser, string, error) {
	res, err := p.client.Result(ctx, st.ProviderTaskID)
	if err != nil {
		return nil, "", err
	}
	return res.Body, res.ContentType, nil
}

// Explain shows Stability's own answers as they are.
func (p *stabilityProvider) Explain(err error) (string, bool) {
	var apiErr *stability.APIError
	if errors.As(err, &apiErr) {
		return err.Error(), true
	}
	return "", false
}

func (p *stabilityProvider) Classify(err error) job.Outcome {
	var apiErr *stability.APIError
	if !errors.As(err, &apiErr) {
		return job.OutcomeRetry // transport
	}
	switch {
	case apiErr.Status == http.StatusTooManyRequests:
		return job.OutcomeBusy
	case apiErr.Retryable():
		return job.OutcomeRetry
	case apiErr.NotFound():
		return job.OutcomeNotFound
	case apiErr.Status == http.StatusUnauthorized:
		return job.OutcomeAuth
	default:
		return job.OutcomeReject
	}
}

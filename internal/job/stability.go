package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/stability"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// stabilityProvider adapts the Stability relight client to Provider.
// Stability takes the subject image as a file, so Submit downloads it and
// fits it to Stability's pixel and size limits first. Its results need the
// API key to download (ResultOpener), and it asks for requests at least
// retrieveAfter apart.
type stabilityProvider struct {
	client        *stability.Client
	fetch         *fetch.Client
	retrieveAfter time.Duration
}

// NewStabilityProvider returns the Provider for stages whose Provider is
// "stability"; minPoll is the spacing Stability asks for between requests
// about one result (10 s).
func NewStabilityProvider(c *stability.Client, f *fetch.Client, minPoll time.Duration) Provider {
	return &stabilityProvider{client: c, fetch: f, retrieveAfter: minPoll}
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

func (p *stabilityProvider) Poll(ctx context.Context, st *lepus.Stage) (*PollResult, error) {
	res, err := p.client.Result(ctx, st.ProviderTaskID)
	if errors.Is(err, stability.ErrInProgress) {
		return &PollResult{State: PollRunning}, nil
	}
	if err != nil {
		return nil, err
	}
	res.Body.Close() // fetched again by OpenResult, after the spacing Stability asks for
	if res.FinishReason == "CONTENT_FILTERED" {
		return &PollResult{State: PollFailed, Code: "content_filtered",
			Message: "Stability's content filter blocked the result (CONTENT_FILTERED)"}, nil
	}
	return &PollResult{State: PollSucceeded, RetrieveAfter: p.retrieveAfter,
		Results: []lepus.Result{{Kind: lepus.AssetImage, URL: "stability:results/" + st.ProviderTaskID}}}, nil
}

// OpenResult downloads the finished image with Lepus's key.
func (p *stabilityProvider) OpenResult(ctx context.Context, st *lepus.Stage, _ *lepus.Result) (io.ReadCloser, string, error) {
	res, err := p.client.Result(ctx, st.ProviderTaskID)
	if err != nil {
		return nil, "", err
	}
	return res.Body, res.ContentType, nil
}

func (p *stabilityProvider) Classify(err error) Outcome {
	var apiErr *stability.APIError
	if !errors.As(err, &apiErr) {
		return OutcomeRetry // transport
	}
	switch {
	case apiErr.Status == http.StatusTooManyRequests:
		return OutcomeBusy
	case apiErr.Retryable():
		return OutcomeRetry
	case apiErr.NotFound():
		return OutcomeNotFound
	case apiErr.Status == http.StatusUnauthorized:
		return OutcomeAuth
	default:
		return OutcomeReject
	}
}

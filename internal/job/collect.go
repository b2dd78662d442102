package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// collect copies every result of a stage into blob storage and records an
// Asset for each. Keys are deterministic, so a retried copy overwrites.
func (r *run) collect(ctx context.Context, i int, st *lepus.Stage) error {
	if st.ReadyAt != nil {
		if d := st.ReadyAt.Sub(r.e.Now()); d > 0 {
			return snooze(d)
		}
	}
	for j := range st.Results {
		res := &st.Results[j]
		if res.AssetID != "" {
			continue
		}
		a, err := r.store(ctx, i, st, j, res)
		if err != nil {
			return err
		}
		res.AssetID = a.ID
		if err := r.save(ctx); err != nil {
			return err
		}
	}
	st.Phase, st.StorageFailingSince = lepus.PhaseDone, nil
	r.t.Progress = r.progress(i, 1)
	r.t.Step = st.Name + ".done"
	return r.save(ctx)
}

func (r *run) store(ctx context.Context, i int, st *lepus.Stage, j int, res *lepus.Result) (*lepus.Asset, error) {
	body, err := r.openResult(ctx, st, res)
	var sn *snoozeError
	if errors.As(err, &sn) {
		return nil, err // too soon to ask the provider again
	}
	if err != nil && r.def.KeepProviderURL && (r.lastTry(st) || errors.Is(err, fetch.ErrForbiddenAddress)) {
		r.log.Warn("result download failed; keeping the provider URL", "stage", st.Name, "error", err)
		r.t.AddNote(fmt.Sprintf("%s result %d could not be downloaded; its provider URL is kept (it may expire)", st.Name, j))
		return r.e.Store.AssetUpsert(ctx, &lepus.Asset{TaskID: r.t.ID, UserID: r.t.UserID, Stage: st.Name, Index: j,
			Kind: res.Kind, ProviderURL: res.URL, ProviderID: res.ProviderID, Model: st.Model})
	}
	if err != nil {
		if errors.Is(err, fetch.ErrForbiddenAddress) {
			return nil, permanent("result_refused", fmt.Sprintf("the %s result URL is not allowed: %v", st.Name, err), false)
		}
		return nil, fmt.Errorf("download %s result %d: %w", st.Name, j, err)
	}
	defer body.Close()

	a := &lepus.Asset{
		TaskID: r.t.ID, UserID: r.t.UserID, Stage: st.Name, Index: j, Kind: res.Kind,
		ProviderURL: res.URL, ProviderID: res.ProviderID, Model: st.Model,
		Primary: j == 0 && r.firstWithResults(i), DurationS: res.DurationS,
	}
	var rd io.Reader = body
	if res.Kind == lepus.AssetVideo {
		a.Mime = "video/mp4"
	} else {
		info, sniffed, err := media.SniffImage(body)
		if err != nil {
			return nil, permanent("bad_result", fmt.Sprintf("the %s result is not a readable image: %v", st.Name, err), true)
		}
		a.Mime, a.Width, a.Height, rd = info.Mime, info.Width, info.Height, sniffed
	}
	a.StorageKey = resultKey(r.t, st.Name, j, a.Mime)
	if r.def.StorageKey != nil {
		a.StorageKey = r.def.StorageKey(r.t, st, j, path.Ext(a.StorageKey))
	}
	if a.Bytes, err = r.e.Blob.Put(ctx, a.StorageKey, a.Mime, rd); err != nil {
		return nil, &storageError{fmt.Errorf("store %s result %d: %w", st.Name, j, err)}
	}
	if a.Kind == lepus.AssetVideo {
		if err := probeVideo(ctx, r.e.Blob, a); err != nil {
			r.log.Warn("read video header", "asset_key", a.StorageKey, "error", err)
		}
	}
	a, err = r.e.Store.AssetUpsert(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("record asset: %w", err)
	}
	return a, nil
}

// lastTry reports whether a failure of stage st now would end it: its
// retries are used up, or this is the queue's last attempt.
func (r *run) lastTry(st *lepus.Stage) bool {
	return r.last || st.Retries >= r.def.Policy.MaxRetries
}

// openResult opens a result for download: through the provider when it
// needs its credentials, else through the SSRF-safe client.
func (r *run) openResult(ctx context.Context, st *lepus.Stage, res *lepus.Result) (io.ReadCloser, error) {
	if o, ok := r.e.Providers[st.Provider].(ResultOpener); ok {
		if err := r.spaced(ctx, st, r.e.Providers[st.Provider]); err != nil {
			return nil, err
		}
		body, _, err := o.OpenResult(ctx, st, res)
		return body, err
	}
	resp, err := r.e.Fetch.Open(ctx, res.URL)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// probeVideo reads a stored video's size, and its duration when the
// provider reported none, from the MP4 header. The parsers seek past the
// last box and read there; blob.Reader answers io.EOF like a file, where
// S3 would refuse the range (416). TestProbeVideo runs it on s3rver.
func probeVideo(ctx context.Context, b *blob.Store, a *lepus.Asset) error {
	rd, err := b.Open(ctx, a.StorageKey)
	if err != nil {
		return err
	}
	defer rd.Close()
	if a.Width, a.Height, err = media.MP4VideoSize(rd); err != nil {
		return err
	}
	if a.DurationS <= 0 {
		a.DurationS, err = media.MP4Duration(rd)
	}
	return err
}

// firstWithResults reports whether stage i is the first stage with results:
// its first result is the task's primary asset.
func (r *run) firstWithResults(i int) bool {
	for j := range i {
		if len(r.t.Stages[j].Results) > 0 {
			return false
		}
	}
	return true
}

// resultKey is the one storage scheme for results: keyed by user and task,
// so a retried upload overwrites rather than duplicates.
func resultKey(t *lepus.Task, stage string, i int, mime string) string {
	ext := ".bin"
	switch {
	case mime == "image/png":
		ext = ".png"
	case mime == "image/jpeg":
		ext = ".jpg"
	case mime == "image/webp":
		ext = ".webp"
	case strings.HasPrefix(mime, "video/"):
		ext = ".mp4"
	}
	return path.Join("results", workflow.SafeSegment(t.UserID), t.ID, fmt.Sprintf("%s-%d%s", stage, i, ext))
}

func requestModel(req json.RawMessage) string {
	var m struct {
		ModelName string `json:"model_name"`
	}
	_ = json.Unmarshal(req, &m)
	return m.ModelName
}

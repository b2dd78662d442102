package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// renderTimeout bounds making one result; it is shared by every download
// waiting for it, so it does not follow any one request's context.
const renderTimeout = 2 * time.Minute

var contentTypes = map[string]string{"png": "image/png", "mp4": "video/mp4"}

// handleCDN serves GET /sandbox/cdn/{task}/{index}.{ext}: plain, unauthenticated
// URLs like Kling's CDN. Results are rendered on first download.
func (s *Sandbox) handleCDN(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("task")
	name := r.PathValue("file")
	idxStr, ext, _ := strings.Cut(name, ".")
	idx, err := strconv.Atoi(idxStr)

	s.mu.Lock()
	t := s.tasks[id]
	ok := err == nil && t != nil && t.status == statusSucceed &&
		idx >= 0 && idx < len(t.spec.outputs) && t.spec.outputs[idx].ext == ext
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	data, err := s.result(t, idx)
	if err != nil {
		s.log.Error("sandbox: render result", "task_id", id, "index", idx, "err", err)
		http.Error(w, "cannot render result", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", contentTypes[ext])
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

// result returns output idx of t, rendering it once however many downloads
// ask at the same time, with at most one render per CPU.
func (s *Sandbox) result(t *task, idx int) ([]byte, error) {
	return s.cachedRender(t.id+"/"+strconv.Itoa(idx), func(ctx context.Context) ([]byte, error) {
		return t.spec.render(ctx, s, idx)
	})
}

// cachedRender returns the bytes cached under key, or renders them once
// however many callers ask at the same time, holding a render slot (one per
// CPU) while render runs; render's context says it holds the slot.
func (s *Sandbox) cachedRender(key string, render func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	if b, ok := s.results.get(key); ok {
		return b, nil
	}
	v, err, _ := s.renderGroup.Do(key, func() (any, error) {
		if b, ok := s.results.get(key); ok {
			return b, nil
		}
		s.renderSem <- struct{}{}
		defer func() { <-s.renderSem }()
		ctx, cancel := context.WithTimeout(context.Background(), renderTimeout)
		defer cancel()
		b, err := render(context.WithValue(ctx, holdsSlot{}, true))
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", key, err)
		}
		s.results.add(key, b)
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// holdsSlot marks the context of a render, which holds a render slot.
type holdsSlot struct{}

// parentResult returns output idx of t for a render that needs it (the
// video it extends or lip-syncs). When called from a render it gives up its
// slot while waiting, so renders waiting for parents can never hold every
// slot a parent needs.
func (s *Sandbox) parentResult(ctx context.Context, t *task, idx int) ([]byte, error) {
	if ctx.Value(holdsSlot{}) == nil {
		return s.result(t, idx)
	}
	<-s.renderSem
	defer func() { s.renderSem <- struct{}{} }()
	return s.result(t, idx)
}

// cpu runs f holding a render slot, for CPU work outside a render.
func (s *Sandbox) cpu(f func() error) error {
	s.renderSem <- struct{}{}
	defer func() { <-s.renderSem }()
	return f()
}

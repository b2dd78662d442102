package app

import (
	"context"
	"io"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// HandleKlingCallback treats a Kling callback as a hint only (Kling's posts
// are unsigned): it wakes the task's waiting job, which re-queries Kling
// with Lepus's own credentials before trusting anything.
func (s *Service) HandleKlingCallback(ctx context.Context, token string, body io.Reader) error {
	t, err := s.Store.TaskGetByCallbackToken(ctx, token)
	if err != nil {
		return err
	}
	cb, err := kling.ParseCallback(io.LimitReader(body, 1<<20))
	if err != nil {
		return lepus.FieldErrorf("body", "not a Kling task object: %v", err)
	}
	s.Logger.DebugContext(ctx, "kling callback", "task_id", t.ID, "provider_task_id", cb.TaskID, "provider_status", cb.TaskStatus)
	if t.Status.Terminal() || t.JobID == 0 || s.Queue == nil {
		return nil
	}
	s.Queue.Wake(ctx, t.JobID) // a hint: the woken job re-queries the provider
	return nil
}

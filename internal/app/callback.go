package app

import (
	"context"
	"io"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// HandleKlingCallback treats a Kling callback as a hint only (Kling's posts
// are unsigned): the queue re-queries Kling with Lepus's own credentials,
// frees the slot of a provider task that ended, and wakes the task's job,
// which re-queries again before it trusts anything.
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
	s.Queue.CalledBack(ctx, t) // a hint: re-queried before anything is trusted
	return nil
}

package job

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// maxRetryDelay caps the delay between retries (the old Celery tasks'
// retry_backoff_max).
const maxRetryDelay = 300 * time.Second

// defaultStorageLimit bounds how long a stage keeps retrying a blob storage
// outage when its workflow sets no time limit.
const defaultStorageLimit = 30 * time.Minute

// storageError marks a failure to write a result to blob storage.
type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

// retryLater turns a transient step failure into a later retry of the same
// step. A retry is a snooze, so River's attempts are left alone: each stage
// has its own budget of the workflow's MaxRetries, persisted in the stage.
// A database outage costs nothing (see awaitDatabase), and a
// storage outage is retried for up to the stage's time limit, since the
// provider already delivered. Errors that are not transient pass through.
func (r *run) retryLater(ctx context.Context, st *lepus.Stage, err error) error {
	var sn *snoozeError
	var perm *permanentError
	if errors.As(err, &sn) || errors.As(err, &perm) || errors.Is(err, lepus.ErrTaskEnded) || ctx.Err() != nil {
		return err
	}
	if r.e.databaseDown(ctx, err) {
		return err // settle waits for the database (no retry spent)
	}
	var se *storageError
	if errors.As(err, &se) {
		return r.storageRetry(ctx, st, err)
	}
	st.Retries++
	if st.Retries > r.def.Policy.MaxRetries {
		return permanent("retries_exhausted", fmt.Sprintf("the %s step gave up after %d attempts: %s",
			st.Name, st.Retries, r.e.publicReason(err)), true)
	}
	r.log.Warn("task step failed; will retry", "stage", st.Name, "retry", st.Retries, "error", err)
	if serr := r.save(ctx); serr != nil {
		return err // could not record the retry: let the queue retry the run
	}
	return snooze(r.e.retryDelay(st.Retries))
}

// storageRetry keeps retrying a stage whose results cannot be stored, for
// up to its time limit; then the task fails saying so (and is refunded).
func (r *run) storageRetry(ctx context.Context, st *lepus.Stage, err error) error {
	now := r.e.Now()
	if st.StorageFailingSince == nil {
		st.StorageFailingSince = &now
	}
	limit := cmp.Or(r.def.Policy.SoftLimit, defaultStorageLimit)
	failing := now.Sub(*st.StorageFailingSince)
	if failing > limit {
		return permanent("storage_unavailable", fmt.Sprintf("the %s results could not be saved: storage was unavailable for %s",
			st.Name, failing.Round(time.Second)), true)
	}
	r.log.Warn("blob storage unavailable; will retry", "stage", st.Name, "failing_for", failing.Round(time.Millisecond), "error", err)
	if serr := r.save(ctx); serr != nil {
		return snooze(r.e.retryDelay(1))
	}
	n := 1
	for d := time.Second; d < failing && n < 10; d *= 2 {
		n++
	}
	return snooze(r.e.retryDelay(n))
}

// retryDelay is the delay before retry n (1-based): RetryBase doubled each
// time, capped, with ±10% jitter.
func (e *Engine) retryDelay(n int) time.Duration {
	d := cmp.Or(e.RetryBase, time.Second)
	for i := 1; i < n && d < maxRetryDelay; i++ {
		d *= 2
	}
	d = min(d, maxRetryDelay)
	return d - d/10 + time.Duration(rand.Int64N(int64(d/10)+1))
}

// databaseDown reports whether err may come from an unreachable database
// (a connection-level failure) and the database does not answer now. The
// ping decides: a provider connection that dropped looks the same as a
// database one, but only the database failing its ping means an outage.
func (e *Engine) databaseDown(ctx context.Context, err error) bool {
	if lepus.ErrorCode(err) != lepus.EUnavailable || ctx.Err() != nil {
		return false
	}
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return e.Store.Ping(pingCtx) != nil
}

// awaitDatabase holds the run while the database is unreachable, until it
// answers again or ctx ends, so that when it returns the job is handed back
// at once (a snooze River can record) instead of waiting for a rescue.
func (e *Engine) awaitDatabase(ctx context.Context, log *slog.Logger) {
	log.Warn("database unavailable; the step will be tried again when it returns")
	for delay := 100 * time.Millisecond; ; delay = min(delay*2, 2*time.Second) {
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := e.Store.Ping(pingCtx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/lepus"
)

// maxWait is the longest Prefer: wait a create honours, and what a bare
// "wait" asks for.
const maxWait = 60 * time.Second

// PreferHeader is the Prefer header (RFC 7240) of a create; it is exported
// only so that huma, which skips unexported embedded structs, documents it. Of its
// preferences Lepus acts on wait=N only; others (respond-async,
// return=minimal, …) are ignored, as the RFC asks of a server that does not
// support them. A malformed wait is not ignored but answered 422: a client
// that asked to wait and got a pending task back would not know why.
type PreferHeader struct {
	Prefer string `header:"Prefer" maxLength:"1024" doc:"RFC 7240 preferences. wait=N (1 to 60 seconds; a bare wait means 60) holds the answer until the task ends or N seconds pass: an ended task answers 201 with its final state, otherwise 202 with the task as it is; Preference-Applied: wait=N says it waited. Other preferences are ignored."`

	wait time.Duration // the parsed wait; 0: answer at once
}

// Resolve parses every Prefer header (several are one comma list, RFC
// 7240 §2) after huma has read the first into Prefer.
func (p *PreferHeader) Resolve(ctx huma.Context) []error {
	var all []string
	ctx.EachHeader(func(name, value string) {
		if strings.EqualFold(name, "Prefer") {
			all = append(all, value)
		}
	})
	wait, err := parsePreferWait(strings.Join(all, ","))
	if err != nil {
		return []error{&huma.ErrorDetail{Location: "header.Prefer", Message: err.Error(), Value: p.Prefer}}
	}
	p.wait = wait
	return nil
}

// parsePreferWait returns the wait a Prefer value asks for, 0 for none.
// A preference is token[=value] followed by ;parameters, which no
// preference Lepus knows uses; the first wait counts (RFC 7240 §2). Commas
// inside a quoted value of another preference would split it, which can
// only garble that (ignored) preference.
func parsePreferWait(header string) (time.Duration, error) {
	for _, pref := range strings.Split(header, ",") {
		pref, _, _ = strings.Cut(pref, ";")
		name, value, hasValue := strings.Cut(pref, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "wait") {
			continue
		}
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if !hasValue || value == "" {
			return maxWait, nil
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > int(maxWait/time.Second) {
			return 0, fmt.Errorf("wait must be a whole number of seconds from 1 to %d, got %q", int(maxWait/time.Second), value)
		}
		return time.Duration(n) * time.Second, nil
	}
	return 0, nil
}

// waitEnded holds a create's answer until t ends, d passes, the client goes
// away or the server closes, and returns the newest read of t. It holds no
// worker and no database connection while it waits: it sleeps on the
// task's hub subscription (a wake-up on each change) and re-reads the task
// when woken, plus every Hub.RecheckInterval as a safety net. It returns
// ctx's error only when the client went away; a failed re-read ends the
// wait early with what was last read (the task exists either way).
func (h *handlers) waitEnded(ctx context.Context, t *lepus.Task, d time.Duration) (*lepus.Task, error) {
	if t.Status.Terminal() {
		return t, nil
	}
	wake, stop := h.app.Hub.Subscribe(t.ID)
	defer stop()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(h.app.Hub.RecheckInterval())
	defer tick.Stop()
	for {
		// The first read follows the subscription, so an end between the
		// create and the subscription is not missed.
		cur, err := h.app.GetTask(ctx, t.UserID, t.ID)
		switch {
		case ctx.Err() != nil:
			return t, ctx.Err()
		case err != nil:
			h.log.WarnContext(ctx, "prefer wait: re-read failed; answering with the task as last read", "task_id", t.ID, "error", err)
			return t, nil
		}
		t = cur
		if t.Status.Terminal() {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-h.closing:
			return t, nil
		case <-deadline.C:
			return t, nil
		case <-wake:
		case <-tick.C:
		}
	}
}

// answerWait applies Prefer: wait to a create's answer out: it waits for t
// to end and answers its newest state, 201 if this request created it and
// it ended (a replay keeps its 200), with Preference-Applied.
func (h *handlers) answerWait(ctx context.Context, out *TaskOutput, t *lepus.Task, created bool, wait time.Duration) (*TaskOutput, error) {
	t, err := h.waitEnded(ctx, t, wait)
	if err != nil {
		return nil, problem(ctx, h.log, err) // the client went away: nobody reads this
	}
	out.Body = taskView(h.app, t)
	out.PreferenceApplied = "wait=" + strconv.Itoa(int(wait/time.Second))
	if created && t.Status.Terminal() {
		out.Status = http.StatusCreated
	}
	return out, nil
}

// answerAvatar answers an avatar operation that started a task (d.Started):
// 202 with the avatar, or with Prefer: wait, the avatar once that task
// ended (201 if this request created it) or wait passed, with
// Preference-Applied.
func (h *handlers) answerAvatar(ctx context.Context, d *app.AvatarDetail, wait time.Duration) (*avatarOutput, error) {
	out := &avatarOutput{Status: http.StatusAccepted}
	if wait > 0 && d.Started != nil {
		t, err := h.waitEnded(ctx, d.Started, wait)
		if err != nil {
			return nil, problem(ctx, h.log, err) // the client went away: nobody reads this
		}
		if d.Created && t.Status.Terminal() {
			out.Status = http.StatusCreated
		}
		now, err := h.app.GetAvatar(ctx, d.Avatar.UserID, d.Avatar.ID)
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		d = now
		out.PreferenceApplied = "wait=" + strconv.Itoa(int(wait/time.Second))
	}
	out.Body = avatarView(h.app, d)
	return out, nil
}

// createdAvatarResponse documents the 201 of an avatar operation: the task
// it started ended within its Prefer: wait.
func createdAvatarResponse(api huma.API) map[string]*huma.Response {
	schema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[AvatarView](), true, "AvatarView")
	return map[string]*huma.Response{
		"201": {
			Description: "The task this request started ended within the time Prefer: wait allowed; the body is the avatar after it.",
			Headers: map[string]*huma.Param{
				"Preference-Applied": {Schema: &huma.Schema{Type: "string"}, Description: "wait=N: the answer waited for the task."},
			},
			Content: map[string]*huma.MediaType{"application/json": {Schema: schema}},
		},
	}
}

// createdResponse documents a create's 201: the task ended within its
// Prefer: wait (huma documents the default 202 itself).
func createdResponse(api huma.API) map[string]*huma.Response {
	schema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[TaskView](), true, "TaskView")
	return map[string]*huma.Response{
		"201": {
			Description: "The task ended within the time Prefer: wait allowed; the body is its final state.",
			Headers: map[string]*huma.Param{
				"Location":           {Schema: &huma.Schema{Type: "string"}, Description: "The task's URL path."},
				"Preference-Applied": {Schema: &huma.Schema{Type: "string"}, Description: "wait=N: the answer waited for the task."},
			},
			Content: map[string]*huma.MediaType{"application/json": {Schema: schema}},
		},
	}
}

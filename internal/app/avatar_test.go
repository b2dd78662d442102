package app_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/app/apptest"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// avatarPhoto serves a photo every portrait request accepts and returns its URL.
func avatarPhoto(t *testing.T, b *apptest.Bundle) string {
	t.Helper()
	return b.ServeFile(mediatest.EncodePNG(t, mediatest.Photo(400, 400)))
}

// newAvatar starts user's avatar from one photo, failing t on error.
func newAvatar(t *testing.T, b *apptest.Bundle, user, key string) *app.AvatarDetail {
	t.Helper()
	d, err := b.Service.CreateAvatarPortraits(context.Background(), user, key,
		&workflow.AvatarPortraitsRequest{SourceImageURLs: []string{avatarPhoto(t, b)}}, app.Webhook{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// finishPortraits records n Seedream portraits on d's confirm task and
// completes it, as the worker would. stored says whether each portrait's
// content is in Lepus's storage (else only at the provider).
func finishPortraits(t *testing.T, b *apptest.Bundle, d *app.AvatarDetail, n int, stored bool) []*lepus.Asset {
	t.Helper()
	ctx := context.Background()
	task := d.Avatar.ConfirmTaskID
	var out []*lepus.Asset
	for i := range n {
		a := &lepus.Asset{TaskID: task, UserID: d.Avatar.UserID, Stage: workflow.StageSeedream, Index: i, Kind: lepus.AssetImage,
			Mime: "image/png", Bytes: 1000, Width: 1536, Height: 2048, ProviderURL: fmt.Sprintf("https://cdn.example/%s_%d.png", task, i)}
		if stored {
			a.StorageKey = fmt.Sprintf("avatars/%s/%s_confirm_%d.png", d.Avatar.UserID, task, i)
		}
		got, err := b.Store.AssetUpsert(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	if _, err := b.Store.TaskFinish(ctx, &lepus.TaskFinishParams{ID: task, Status: lepus.StatusCompleted}); err != nil {
		t.Fatal(err)
	}
	return out
}

// confirmedAvatar is ana's avatar with four stored portraits, the third confirmed.
func confirmedAvatar(t *testing.T, b *apptest.Bundle) *app.AvatarDetail {
	t.Helper()
	d := newAvatar(t, b, "ana", "")
	finishPortraits(t, b, d, 4, true)
	c, err := b.Service.ConfirmAvatar(context.Background(), "ana", d.Avatar.ID, 2, app.Webhook{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// storedAvatar is the avatar as the store holds it.
func storedAvatar(t *testing.T, b *apptest.Bundle, id string) *lepus.Avatar {
	t.Helper()
	a, err := b.Store.AvatarGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// anglesInput decodes an angles task's stored request.
func anglesInput(t *testing.T, task *lepus.Task) map[string]any {
	t.Helper()
	if task.Type != "avatar_reference_angles" {
		t.Fatalf("task type %q, want avatar_reference_angles", task.Type)
	}
	return input(t, task)
}

func anyStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func TestService_CreateAvatarPortraits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// A new avatar is saved with its portraits task, which is paid.
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		photo := avatarPhoto(t, b)
		d, err := b.Service.CreateAvatarPortraits(ctx, "ana", "", &workflow.AvatarPortraitsRequest{SourceImageURLs: []string{" " + photo}}, app.Webhook{})
		if err != nil {
			t.Fatal(err)
		}
		if !d.Created || d.Started == nil || d.Started.Type != "avatar_confirm_portraits" || d.Started.Status != lepus.StatusPending {
			t.Fatalf("started %+v created %v, want a new pending portraits task", d.Started, d.Created)
		}
		if d.Confirm == nil || d.Confirm.ID != d.Started.ID || len(d.Angles) != 0 {
			t.Fatalf("confirm %v angles %v, want the started task and no angles", d.Confirm, d.Angles)
		}
		a := storedAvatar(t, b, d.Avatar.ID)
		if !strings.HasPrefix(a.ID, "av_") || a.UserID != "ana" || a.Engine != "doubao" || a.ConfirmTaskID != d.Started.ID ||
			!slices.Equal(a.SourceImageURLs, []string{photo}) || a.ChosenIndex != nil || a.ChosenURL != "" || len(a.AngleTasks) != 0 {
			t.Fatalf("stored avatar %+v, want ana's doubao avatar of the trimmed photo, unconfirmed", a)
		}
		want := b.Service.Costs["avatar_confirm_portraits"]
		if d.Started.Cost != want || want <= 0 {
			t.Fatalf("cost %d, want avatar_confirm_portraits = %d", d.Started.Cost, want)
		}
		if got := b.Balance(t, "ana"); got != apptest.Grant-want {
			t.Fatalf("balance %d, want %d", got, apptest.Grant-want)
		}
		list, err := b.Service.ListAvatars(ctx, "ana")
		if err != nil || len(list) != 1 || list[0].Avatar.ID != a.ID || list[0].Started != nil {
			t.Fatalf("ana's avatars %v (%v), want the one, with no started task on a read", list, err)
		}
		if list, err := b.Service.ListAvatars(ctx, "bob"); err != nil || len(list) != 0 {
			t.Fatalf("bob's avatars %v (%v), want none", list, err)
		}
	})

	// With an Idempotency-Key the avatar id derives from user and key: a
	// replay answers the same avatar and task and pays once.
	t.Run("OKReplay", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		photo := avatarPhoto(t, b)
		req := func() *workflow.AvatarPortraitsRequest {
			return &workflow.AvatarPortraitsRequest{SourceImageURLs: []string{photo}}
		}
		first, err := b.Service.CreateAvatarPortraits(ctx, "ana", "k1", req(), app.Webhook{})
		if err != nil || !first.Created {
			t.Fatalf("first: %v created %v", err, first != nil && first.Created)
		}
		again, err := b.Service.CreateAvatarPortraits(ctx, "ana", "k1", req(), app.Webhook{})
		if err != nil || again.Created || again.Avatar.ID != first.Avatar.ID || again.Started.ID != first.Started.ID {
			t.Fatalf("replay: %+v err %v, want avatar %s task %s not created", again, err, first.Avatar.ID, first.Started.ID)
		}
		if got, want := b.Balance(t, "ana"), apptest.Grant-first.Started.Cost; got != want {
			t.Fatalf("balance %d after a create and its replay, want %d (one debit)", got, want)
		}
		if list, _ := b.Service.ListAvatars(ctx, "ana"); len(list) != 1 {
			t.Fatalf("%d avatars, want 1", len(list))
		}
		other, err := b.Service.CreateAvatarPortraits(ctx, "bob", "k1", req(), app.Webhook{})
		if err != nil || !other.Created || other.Avatar.ID == first.Avatar.ID || other.Avatar.UserID != "bob" {
			t.Fatalf("bob's same key: %+v err %v, want a new avatar of bob's", other, err)
		}
	})

	t.Run("ErrIdempotencyConflict", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		first := newAvatar(t, b, "ana", "k1")
		_, err := b.Service.CreateAvatarPortraits(ctx, "ana", "k1",
			&workflow.AvatarPortraitsRequest{SourceImageURLs: []string{avatarPhoto(t, b)}}, app.Webhook{})
		wantError(t, err, lepus.EConflict, "header.Idempotency-Key")
		if got, want := b.Balance(t, "ana"), apptest.Grant-first.Started.Cost; got != want {
			t.Fatalf("balance %d, want %d", got, want)
		}
		if a := storedAvatar(t, b, first.Avatar.ID); a.ConfirmTaskID != first.Started.ID {
			t.Fatalf("avatar's confirm task %s, want the first %s", a.ConfirmTaskID, first.Started.ID)
		}
	})

	// New portraits for a confirmed avatar start over: the choice and
	// angles are cleared, the photos replaced.
	t.Run("OKExistingAvatar", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		old := confirmedAvatar(t, b)
		photos := []string{avatarPhoto(t, b), avatarPhoto(t, b)}
		d, err := b.Service.CreateAvatarPortraits(ctx, "ana", "",
			&workflow.AvatarPortraitsRequest{SourceImageURLs: photos, Engine: "kling", AvatarID: old.Avatar.ID}, app.Webhook{})
		if err != nil {
			t.Fatal(err)
		}
		a := storedAvatar(t, b, old.Avatar.ID)
		if d.Avatar.ID != old.Avatar.ID || !d.Created || a.ConfirmTaskID != d.Started.ID || a.ConfirmTaskID == old.Avatar.ConfirmTaskID ||
			a.Engine != "kling" || !slices.Equal(a.SourceImageURLs, photos) || a.ChosenIndex != nil || a.ChosenURL != "" || len(a.AngleTasks) != 0 {
			t.Fatalf("avatar after new portraits %+v, want the same avatar reset to the new task %s", a, d.Started.ID)
		}
		if list, _ := b.Service.ListAvatars(ctx, "ana"); len(list) != 1 {
			t.Fatalf("%d avatars, want 1", len(list))
		}
	})

	// Someone else's avatar, or none, is not found, and nothing is paid.
	t.Run("ErrAvatarID", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		bobs := newAvatar(t, b, "bob", "")
		for _, id := range []string{bobs.Avatar.ID, "av_nope"} {
			_, err := b.Service.CreateAvatarPortraits(ctx, "ana", "",
				&workflow.AvatarPortraitsRequest{SourceImageURLs: []string{avatarPhoto(t, b)}, AvatarID: id}, app.Webhook{})
			wantError(t, err, lepus.ENotFound, "")
		}
		if got := b.Balance(t, "ana"); got != apptest.Grant {
			t.Fatalf("balance %d, want %d", got, apptest.Grant)
		}
		if a := storedAvatar(t, b, bobs.Avatar.ID); a.UserID != "bob" || a.ConfirmTaskID != bobs.Started.ID {
			t.Fatalf("bob's avatar %+v changed", a)
		}
	})
}

// A refused portraits request writes no avatar and takes no credits.
func TestService_CreateAvatarPortraits_Refused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	photo := func(b *apptest.Bundle, t *testing.T) []string { return []string{avatarPhoto(t, b)} }
	for _, tc := range []struct {
		name        string
		grant       int // 0: apptest.Grant
		key         string
		req         func(b *apptest.Bundle, t *testing.T) *workflow.AvatarPortraitsRequest
		code, field string
	}{
		{name: "ErrNoPhotos", req: func(*apptest.Bundle, *testing.T) *workflow.AvatarPortraitsRequest {
			return &workflow.AvatarPortraitsRequest{}
		}, code: lepus.EInvalid, field: "body.source_image_urls"},
		{name: "ErrElevenPhotos", req: func(*apptest.Bundle, *testing.T) *workflow.AvatarPortraitsRequest {
			return &workflow.AvatarPortraitsRequest{SourceImageURLs: slices.Repeat([]string{"https://example.com/a.png"}, 11)}
		}, code: lepus.EInvalid, field: "body.source_image_urls"},
		{name: "ErrEngine", req: func(b *apptest.Bundle, t *testing.T) *workflow.AvatarPortraitsRequest {
			return &workflow.AvatarPortraitsRequest{SourceImageURLs: photo(b, t), Engine: "midjourney"}
		}, code: lepus.EInvalid, field: "body.engine"},
		{name: "ErrPhotoMissing", req: func(b *apptest.Bundle, t *testing.T) *workflow.AvatarPortraitsRequest {
			return &workflow.AvatarPortraitsRequest{SourceImageURLs: append(photo(b, t), b.MissingURL())}
		}, code: lepus.EInvalid, field: "body.source_image_urls[1]"},
		{name: "ErrAvatarIDControl", req: func(b *apptest.Bundle, t *testing.T) *workflow.AvatarPortraitsRequest {
			return &workflow.AvatarPortraitsRequest{SourceImageURLs: photo(b, t), AvatarID: "av_\x00"}
		}, code: lepus.EInvalid, field: "body.avatar_id"},
		{name: "ErrKey", key: "caf\xe9", req: func(b *apptest.Bundle, t *testing.T) *workflow.AvatarPortraitsRequest {
			return &workflow.AvatarPortraitsRequest{SourceImageURLs: photo(b, t)}
		}, code: lepus.EInvalid, field: "header.Idempotency-Key"},
		{name: "ErrCredits", grant: 1, req: func(b *apptest.Bundle, t *testing.T) *workflow.AvatarPortraitsRequest {
			return &workflow.AvatarPortraitsRequest{SourceImageURLs: photo(b, t)}
		}, code: lepus.ECredits},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := apptest.New(t)
			grant := apptest.Grant
			if tc.grant != 0 {
				grant, b.Service.Grant = tc.grant, tc.grant
			}
			_, err := b.Service.CreateAvatarPortraits(ctx, "ana", tc.key, tc.req(b, t), app.Webhook{})
			wantError(t, err, tc.code, tc.field)
			if got := b.Balance(t, "ana"); got != grant {
				t.Fatalf("balance %d after a refused create, want %d", got, grant)
			}
			if list, err := b.Service.ListAvatars(ctx, "ana"); err != nil || len(list) != 0 {
				t.Fatalf("avatars %v (%v) after a refused create, want none", list, err)
			}
		})
	}
}

func TestService_ConfirmAvatar(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Confirming a stored portrait shares it as an upload, records the
	// choice and starts (and pays for) one task making all three angles.
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		d := newAvatar(t, b, "ana", "")
		portraits := finishPortraits(t, b, d, 4, true)
		before := b.Balance(t, "ana")
		c, err := b.Service.ConfirmAvatar(ctx, "ana", d.Avatar.ID, 2, app.Webhook{})
		if err != nil {
			t.Fatal(err)
		}
		upID := "upl_" + strings.TrimPrefix(portraits[2].ID, "ast_")
		a := storedAvatar(t, b, d.Avatar.ID)
		if a.ChosenIndex == nil || *a.ChosenIndex != 2 || a.ChosenURL != b.Service.UploadURL(upID) {
			t.Fatalf("stored choice %v %q, want 2 at %q", a.ChosenIndex, a.ChosenURL, b.Service.UploadURL(upID))
		}
		up, err := b.Store.UploadGet(ctx, upID)
		if err != nil || up.UserID != "ana" || up.StorageKey != portraits[2].StorageKey || up.Kind != lepus.AssetImage {
			t.Fatalf("portrait's upload %+v (%v), want ana's image over the portrait's stored file", up, err)
		}
		if !c.Created || c.Started == nil {
			t.Fatalf("started %v created %v, want a new angles task", c.Started, c.Created)
		}
		in := anglesInput(t, c.Started)
		if in["avatar_id"] != d.Avatar.ID || in["portrait_url"] != a.ChosenURL || !slices.Equal(anyStrings(in["angles"]), workflow.AngleKeys) {
			t.Fatalf("angles input %v, want every angle of the chosen portrait", in)
		}
		for _, k := range workflow.AngleKeys {
			if a.AngleTasks[k] != c.Started.ID || c.Angles[k] == nil || c.Angles[k].ID != c.Started.ID {
				t.Fatalf("angle %s: stored %q detail %v, want task %s", k, a.AngleTasks[k], c.Angles[k], c.Started.ID)
			}
		}
		want := 3 * b.Service.Costs["avatar_angle"]
		if c.Started.Cost != want || want <= 0 {
			t.Fatalf("angles cost %d, want 3 × avatar_angle = %d", c.Started.Cost, want)
		}
		if got := b.Balance(t, "ana"); got != before-want {
			t.Fatalf("balance %d, want %d", got, before-want)
		}
	})

	// A portrait kept only at the provider is given to the angles by its provider URL.
	t.Run("OKProviderURL", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		d := newAvatar(t, b, "ana", "")
		portraits := finishPortraits(t, b, d, 4, false)
		c, err := b.Service.ConfirmAvatar(ctx, "ana", d.Avatar.ID, 0, app.Webhook{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Avatar.ChosenURL != portraits[0].ProviderURL || anglesInput(t, c.Started)["portrait_url"] != portraits[0].ProviderURL {
			t.Fatalf("chosen URL %q, want the provider's %q", c.Avatar.ChosenURL, portraits[0].ProviderURL)
		}
	})

	// The same confirmation again answers the same angles task, paid once;
	// with another webhook it is a conflict naming the webhook.
	t.Run("OKReplay", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		d := newAvatar(t, b, "ana", "")
		finishPortraits(t, b, d, 4, true)
		hook := app.Webhook{URL: "https://hooks.example/x"}
		first, err := b.Service.ConfirmAvatar(ctx, "ana", d.Avatar.ID, 1, hook)
		if err != nil {
			t.Fatal(err)
		}
		after := b.Balance(t, "ana")
		again, err := b.Service.ConfirmAvatar(ctx, "ana", d.Avatar.ID, 1, app.Webhook{URL: "https://hooks.example/x"})
		if err != nil || again.Created || again.Started.ID != first.Started.ID {
			t.Fatalf("replay: started %v created %v err %v, want task %s again", again.Started, again.Created, err, first.Started.ID)
		}
		_, err = b.Service.ConfirmAvatar(ctx, "ana", d.Avatar.ID, 1, app.Webhook{})
		wantError(t, err, lepus.EConflict, "body.webhook")
		if got := b.Balance(t, "ana"); got != after {
			t.Fatalf("balance %d after a replay and a conflict, want %d (one debit)", got, after)
		}
	})

	// Confirming another portrait starts new angles from it.
	t.Run("OKOtherPortrait", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		first := confirmedAvatar(t, b)
		c, err := b.Service.ConfirmAvatar(ctx, "ana", first.Avatar.ID, 3, app.Webhook{})
		if err != nil || !c.Created || c.Started.ID == first.Started.ID {
			t.Fatalf("confirm another: started %v created %v err %v, want a new task", c.Started, c.Created, err)
		}
		a := storedAvatar(t, b, first.Avatar.ID)
		if *a.ChosenIndex != 3 || a.ChosenURL == first.Avatar.ChosenURL || a.AngleTasks[workflow.AngleKeys[0]] != c.Started.ID {
			t.Fatalf("stored %+v, want portrait 3 and its angles task %s", a, c.Started.ID)
		}
	})

	// Portraits that are not ready (pending, failed, or the task gone)
	// cannot be confirmed; nothing is paid or recorded.
	t.Run("ErrNotReady", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		pending := newAvatar(t, b, "ana", "")
		failed := newAvatar(t, b, "ana", "")
		if _, err := b.Store.TaskFinish(ctx, &lepus.TaskFinishParams{ID: failed.Started.ID, Status: lepus.StatusFailed,
			Error: &lepus.TaskError{Code: "provider_error", Message: "no portraits"}}); err != nil {
			t.Fatal(err)
		}
		gone := newAvatar(t, b, "ana", "")
		a := storedAvatar(t, b, gone.Avatar.ID)
		a.ConfirmTaskID = "tsk_nope"
		if err := b.Store.AvatarSave(ctx, a); err != nil {
			t.Fatal(err)
		}
		before := b.Balance(t, "ana")
		for _, d := range []*app.AvatarDetail{pending, failed, gone} {
			_, err := b.Service.ConfirmAvatar(ctx, "ana", d.Avatar.ID, 0, app.Webhook{})
			wantError(t, err, lepus.EConflict, "")
			if a := storedAvatar(t, b, d.Avatar.ID); a.ChosenIndex != nil || len(a.AngleTasks) != 0 {
				t.Fatalf("avatar %+v after a refused confirm, want it unconfirmed", a)
			}
		}
		if got := b.Balance(t, "ana"); got != before {
			t.Fatalf("balance %d, want %d", got, before)
		}
	})

	t.Run("ErrPortraitIndex", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		d := newAvatar(t, b, "ana", "")
		finishPortraits(t, b, d, 4, true)
		before := b.Balance(t, "ana")
		for _, i := range []int{-1, 4} {
			_, err := b.Service.ConfirmAvatar(ctx, "ana", d.Avatar.ID, i, app.Webhook{})
			wantError(t, err, lepus.EInvalid, "body.portrait_index")
		}
		if a := storedAvatar(t, b, d.Avatar.ID); a.ChosenIndex != nil || b.Balance(t, "ana") != before {
			t.Fatalf("avatar %+v, balance %d after refused confirms, want unchanged", a, b.Balance(t, "ana"))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		d := newAvatar(t, b, "ana", "")
		finishPortraits(t, b, d, 4, true)
		for _, tc := range []struct{ user, id string }{{"bob", d.Avatar.ID}, {"ana", "av_nope"}} {
			_, err := b.Service.ConfirmAvatar(ctx, tc.user, tc.id, 0, app.Webhook{})
			wantError(t, err, lepus.ENotFound, "")
		}
		if a := storedAvatar(t, b, d.Avatar.ID); a.ChosenIndex != nil {
			t.Fatalf("avatar %+v confirmed by another user", a)
		}
		if got := b.Balance(t, "bob"); got != apptest.Grant {
			t.Fatalf("bob's balance %d, want %d", got, apptest.Grant)
		}
	})

	t.Run("ErrCredits", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		// The portraits leave one credit short of the three angles.
		b.Service.Grant = b.Service.Costs["avatar_confirm_portraits"] + 3*b.Service.Costs["avatar_angle"] - 1
		d := newAvatar(t, b, "ana", "")
		finishPortraits(t, b, d, 4, true)
		_, err := b.Service.ConfirmAvatar(ctx, "ana", d.Avatar.ID, 0, app.Webhook{})
		wantError(t, err, lepus.ECredits, "")
		if a := storedAvatar(t, b, d.Avatar.ID); a.ChosenIndex != nil || len(a.AngleTasks) != 0 {
			t.Fatalf("avatar %+v after a refused confirm, want it unconfirmed", a)
		}
		if got, want := b.Balance(t, "ana"), 3*b.Service.Costs["avatar_angle"]-1; got != want {
			t.Fatalf("balance %d, want %d", got, want)
		}
	})
}

func TestService_RegenerateAngle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Redoing one angle starts a task for that angle alone, from the
	// chosen portrait, and records it for that angle only.
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		c := confirmedAvatar(t, b)
		before := b.Balance(t, "ana")
		r, err := b.Service.RegenerateAngle(ctx, "ana", c.Avatar.ID, "profile_right", app.Webhook{})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Created || r.Started.ID == c.Started.ID {
			t.Fatalf("started %v created %v, want a new task", r.Started, r.Created)
		}
		in := anglesInput(t, r.Started)
		if in["portrait_url"] != c.Avatar.ChosenURL || !slices.Equal(anyStrings(in["angles"]), []string{"profile_right"}) {
			t.Fatalf("regenerate input %v, want profile_right from %s", in, c.Avatar.ChosenURL)
		}
		a := storedAvatar(t, b, c.Avatar.ID)
		for _, k := range workflow.AngleKeys {
			want := c.Started.ID
			if k == "profile_right" {
				want = r.Started.ID
			}
			if a.AngleTasks[k] != want || r.Angles[k].ID != want {
				t.Fatalf("angle %s: stored %q detail %s, want %s", k, a.AngleTasks[k], r.Angles[k].ID, want)
			}
		}
		if *a.ChosenIndex != 2 || a.ChosenURL != c.Avatar.ChosenURL {
			t.Fatalf("choice %d %q changed by a regenerate", *a.ChosenIndex, a.ChosenURL)
		}
		want := b.Service.Costs["avatar_angle"]
		if r.Started.Cost != want || b.Balance(t, "ana") != before-want {
			t.Fatalf("cost %d balance %d, want one angle (%d) paid from %d", r.Started.Cost, b.Balance(t, "ana"), want, before)
		}

		// Confirming the same portrait again is a replay: it keeps the
		// redone angle, paid for, instead of pointing it back at the
		// first angles task.
		again, err := b.Service.ConfirmAvatar(ctx, "ana", c.Avatar.ID, 2, app.Webhook{})
		if err != nil || again.Created || storedAvatar(t, b, c.Avatar.ID).AngleTasks["profile_right"] != r.Started.ID {
			t.Fatalf("confirm again: created %v err %v; profile_right %q, want the redo %s kept",
				again.Created, err, storedAvatar(t, b, c.Avatar.ID).AngleTasks["profile_right"], r.Started.ID)
		}

		// The angle's task is in the regenerate's key: the next regenerate
		// of it is a new request and makes a new task.
		r2, err := b.Service.RegenerateAngle(ctx, "ana", c.Avatar.ID, "profile_right", app.Webhook{})
		if err != nil || !r2.Created || r2.Started.ID == r.Started.ID || storedAvatar(t, b, c.Avatar.ID).AngleTasks["profile_right"] != r2.Started.ID {
			t.Fatalf("second regenerate: %v created %v err %v, want a new task recorded", r2.Started, r2.Created, err)
		}
	})

	// A regenerate whose avatar has not moved on is answered with the same
	// task (the quick double click), paid once; another webhook is a conflict.
	t.Run("OKReplay", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		c := confirmedAvatar(t, b)
		before := b.Balance(t, "ana")
		r, err := b.Service.RegenerateAngle(ctx, "ana", c.Avatar.ID, "slight_above", app.Webhook{})
		if err != nil {
			t.Fatal(err)
		}
		// Put the avatar back as both requests would have read it.
		a := storedAvatar(t, b, c.Avatar.ID)
		a.AngleTasks["slight_above"] = c.Started.ID
		if err := b.Store.AvatarSave(ctx, a); err != nil {
			t.Fatal(err)
		}
		again, err := b.Service.RegenerateAngle(ctx, "ana", c.Avatar.ID, "slight_above", app.Webhook{})
		if err != nil || again.Created || again.Started.ID != r.Started.ID {
			t.Fatalf("replay: %v created %v err %v, want task %s again", again.Started, again.Created, err, r.Started.ID)
		}
		a = storedAvatar(t, b, c.Avatar.ID)
		a.AngleTasks["slight_above"] = c.Started.ID
		if err := b.Store.AvatarSave(ctx, a); err != nil {
			t.Fatal(err)
		}
		_, err = b.Service.RegenerateAngle(ctx, "ana", c.Avatar.ID, "slight_above", app.Webhook{URL: "https://hooks.example/x"})
		wantError(t, err, lepus.EConflict, "body.webhook")
		if got, want := b.Balance(t, "ana"), before-r.Started.Cost; got != want {
			t.Fatalf("balance %d, want %d (one debit)", got, want)
		}
	})

	t.Run("ErrRefused", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		c := confirmedAvatar(t, b)
		unconfirmed := newAvatar(t, b, "ana", "")
		for _, tc := range []struct {
			name, user, id, key string
			code                string
		}{
			{"ErrUnknownAngle", "ana", c.Avatar.ID, "front", lepus.ENotFound},
			{"ErrNotConfirmed", "ana", unconfirmed.Avatar.ID, "profile_right", lepus.EConflict},
			{"ErrNotOwner", "bob", c.Avatar.ID, "profile_right", lepus.ENotFound},
			{"ErrNoAvatar", "ana", "av_nope", "profile_right", lepus.ENotFound},
		} {
			before := b.Balance(t, tc.user)
			_, err := b.Service.RegenerateAngle(ctx, tc.user, tc.id, tc.key, app.Webhook{})
			t.Run(tc.name, func(t *testing.T) { wantError(t, err, tc.code, "") })
			if got := b.Balance(t, tc.user); got != before {
				t.Fatalf("%s: balance %d, want %d", tc.name, got, before)
			}
		}
		if a := storedAvatar(t, b, c.Avatar.ID); a.AngleTasks["profile_right"] != c.Started.ID {
			t.Fatalf("angles %v changed by refused regenerates", a.AngleTasks)
		}
		if a := storedAvatar(t, b, unconfirmed.Avatar.ID); len(a.AngleTasks) != 0 {
			t.Fatalf("unconfirmed avatar's angles %v, want none", a.AngleTasks)
		}
	})

	t.Run("ErrCredits", func(t *testing.T) {
		t.Parallel()
		b := apptest.New(t)
		// Exactly the portraits and the three angles: nothing left to redo one.
		b.Service.Grant = b.Service.Costs["avatar_confirm_portraits"] + 3*b.Service.Costs["avatar_angle"]
		c := confirmedAvatar(t, b)
		_, err := b.Service.RegenerateAngle(ctx, "ana", c.Avatar.ID, "profile_right", app.Webhook{})
		wantError(t, err, lepus.ECredits, "")
		if a := storedAvatar(t, b, c.Avatar.ID); a.AngleTasks["profile_right"] != c.Started.ID {
			t.Fatalf("angles %v after a refused regenerate, want unchanged", a.AngleTasks)
		}
		if got := b.Balance(t, "ana"); got != 0 {
			t.Fatalf("balance %d, want 0", got)
		}
	})
}

// Reads and deletes see only the user's own avatars.
func TestService_AvatarOwnership(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := apptest.New(t)
	d := newAvatar(t, b, "ana", "")

	_, err := b.Service.GetAvatar(ctx, "bob", d.Avatar.ID)
	wantError(t, err, lepus.ENotFound, "")
	wantError(t, b.Service.DeleteAvatar(ctx, "bob", d.Avatar.ID), lepus.ENotFound, "")
	if got, err := b.Service.GetAvatar(ctx, "ana", d.Avatar.ID); err != nil || got.Avatar.ID != d.Avatar.ID || got.Started != nil {
		t.Fatalf("ana's avatar %v (%v) after bob's delete, want it there", got, err)
	}

	if err := b.Service.DeleteAvatar(ctx, "ana", d.Avatar.ID); err != nil {
		t.Fatal(err)
	}
	_, err = b.Service.GetAvatar(ctx, "ana", d.Avatar.ID)
	wantError(t, err, lepus.ENotFound, "")
	wantError(t, b.Service.DeleteAvatar(ctx, "ana", d.Avatar.ID), lepus.ENotFound, "")
	if list, err := b.Service.ListAvatars(ctx, "ana"); err != nil || len(list) != 0 {
		t.Fatalf("avatars %v (%v) after the delete, want none", list, err)
	}
}

// Portraits lists Seedream's portraits before Kling's, each in its order,
// and nothing else.
func TestPortraits(t *testing.T) {
	t.Parallel()
	task := &lepus.Task{Assets: []lepus.Asset{
		{ID: "k0", Stage: workflow.StageKling, Index: 0}, {ID: "k1", Stage: workflow.StageKling, Index: 1},
		{ID: "x", Stage: "other"}, {ID: "s0", Stage: workflow.StageSeedream, Index: 0}, {ID: "s1", Stage: workflow.StageSeedream, Index: 1},
	}}
	var ids []string
	for _, a := range app.Portraits(task) {
		ids = append(ids, a.ID)
	}
	if want := []string{"s0", "s1", "k0", "k1"}; !slices.Equal(ids, want) {
		t.Fatalf("portraits %v, want %v", ids, want)
	}
	if app.Portraits(nil) != nil {
		t.Fatal("portraits of no task, want none")
	}
}

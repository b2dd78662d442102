package app

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// AvatarDetail is an avatar with the tasks that made its portraits and angles.
type AvatarDetail struct {
	Avatar  *lepus.Avatar
	Confirm *lepus.Task            // nil if gone
	Angles  map[string]*lepus.Task // by angle key
	// Started is the task the operation that returned this detail started
	// (or found started by the same request before); nil on reads.
	Started *lepus.Task
	// Created says this request created Started.
	Created bool
}

// CreateAvatarPortraits creates an avatar (or reuses the user's avatar_id)
// and a task that generates its candidate portraits. With an
// Idempotency-Key, a new avatar's id derives from the user and key, so a
// replay returns the same avatar and task.
func (s *Service) CreateAvatarPortraits(ctx context.Context, userID, idemKey string, req *workflow.AvatarPortraitsRequest, hook Webhook) (*AvatarDetail, error) {
	if err := workflow.CheckText(req); err != nil {
		return nil, err // before avatar_id reaches the database
	}
	if req.AvatarID != "" {
		if _, err := s.ownAvatar(ctx, userID, req.AvatarID); err != nil {
			return nil, err
		}
	} else if idemKey != "" {
		sum := sha256.Sum256([]byte(userID + "\n" + idemKey))
		req.AvatarID = "av_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
	} else {
		req.AvatarID = NewID("av_")
	}
	t, created, err := s.CreateTask(ctx, CreateTaskParams{UserID: userID, Type: "avatar_confirm_portraits", Request: req, IdempotencyKey: idemKey,
		Webhook: hook})
	if err != nil {
		return nil, err
	}
	if created {
		err = s.updateAvatar(ctx, userID, req.AvatarID, func(a *lepus.Avatar) {
			// req as checked: a WebP may have become a PNG upload.
			a.Engine, a.SourceImageURLs = req.Engine, req.SourceImageURLs
			a.ConfirmTaskID, a.ChosenIndex, a.ChosenURL, a.AngleTasks = t.ID, nil, "", nil
		})
		if err != nil {
			return nil, err
		}
	}
	return s.startedAvatar(ctx, userID, req.AvatarID, t, created)
}

// startedAvatar returns an avatar with the task an operation started.
func (s *Service) startedAvatar(ctx context.Context, userID, id string, t *lepus.Task, created bool) (*AvatarDetail, error) {
	d, err := s.GetAvatar(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	d.Started, d.Created = t, created
	return d, nil
}

// updateAvatar reads a user's avatar (or starts a new one with that id),
// applies change and saves it, again if someone else saved it meanwhile.
func (s *Service) updateAvatar(ctx context.Context, userID, id string, change func(*lepus.Avatar)) error {
	for range 5 {
		a, err := s.ownAvatar(ctx, userID, id)
		if lepus.ErrorCode(err) == lepus.ENotFound {
			a, err = &lepus.Avatar{ID: id, UserID: userID}, nil
		}
		if err != nil {
			return err
		}
		change(a)
		err = s.Store.AvatarSave(ctx, a)
		if lepus.ErrorCode(err) != lepus.EConflict {
			return err
		}
	}
	return lepus.Errorf(lepus.EConflict, "avatar %s is being changed by another request; try again", id)
}

// GetAvatar returns a user's avatar with its tasks; another user's is ENotFound.
func (s *Service) GetAvatar(ctx context.Context, userID, id string) (*AvatarDetail, error) {
	a, err := s.ownAvatar(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	d := &AvatarDetail{Avatar: a, Angles: map[string]*lepus.Task{}}
	if a.ConfirmTaskID != "" {
		if d.Confirm, err = s.Store.TaskGet(ctx, a.ConfirmTaskID); err != nil && lepus.ErrorCode(err) != lepus.ENotFound {
			return nil, err
		}
	}
	for key, id := range a.AngleTasks {
		t, err := s.Store.TaskGet(ctx, id)
		if err != nil {
			return nil, err
		}
		d.Angles[key] = t
	}
	return d, nil
}

// ListAvatars returns a user's avatars.
func (s *Service) ListAvatars(ctx context.Context, userID string) ([]*AvatarDetail, error) {
	list, err := s.Store.AvatarList(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]*AvatarDetail, 0, len(list))
	for _, a := range list {
		d, err := s.GetAvatar(ctx, userID, a.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Portraits returns the candidate portraits of a confirm task, in order.
func Portraits(t *lepus.Task) []lepus.Asset {
	if t == nil {
		return nil
	}
	var out []lepus.Asset
	for _, st := range []string{workflow.StageSeedream, workflow.StageKling} {
		for _, a := range t.Assets {
			if a.Stage == st {
				out = append(out, a)
			}
		}
	}
	return out
}

// ConfirmAvatar picks a portrait and starts the three reference angles;
// hook, if set, receives the angles task's events.
func (s *Service) ConfirmAvatar(ctx context.Context, userID, id string, index int, hook Webhook) (*AvatarDetail, error) {
	d, err := s.GetAvatar(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if d.Confirm == nil || d.Confirm.Status != lepus.StatusCompleted {
		return nil, lepus.Errorf(lepus.EConflict, "the portraits of avatar %s are not ready", id)
	}
	portraits := Portraits(d.Confirm)
	if index < 0 || index >= len(portraits) {
		return nil, lepus.FieldErrorf("body.portrait_index", "is %d; the avatar has %d portraits (0 to %d)", index, len(portraits), len(portraits)-1)
	}
	url, err := s.publicURL(ctx, &portraits[index])
	if err != nil {
		return nil, err
	}
	// The same confirmation twice makes one angles task (and one charge).
	key := fmt.Sprintf("confirm:%s:%s:%d", id, d.Confirm.ID, index)
	t, created, err := s.startAngles(ctx, userID, id, url, workflow.AngleKeys, key, hook)
	if err != nil {
		return nil, err
	}
	err = s.updateAvatar(ctx, userID, id, func(a *lepus.Avatar) {
		if !created && a.ChosenIndex != nil && *a.ChosenIndex == index {
			return // a replay changes nothing: angles redone since stay redone
		}
		a.ChosenIndex, a.ChosenURL = &index, url
		a.AngleTasks = map[string]string{}
		for _, k := range workflow.AngleKeys {
			a.AngleTasks[k] = t.ID
		}
	})
	if err != nil {
		return nil, err
	}
	return s.startedAvatar(ctx, userID, id, t, created)
}

// RegenerateAngle redoes one reference angle of a confirmed avatar; hook,
// if set, receives the new task's events.
func (s *Service) RegenerateAngle(ctx context.Context, userID, id, key string, hook Webhook) (*AvatarDetail, error) {
	a, err := s.ownAvatar(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if _, ok := workflow.AnglePrompts[key]; !ok {
		return nil, lepus.Errorf(lepus.ENotFound, "angle %q does not exist (angles: three_quarter_left, profile_right, slight_above)", key)
	}
	if a.ChosenIndex == nil {
		return nil, lepus.Errorf(lepus.EConflict, "avatar %s has no confirmed portrait yet", id)
	}
	// Regenerating the same angle twice quickly makes one task.
	idem := fmt.Sprintf("regen:%s:%s:%s", id, key, a.AngleTasks[key])
	t, created, err := s.startAngles(ctx, userID, id, a.ChosenURL, []string{key}, idem, hook)
	if err != nil {
		return nil, err
	}
	err = s.updateAvatar(ctx, userID, id, func(a *lepus.Avatar) {
		if a.AngleTasks == nil {
			a.AngleTasks = map[string]string{}
		}
		a.AngleTasks[key] = t.ID
	})
	if err != nil {
		return nil, err
	}
	return s.startedAvatar(ctx, userID, id, t, created)
}

// DeleteAvatar deletes a user's avatar.
func (s *Service) DeleteAvatar(ctx context.Context, userID, id string) error {
	if _, err := s.ownAvatar(ctx, userID, id); err != nil {
		return err
	}
	return s.Store.AvatarDelete(ctx, id)
}

// startAngles creates an angles task under idemKey, a key derived from
// what is asked, so the same request twice makes one task. The same
// request with another webhook finds that key taken by another body: the
// conflict names the webhook (the client sent no Idempotency-Key).
func (s *Service) startAngles(ctx context.Context, userID, avatarID, portraitURL string, keys []string, idemKey string, hook Webhook) (*lepus.Task, bool, error) {
	t, created, err := s.CreateTask(ctx, CreateTaskParams{UserID: userID, Type: "avatar_reference_angles", IdempotencyKey: idemKey,
		Request: &workflow.AvatarAnglesRequest{AvatarID: avatarID, PortraitURL: portraitURL, Angles: keys}, Webhook: hook})
	var le *lepus.Error
	if errors.As(err, &le) && le.Code == lepus.EConflict && le.Field == "header.Idempotency-Key" {
		return nil, false, &lepus.Error{Code: lepus.EConflict, Field: "body.webhook",
			Message: "this was already started with another webhook (or none); send the same webhook and events filter to get its task"}
	}
	return t, created, err
}

func (s *Service) ownAvatar(ctx context.Context, userID, id string) (*lepus.Avatar, error) {
	a, err := s.Store.AvatarGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.UserID != userID {
		return nil, lepus.Errorf(lepus.ENotFound, "avatar %s not found", id)
	}
	return a, nil
}

// publicURL gives a provider a URL it can fetch for a stored asset: an
// upload record (capability URL) over the same stored file. An asset that
// could not be stored keeps its provider URL.
func (s *Service) publicURL(ctx context.Context, a *lepus.Asset) (string, error) {
	if a.StorageKey == "" {
		return a.ProviderURL, nil
	}
	id := "upl_" + strings.TrimPrefix(a.ID, "ast_") // one share per asset
	if _, err := s.Store.UploadGet(ctx, id); err == nil {
		return s.UploadURL(id), nil
	}
	up := &lepus.Upload{ID: id, UserID: a.UserID, Kind: lepus.AssetImage, Mime: a.Mime,
		Format: strings.TrimPrefix(a.Mime, "image/"), Bytes: a.Bytes, Width: a.Width, Height: a.Height, Faces: -1, StorageKey: a.StorageKey}
	if err := s.Store.UploadCreate(ctx, up); err != nil && lepus.ErrorCode(err) != lepus.EConflict {
		return "", fmt.Errorf("share portrait: %w", err)
	}
	return s.UploadURL(up.ID), nil
}

// avatarRefs returns the portraits of a user's confirmed avatar that a
// provider can fetch: the chosen portrait and every finished angle.
func (s *Service) avatarRefs(ctx context.Context, userID, id string) (*workflow.AvatarRefs, error) {
	d, err := s.GetAvatar(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if d.Avatar.ChosenURL == "" {
		return nil, lepus.Errorf(lepus.EConflict, "avatar %s has no confirmed portrait yet", id)
	}
	refs := &workflow.AvatarRefs{Portrait: d.Avatar.ChosenURL}
	for _, key := range workflow.AngleKeys {
		t := d.Angles[key]
		if t == nil {
			continue
		}
		for i := range t.Assets {
			if t.Assets[i].Stage != key {
				continue
			}
			url, err := s.publicURL(ctx, &t.Assets[i])
			if err != nil {
				return nil, err
			}
			refs.Angles = append(refs.Angles, workflow.AvatarOption{Key: key, URL: url})
		}
	}
	return refs, nil
}

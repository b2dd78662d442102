package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// AvatarView is a digital avatar as the API shows it.
type AvatarView struct {
	ID     string `json:"id"`
	Status string `json:"status" enum:"generating_portraits,awaiting_confirmation,generating_angles,ready,partial,failed" doc:"partial: some angles failed (see angles[].error; regenerate them)."`
	// Engine asked for, and the one that made the portraits.
	Engine         string           `json:"engine" enum:"doubao,kling"`
	EngineUsed     string           `json:"engine_used" doc:"doubao or kling once portraits exist; kling after a fallback."`
	FallbackReason string           `json:"fallback_reason,omitempty" doc:"Why Seedream's portraits were replaced by Kling's."`
	PortraitCount  int              `json:"portrait_count"`
	Portraits      []AssetView      `json:"portraits"`
	ChosenIndex    *int             `json:"chosen_index"`
	ChosenPortrait *AssetView       `json:"chosen_portrait" doc:"The confirmed portrait; null before confirmation."`
	Angles         []AngleView      `json:"angles"`
	ConfirmTaskID  string           `json:"confirm_task_id"`
	Error          *lepus.TaskError `json:"error" doc:"Why the portraits failed."`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
}

// AngleView is one reference angle of an avatar.
type AngleView struct {
	Key    string           `json:"key" enum:"three_quarter_left,profile_right,slight_above"`
	Status string           `json:"status" enum:"generating,done,failed"`
	Error  *lepus.TaskError `json:"error"`
	TaskID string           `json:"task_id"`
	Asset  *AssetView       `json:"asset"`
}

func avatarView(svc *app.Service, d *app.AvatarDetail) AvatarView {
	a := d.Avatar
	v := AvatarView{ID: a.ID, Engine: a.Engine, ChosenIndex: a.ChosenIndex, ConfirmTaskID: a.ConfirmTaskID,
		Portraits: []AssetView{}, Angles: []AngleView{}, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	for _, p := range app.Portraits(d.Confirm) {
		v.Portraits = append(v.Portraits, assetView(svc, &p))
		v.EngineUsed = map[string]string{workflow.StageSeedream: "doubao", workflow.StageKling: "kling"}[p.Stage]
	}
	v.PortraitCount = len(v.Portraits)
	if i := a.ChosenIndex; i != nil && *i < len(v.Portraits) {
		v.ChosenPortrait = &v.Portraits[*i]
	}
	if d.Confirm != nil {
		if sd := d.Confirm.StageByName(workflow.StageSeedream); sd != nil && sd.Error != nil {
			v.FallbackReason = sd.Error.Message
		}
		v.Error = d.Confirm.Error
	}
	angles := map[string]int{}
	for _, key := range workflow.AngleKeys {
		t := d.Angles[key]
		if t == nil {
			continue
		}
		av := AngleView{Key: key, TaskID: t.ID, Status: "generating"}
		if st := t.StageByName(key); st != nil {
			switch st.Phase {
			case lepus.PhaseFailed:
				av.Status, av.Error = "failed", st.Error
			case lepus.PhaseDone:
				av.Status = "done"
			}
		}
		if (t.Status == lepus.StatusFailed || t.Status == lepus.StatusCanceled) && av.Status == "generating" {
			av.Status, av.Error = "failed", t.Error
		}
		for i := range t.Assets {
			if t.Assets[i].Stage == key {
				asset := assetView(svc, &t.Assets[i])
				av.Asset = &asset
			}
		}
		angles[av.Status]++
		v.Angles = append(v.Angles, av)
	}
	switch {
	case d.Confirm == nil || d.Confirm.Status == lepus.StatusFailed || d.Confirm.Status == lepus.StatusCanceled:
		v.Status = "failed"
	case d.Confirm.Status != lepus.StatusCompleted:
		v.Status = "generating_portraits"
	case a.ChosenIndex == nil:
		v.Status = "awaiting_confirmation"
	case angles["generating"] > 0:
		v.Status = "generating_angles"
	case angles["failed"] > 0:
		v.Status = "partial"
	default:
		v.Status = "ready"
	}
	return v
}

type avatarOutput struct {
	Status int
	// PreferenceApplied is "wait=N" when the operation honoured Prefer: wait.
	PreferenceApplied string `header:"Preference-Applied"`
	Body              AvatarView
}

// ConfirmAvatarRequest chooses a portrait (the webhook fields are added by
// createBody).
type ConfirmAvatarRequest struct {
	PortraitIndex int `json:"portrait_index" minimum:"0" maximum:"14"`
}

// RegenerateAvatarAngleRequest is the optional body of a regenerate: only
// the webhook fields, added by createBody.
type RegenerateAvatarAngleRequest struct{}

// regenerateBody is a regenerate's body. JSON null is taken as no body, as
// it was before the body had fields.
type regenerateBody struct {
	createBody[RegenerateAvatarAngleRequest]
}

// Schema is createBody's, nullable.
func (b *regenerateBody) Schema(r huma.Registry) *huma.Schema {
	ref := b.createBody.Schema(r)
	if s := r.SchemaFromRef(ref.Ref); s != nil && !s.Nullable {
		s.Nullable = true
		s.PrecomputeMessages()
	}
	return ref
}

// avatarWaitDoc is what the avatar operations that start a task say about
// Prefer: wait and webhooks.
const avatarWaitDoc = " With Prefer: wait=N the answer waits up to N seconds for the task it started: 201 with the avatar " +
	"if the task ended, else 202. With webhook, that task's events are posted to it, as for every workflow."

type avatarIDInput struct {
	ID string `path:"id" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"An id as Lepus returned it"`
}

func registerAvatars(api huma.API, h *handlers) {
	huma.Register(api, huma.Operation{
		OperationID: "avatar-confirm-portraits", Method: http.MethodPost, Path: "/v2/avatars/confirm-portraits",
		Summary: "Create an avatar and generate four candidate portraits from photos", Tags: []string{"Avatars"},
		Security: secured, DefaultStatus: http.StatusAccepted, MaxBodyBytes: 64 << 10, Errors: []int{401, 402, 404, 409, 422, 429},
		Responses: createdAvatarResponse(api),
		Description: "Starts an avatar from one to ten photos of a person and answers 202 with it: four candidate " +
			"portraits are generated (Seedream, falling back to Kling), then choose one with POST /v2/avatars/{id}/confirm. " +
			"Costs avatar_confirm_portraits credits. With avatar_id, new portraits are made for an existing avatar. " +
			"The same Idempotency-Key and body again answer the same avatar (202) without starting anything." + avatarWaitDoc,
	}, func(ctx context.Context, in *createInput[workflow.AvatarPortraitsRequest]) (*avatarOutput, error) {
		d, err := h.app.CreateAvatarPortraits(ctx, userID(ctx), in.IdempotencyKey, &in.Body.Request, in.Body.Hook.app())
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return h.answerAvatar(ctx, d, in.wait)
	})

	huma.Register(api, huma.Operation{
		OperationID: "list-avatars", Method: http.MethodGet, Path: "/v2/avatars",
		Summary: "List your avatars", Tags: []string{"Avatars"}, Security: secured, Errors: []int{401},
		Description: "Every avatar you made, with its status, portraits and reference angles.",
	}, func(ctx context.Context, _ *struct{}) (*struct {
		Body struct {
			Avatars []AvatarView `json:"avatars"`
		}
	}, error) {
		list, err := h.app.ListAvatars(ctx, userID(ctx))
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		out := &struct {
			Body struct {
				Avatars []AvatarView `json:"avatars"`
			}
		}{}
		out.Body.Avatars = []AvatarView{}
		for _, d := range list {
			out.Body.Avatars = append(out.Body.Avatars, avatarView(h.app, d))
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-avatar", Method: http.MethodGet, Path: "/v2/avatars/{id}",
		Summary: "Get an avatar: portraits, the chosen one, each angle's status", Tags: []string{"Avatars"},
		Security: secured, Errors: []int{401, 404},
		Description: "One avatar: its status, the candidate portraits, which one was chosen, the engine used (and why it " +
			"fell back), and each reference angle's status and error.",
	}, func(ctx context.Context, in *avatarIDInput) (*avatarOutput, error) {
		d, err := h.app.GetAvatar(ctx, userID(ctx), in.ID)
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return &avatarOutput{Status: http.StatusOK, Body: avatarView(h.app, d)}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "confirm-avatar", Method: http.MethodPost, Path: "/v2/avatars/{id}/confirm",
		Summary: "Choose a portrait and start the three reference angles", Tags: []string{"Avatars"},
		Security: secured, DefaultStatus: http.StatusAccepted, MaxBodyBytes: 64 << 10, Errors: []int{401, 402, 404, 409, 422, 429},
		Responses: createdAvatarResponse(api),
		Description: "Makes the portrait at portrait_index the avatar's face and starts its three reference angles " +
			"(three_quarter_left, profile_right, slight_above), each costing avatar_angle credits. Answers 202 with the avatar. " +
			"The same confirmation again answers the same task; with another webhook it is a 409." + avatarWaitDoc,
	}, func(ctx context.Context, in *struct {
		ID string `path:"id" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"An id as Lepus returned it"`
		PreferHeader
		Body createBody[ConfirmAvatarRequest]
	}) (*avatarOutput, error) {
		d, err := h.app.ConfirmAvatar(ctx, userID(ctx), in.ID, in.Body.Request.PortraitIndex, in.Body.Hook.app())
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return h.answerAvatar(ctx, d, in.wait)
	})

	huma.Register(api, huma.Operation{
		OperationID: "regenerate-avatar-angle", Method: http.MethodPost, Path: "/v2/avatars/{id}/angles/{angle_key}/regenerate",
		Summary: "Redo one reference angle", Tags: []string{"Avatars"},
		Security: secured, DefaultStatus: http.StatusAccepted, MaxBodyBytes: 64 << 10, Errors: []int{401, 402, 404, 409, 422, 429},
		Responses: createdAvatarResponse(api),
		Description: "Generates one reference angle of a confirmed avatar again, for avatar_angle credits, and answers " +
			"202 with the avatar. An avatar without a chosen portrait is a 409; asking twice in a row makes one task. " +
			"The body is optional (null: none)." + avatarWaitDoc,
	}, func(ctx context.Context, in *struct {
		ID       string `path:"id" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"An id as Lepus returned it"`
		AngleKey string `path:"angle_key" maxLength:"64" pattern:"^[a-z_]+$"`
		PreferHeader
		Body *regenerateBody
	}) (*avatarOutput, error) {
		var hook app.Webhook
		if in.Body != nil {
			hook = in.Body.Hook.app()
		}
		d, err := h.app.RegenerateAngle(ctx, userID(ctx), in.ID, in.AngleKey, hook)
		if err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return h.answerAvatar(ctx, d, in.wait)
	})

	huma.Register(api, huma.Operation{
		OperationID: "delete-avatar", Method: http.MethodDelete, Path: "/v2/avatars/{id}",
		Summary: "Delete an avatar", Tags: []string{"Avatars"}, Security: secured,
		DefaultStatus: http.StatusNoContent, Errors: []int{401, 404},
		Description: "Removes the avatar: it leaves your list and workflows can no longer use it. Tasks that already used it keep their results.",
	}, func(ctx context.Context, in *avatarIDInput) (*struct{}, error) {
		if err := h.app.DeleteAvatar(ctx, userID(ctx), in.ID); err != nil {
			return nil, problem(ctx, h.log, err)
		}
		return nil, nil
	})
}

package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// LipSyncRequest is the body of POST /kling/lip-sync (workflows.md §5,
// contract-decisions #6): identify-face, then advanced-lip-sync with the
// chosen face. No model or mode is sent; Kling's lip sync has none.
type LipSyncRequest struct {
	VideoURL            string   `json:"video_url,omitempty" maxLength:"4096" doc:"The video (MP4 or MOV, at most 100 MB, 2–60 s, sides 512–2160 px). Give this or video_asset_id."`
	VideoAssetID        string   `json:"video_asset_id,omitempty" maxLength:"64" doc:"One of your Lepus video assets (or its Kling video id), instead of video_url."`
	AudioURL            string   `json:"audio_url" minLength:"1" maxLength:"4096" doc:"The speech (MP3, WAV, M4A or AAC; at most 5 MB; 2–60 s)."`
	FaceIndex           int      `json:"face_index,omitempty" minimum:"0" maximum:"20" default:"0" doc:"Which of the faces Kling finds in the video (0 = the first)."`
	SoundVolume         *float64 `json:"sound_volume,omitempty" minimum:"0" maximum:"2" default:"1"`
	OriginalAudioVolume *float64 `json:"original_audio_volume,omitempty" minimum:"0" maximum:"2" default:"1"`

	// Measured by Check, before anything is paid.
	AudioMS int64  `json:"audio_ms,omitempty" hidden:"true"`
	VideoMS int64  `json:"video_ms,omitempty" hidden:"true"`
	VideoID string `json:"kling_video_id,omitempty" hidden:"true"`
}

// Lip sync limits (kling-api.md §5.6, §7).
const (
	lipSyncMinMS      = 2000
	lipSyncMaxMS      = 60000
	lipSyncAudioBytes = 5 << 20
	lipSyncVideoBytes = 100 << 20
)

// Normalize checks the request's shape.
func (r *LipSyncRequest) Normalize() error {
	r.AudioMS, r.VideoMS, r.VideoID = 0, 0, "" // measured by Check, never taken from the client
	if r.SoundVolume == nil {
		r.SoundVolume = ptr(1.0)
	}
	if r.OriginalAudioVolume == nil {
		r.OriginalAudioVolume = ptr(1.0)
	}
	if (r.VideoURL == "") == (r.VideoAssetID == "") {
		return lepus.FieldErrorf("body.video_url", "give exactly one of video_url and video_asset_id")
	}
	if r.AudioURL == "" {
		return lepus.FieldErrorf("body.audio_url", "is required")
	}
	return nil
}

// Images: none (the inputs are a video and an audio file).
func (r *LipSyncRequest) Images() []ImageInput { return nil }

// check measures the audio and the video before anything is paid.
func (r *LipSyncRequest) check(ctx context.Context, userID string, in Inputs) ([]string, error) {
	audio, err := in.Media(ctx, "body.audio_url", r.AudioURL, lipSyncAudioBytes+1)
	if err != nil {
		return nil, err
	}
	if audio.Kind != lepus.AssetAudio {
		return nil, lepus.FieldErrorf("body.audio_url", "is %s, not audio (MP3, WAV, M4A or AAC)", audio.Kind)
	}
	if audio.Bytes > lipSyncAudioBytes {
		return nil, lepus.FieldErrorf("body.audio_url", "is larger than Kling's 5 MB limit")
	}
	r.AudioMS = int64(audio.DurationS * 1000)
	if r.AudioMS < lipSyncMinMS || r.AudioMS > lipSyncMaxMS {
		return nil, lepus.FieldErrorf("body.audio_url", "is %.1f s long; lip sync takes 2 to 60 s of audio", audio.DurationS)
	}
	if r.VideoAssetID != "" {
		a, err := in.VideoAsset(ctx, userID, r.VideoAssetID)
		if err != nil {
			return nil, lepus.FieldErrorf("body.video_asset_id", "no video of yours has the id %q", r.VideoAssetID)
		}
		r.VideoMS = int64(a.DurationS * 1000)
		if a.ProviderID != "" && in.Now().Sub(a.CreatedAt) < 30*24*time.Hour && r.VideoMS <= lipSyncMaxMS {
			r.VideoID = a.ProviderID // Kling's own video: identify-face by id
			return nil, nil
		}
		r.VideoURL = a.ProviderURL
		if r.VideoURL == "" {
			return nil, lepus.FieldErrorf("body.video_asset_id", "video %s has no provider URL Kling could fetch; pass video_url", a.ID)
		}
		return []string{"video_asset_id: sent as its provider URL (not a Kling video under 30 days old)"}, nil
	}
	v, err := in.Media(ctx, "body.video_url", r.VideoURL, lipSyncVideoBytes+1)
	if err != nil {
		return nil, err
	}
	switch {
	case v.Kind != lepus.AssetVideo || (v.Format != "mp4" && v.Format != "mov"):
		return nil, lepus.FieldErrorf("body.video_url", "is %s %s, not an MP4 or MOV video", v.Kind, v.Format)
	case v.Bytes > lipSyncVideoBytes:
		return nil, lepus.FieldErrorf("body.video_url", "is larger than Kling's 100 MB limit")
	case v.DurationS < 2 || v.DurationS > 60:
		return nil, lepus.FieldErrorf("body.video_url", "is %.1f s long; lip sync takes 2 to 60 s of video", v.DurationS)
	case min(v.Width, v.Height) < 512 || max(v.Width, v.Height) > 2160:
		return nil, lepus.FieldErrorf("body.video_url", "is %dx%d px; both sides must be 512 to 2160 px (720p or 1080p)", v.Width, v.Height)
	}
	r.VideoMS = int64(v.DurationS * 1000)
	return nil, nil
}

// faceAnswer is the data of Kling's identify-face answer.
type faceAnswer struct {
	SessionID string           `json:"session_id"`
	FaceData  []kling.FaceData `json:"face_data"`
}

// lipSyncBody chooses the face and the audio span from identify-face's answer.
func (r *LipSyncRequest) lipSyncBody(faces *lepus.Stage, st *lepus.Stage, env Env) (any, error) {
	var ans faceAnswer
	if err := json.Unmarshal(faces.Output, &ans); err != nil {
		return nil, fmt.Errorf("decode identify-face answer: %w", err)
	}
	switch {
	case len(ans.FaceData) == 0:
		return nil, &Failure{Code: "no_face", Message: "no face found in the video; lip sync needs a clearly visible face"}
	case r.FaceIndex >= len(ans.FaceData):
		return nil, &Failure{Code: "face_index", Message: fmt.Sprintf("the video has %d face(s); face_index %d is out of range", len(ans.FaceData), r.FaceIndex)}
	}
	face := ans.FaceData[r.FaceIndex]
	insert := face.StartTime
	clip := min(r.AudioMS, face.EndTime-face.StartTime)
	if r.VideoMS > 0 {
		clip = min(clip, r.VideoMS-insert)
	}
	if clip < lipSyncMinMS {
		return nil, &Failure{Code: "face_too_short", Message: fmt.Sprintf("face %d is visible for only %.1f s; lip sync needs at least 2 s", r.FaceIndex, float64(clip)/1000)}
	}
	return kling.AdvancedLipSyncRequest{
		SessionID: ans.SessionID,
		FaceChoose: []kling.FaceChoose{{
			FaceID: face.FaceID, SoundFile: r.AudioURL,
			SoundStartTime: 0, SoundEndTime: clip, SoundInsertTime: insert,
			SoundVolume: r.SoundVolume, OriginalAudioVolume: r.OriginalAudioVolume,
		}},
		CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID,
	}, nil
}

func lipSync() *Definition {
	return &Definition{
		Type:   "lip_sync",
		Routes: []Route{{Path: "/kling/lip-sync", Summary: "Make a face in a video speak an audio file"}},
		Policy: Policy{MaxRetries: 3, PollInterval: 5 * time.Second, MaxPolls: 120,
			SoftLimit: 1800 * time.Second, HardLimit: 3600 * time.Second},
		NewRequest: func() Request { return &LipSyncRequest{} },
		Check: func(ctx context.Context, userID string, req Request, in Inputs) ([]string, error) {
			return req.(*LipSyncRequest).check(ctx, userID, in)
		},
		Plan: func(Request) []lepus.Stage {
			faces := klingStage("faces", kling.PathIdentifyFace, "", 0)
			faces.Sync = true
			return []lepus.Stage{faces, klingStage("video", kling.PathAdvancedLipSync, PoolKlingVideo, 1)}
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[LipSyncRequest](t)
			if err != nil {
				return nil, err
			}
			if st.Name == "faces" {
				if r.VideoID != "" {
					return kling.IdentifyFaceRequest{VideoID: r.VideoID}, nil
				}
				return kling.IdentifyFaceRequest{VideoURL: r.VideoURL}, nil
			}
			return r.lipSyncBody(t.StageByName("faces"), st, env)
		},
		Costs: map[string]int{"lip_sync": 10},
		Cost:  func(req Request, costs map[string]int) int { return costs["lip_sync"] },
	}
}

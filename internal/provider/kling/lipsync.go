package kling

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// IdentifyFaceRequest is the body of POST /v1/videos/identify-face: exactly
// one of VideoID (a Kling video ≤ 30 days old) or VideoURL (mp4/mov).
type IdentifyFaceRequest struct {
	VideoID  string `json:"video_id,omitempty"`
	VideoURL string `json:"video_url,omitempty"`
}

// IdentifyFaceResult is what identify-face answers at once (no task). An
// empty FaceData means no face was found.
type IdentifyFaceResult struct {
	// SessionID is valid for 24 h and names the video in advanced-lip-sync.
	SessionID string     `json:"session_id"`
	FaceData  []FaceData `json:"face_data"`
	// FinalUnitDeduction is what Kling charged for the call, as a string.
	FinalUnitDeduction string `json:"final_unit_deduction,omitempty"`
}

// FaceData is one face found in the video and the interval, in
// milliseconds, in which it can be lip-synced.
type FaceData struct {
	FaceID    string `json:"face_id"`
	FaceImage string `json:"face_image,omitempty"`
	StartTime int64  `json:"start_time"`
	EndTime   int64  `json:"end_time"`
}

// AdvancedLipSyncRequest is the body of POST /v1/videos/advanced-lip-sync.
// It has no model_name, mode or face index (contract decision #6).
type AdvancedLipSyncRequest struct {
	SessionID string `json:"session_id,omitempty"`
	// FaceChoose holds exactly one face: Kling syncs one person per task.
	FaceChoose     []FaceChoose   `json:"face_choose,omitempty"`
	WatermarkInfo  *WatermarkInfo `json:"watermark_info,omitempty"`
	CallbackURL    string         `json:"callback_url,omitempty"`
	ExternalTaskID string         `json:"external_task_id,omitempty"`
}

// FaceChoose pairs a face of the session with the audio to lay on it. The
// three times are milliseconds and required, so they are sent even when 0.
type FaceChoose struct {
	FaceID string `json:"face_id,omitempty"`
	// AudioID (Kling TTS audio) or SoundFile (URL or raw base64 of
	// mp3/wav/m4a/aac, ≤ 5 MB, 2–60 s): exactly one.
	AudioID   string `json:"audio_id,omitempty"`
	SoundFile string `json:"sound_file,omitempty"`
	// SoundStartTime and SoundEndTime crop the audio (clip ≥ 2 s);
	// SoundInsertTime is where the clip starts in the video.
	SoundStartTime  int64 `json:"sound_start_time"`
	SoundEndTime    int64 `json:"sound_end_time"`
	SoundInsertTime int64 `json:"sound_insert_time"`
	// SoundVolume and OriginalAudioVolume are in [0,2] (default 1).
	SoundVolume         *float64 `json:"sound_volume,omitempty"`
	OriginalAudioVolume *float64 `json:"original_audio_volume,omitempty"`
}

// Call POSTs body to a synchronous endpoint such as PathIdentifyFace and
// decodes the envelope's data into out, with the same auth, re-signing and
// error handling as Create. A synchronous call creates no task, so a caller
// may repeat it after a transport error.
func (c *Client) Call(ctx context.Context, path string, body any, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("kling: POST %s: encode body: %w", path, err)
	}
	if out == nil {
		out = new(json.RawMessage)
	}
	return c.do(ctx, http.MethodPost, path, payload, out)
}

// IdentifyFace finds the faces of a video for lip sync.
func (c *Client) IdentifyFace(ctx context.Context, req IdentifyFaceRequest) (*IdentifyFaceResult, error) {
	var res IdentifyFaceResult
	if err := c.Call(ctx, PathIdentifyFace, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

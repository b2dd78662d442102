package kling

import (
	"encoding/json"
	"fmt"
	"io"
)

// Task statuses as Kling spells them (note "succeed", not "succeeded").
const (
	StatusSubmitted  = "submitted"
	StatusProcessing = "processing"
	StatusSucceed    = "succeed"
	StatusFailed     = "failed"
)

// Task is the task object Kling returns from create and query calls and posts
// to a callback_url. Create responses carry no result yet.
type Task struct {
	TaskID        string     `json:"task_id"`
	TaskStatus    string     `json:"task_status"`
	TaskStatusMsg string     `json:"task_status_msg,omitempty"`
	TaskInfo      TaskInfo   `json:"task_info"`
	TaskResult    TaskResult `json:"task_result"`
	// WatermarkInfo echoes the request option when it was set.
	WatermarkInfo *WatermarkInfo `json:"watermark_info,omitempty"`
	// FinalUnitDeduction is what Kling charged for the task, as a string.
	FinalUnitDeduction string `json:"final_unit_deduction,omitempty"`
	// CreatedAt and UpdatedAt are Unix milliseconds.
	CreatedAt int64 `json:"created_at"`
	UpdatedAt int64 `json:"updated_at"`
}

// Done reports whether the task reached a terminal status; only then is its
// result (or failure message) final.
func (t *Task) Done() bool {
	return t.TaskStatus == StatusSucceed || t.TaskStatus == StatusFailed
}

// TaskInfo echoes request data: our external id and, for extend and lip
// sync, the video the task started from.
type TaskInfo struct {
	ExternalTaskID string `json:"external_task_id,omitempty"`
	ParentVideo    *Video `json:"parent_video,omitempty"`
}

// TaskResult lists the produced files. Result URLs expire after 30 days, so
// callers download and re-host them at once.
type TaskResult struct {
	Images       []Image `json:"images,omitempty"`
	SeriesImages []Image `json:"series_images,omitempty"`
	Videos       []Video `json:"videos,omitempty"`
}

// Image is one produced image.
type Image struct {
	Index        int    `json:"index"`
	URL          string `json:"url"`
	WatermarkURL string `json:"watermark_url,omitempty"`
}

// Video is one produced video. ID is what video-extend and identify-face take
// as video_id; Duration is in seconds, as a string.
type Video struct {
	ID           string `json:"id"`
	URL          string `json:"url"`
	Duration     string `json:"duration"`
	WatermarkURL string `json:"watermark_url,omitempty"`
}

// maxCallbackBytes bounds a callback body; a task object is a few KB.
const maxCallbackBytes = 1 << 20

// ParseCallback decodes the bare task object Kling POSTs to a callback_url.
// Callbacks are unsigned: treat the result as a hint and re-query the task
// with Get before trusting it (contract decision #14).
func ParseCallback(r io.Reader) (*Task, error) {
	var t Task
	dec := json.NewDecoder(io.LimitReader(r, maxCallbackBytes))
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("kling: parse callback: %w", err)
	}
	if t.TaskID == "" {
		return nil, fmt.Errorf("kling: parse callback: missing task_id")
	}
	return &t, nil
}

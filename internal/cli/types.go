package cli

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Task is a task as the public API shows it (the fields the CLI reads).
type Task struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	Status     string     `json:"status"`
	Progress   int        `json:"progress"`
	Step       string     `json:"step"`
	Error      *TaskError `json:"error"`
	Assets     []Asset    `json:"assets"`
	Stages     []Stage    `json:"stages"`
	Notes      []string   `json:"notes"`
	Cost       int        `json:"cost"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// Terminal reports whether the task has ended.
func (t *Task) Terminal() bool {
	switch t.Status {
	case "completed", "failed", "canceled":
		return true
	}
	return false
}

// TaskError is why a task (or one of its stages) failed.
type TaskError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

// Stage is one provider call of a task.
type Stage struct {
	Name  string     `json:"name"`
	Phase string     `json:"phase"`
	Error *TaskError `json:"error"`
}

// Asset is a stored result of a task.
type Asset struct {
	ID        string  `json:"id"`
	TaskID    string  `json:"task_id"`
	Kind      string  `json:"kind"`
	Mime      string  `json:"mime"`
	URL       string  `json:"url"`
	Stored    bool    `json:"stored"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	DurationS float64 `json:"duration_s"`
	Bytes     int64   `json:"bytes"`
	Stage     string  `json:"stage"`
}

// Upload is a stored input file; its URL is what a workflow request names.
type Upload struct {
	ID        string  `json:"id"`
	URL       string  `json:"url"`
	Kind      string  `json:"kind"`
	Mime      string  `json:"mime"`
	Bytes     int64   `json:"bytes"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	DurationS float64 `json:"duration_s"`
}

// TaskList is one page of tasks.
type TaskList struct {
	Tasks      []Task `json:"tasks"`
	NextCursor string `json:"next_cursor"`
}

// Problem is an RFC 9457 problem the API answered with, or a stand-in for
// a response that was not one (a proxy's HTML page).
type Problem struct {
	Status int            `json:"status"`
	Title  string         `json:"title"`
	Detail string         `json:"detail"`
	Errors []ProblemError `json:"errors"`
}

// ProblemError is one field the problem names.
type ProblemError struct {
	Location string `json:"location"`
	Message  string `json:"message"`
}

// Error shows the title, the detail and every field error, one a line.
func (p *Problem) Error() string {
	var b strings.Builder
	title := p.Title
	if title == "" {
		title = http.StatusText(p.Status)
	}
	fmt.Fprintf(&b, "%s (%d)", title, p.Status)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	for _, e := range p.Errors {
		b.WriteString("\n  ")
		if e.Location != "" {
			b.WriteString(e.Location + ": ")
		}
		b.WriteString(e.Message)
	}
	return b.String()
}

// ExitCode is ExitAPI for a 4xx, ExitServer otherwise.
func (p *Problem) ExitCode() int {
	if p.Status >= 400 && p.Status < 500 {
		return ExitAPI
	}
	return ExitServer
}

// EndedError reports a task that ended failed or canceled.
type EndedError struct{ Task *Task }

func (e *EndedError) Error() string {
	msg := fmt.Sprintf("task %s %s", e.Task.ID, e.Task.Status)
	if e.Task.Error != nil {
		msg += fmt.Sprintf(": %s (%s)", e.Task.Error.Message, e.Task.Error.Code)
	}
	return msg
}

// ExitCode is ExitTask.
func (e *EndedError) ExitCode() int { return ExitTask }

package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// progress shows how a task goes: a bar redrawn in place on a terminal,
// one plain line per change otherwise (logs, pipes, CI).
type progress interface {
	// state shows the task's status, progress and step.
	state(s EventState)
	// asset shows a result as it arrives.
	asset(a Asset)
	// done ends the display (the bar's line).
	done()
}

// newProgress picks the display for w.
func newProgress(w io.Writer) progress {
	if isTerminal(w) {
		return &barProgress{w: w, width: 30}
	}
	return &plainProgress{w: w}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// plainProgress prints a line whenever the status, progress or step
// changes, e.g. "processing  31% image.wait".
type plainProgress struct {
	w    io.Writer
	last EventState
	seen bool
}

func (p *plainProgress) state(s EventState) {
	if p.seen && s.Status == p.last.Status && s.Progress == p.last.Progress && s.Step == p.last.Step {
		return
	}
	p.seen, p.last = true, s
	fmt.Fprintf(p.w, "%-10s %3d%% %s\n", s.Status, s.Progress, s.Step)
}

func (p *plainProgress) asset(a Asset) {
	fmt.Fprintf(p.w, "result     %s %s %s\n", a.ID, a.Mime, dims(a))
}

func (p *plainProgress) done() {}

// barProgress redraws one line: a bar, the percentage, status and step.
// Written here rather than taken from a progress-bar library: one line of
// ANSI is all it needs, and the percentage comes from the server, not from
// counting bytes.
type barProgress struct {
	w     io.Writer
	width int
	last  EventState
	drawn bool
}

func (p *barProgress) state(s EventState) {
	if s.Status == "" {
		s.Status = p.last.Status
	}
	p.last = s
	pct := min(max(s.Progress, 0), 100)
	full := pct * p.width / 100
	bar := strings.Repeat("█", full) + strings.Repeat("░", p.width-full)
	// \r back to the start, \x1b[2K clears the line.
	fmt.Fprintf(p.w, "\r\x1b[2K%s %3d%% %s %s", bar, pct, s.Status, s.Step)
	p.drawn = true
}

func (p *barProgress) asset(Asset) {}

func (p *barProgress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// dims describes an asset's size: 1024x768, 5.0 s, bytes.
func dims(a Asset) string {
	var parts []string
	if a.Width > 0 && a.Height > 0 {
		parts = append(parts, fmt.Sprintf("%dx%d", a.Width, a.Height))
	}
	if a.DurationS > 0 {
		parts = append(parts, fmt.Sprintf("%.1f s", a.DurationS))
	}
	if a.Bytes > 0 {
		parts = append(parts, fmt.Sprintf("%d bytes", a.Bytes))
	}
	return strings.Join(parts, ", ")
}

// Package sse reads a text/event-stream: the task event streams Lepus
// serves, as the CLI and the tests follow them.
//
// It is written here rather than taken from a library: the server writes a
// small subset of the format (event, data, id, retry and comment lines),
// reading it is some thirty lines, and the library within reach
// (gin-contrib/sse) decodes a whole stream before returning, which cannot
// show live progress.
package sse

import (
	"bufio"
	"io"
	"strings"
)

// maxLine bounds one line of a stream; an event's data is JSON of a task's
// state or an asset, far smaller.
const maxLine = 4 << 20

// Event is one event of a stream.
type Event struct {
	// Name is the event's "event" field; "message" when it has none, as
	// in the browser's EventSource.
	Name string
	// Data is its data lines joined by newlines.
	Data string
}

// Read parses r and calls fn for each event until r ends, fn returns an
// error (returned as it is), or reading fails. An event is dispatched at
// the blank line that ends it; one cut off by the end of r is dropped, as
// the specification says. Comment, id and retry lines are passed over.
func Read(r io.Reader, fn func(Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var name string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(data) > 0 {
				ev := Event{Name: name, Data: strings.Join(data, "\n")}
				if ev.Name == "" {
					ev.Name = "message"
				}
				if err := fn(ev); err != nil {
					return err
				}
			}
			name, data = "", nil
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			name = value
		case "data":
			data = append(data, value)
		}
	}
	return sc.Err()
}

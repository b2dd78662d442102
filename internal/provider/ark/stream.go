package ark

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxEventBytes bounds one stream event; a 4K image as base64 is ~10 MB.
const maxEventBytes = 64 << 20

// Stream event types (other-providers.md §2.4); the event name equals the
// data's "type".
const (
	eventSucceeded = "image_generation.partial_succeeded"
	eventFailed    = "image_generation.partial_failed"
	eventCompleted = "image_generation.completed"
)

// wireEvent is the data of one stream event.
type wireEvent struct {
	Type       string `json:"type"`
	Model      string `json:"model"`
	Created    int64  `json:"created"`
	ImageIndex *int   `json:"image_index"`
	wireItem
	Usage *Usage `json:"usage"`
}

// readStream collects an SSE answer. It follows the SSE framing loosely:
// "event:" names an event, "data:" lines (joined by newlines, so even the
// docs' multi-line JSON parses) carry it, a blank line ends it, ":" lines
// are comments, and "data: [DONE]" ends the stream.
func readStream(r *bufio.Reader, status int) (*Images, error) {
	im := &Images{}
	seen := false
	var name string
	var data []byte
	hasData := false
	for {
		line, readErr := readLine(r)
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			return partial(im, &TransportError{Err: fmt.Errorf("read stream: %w", readErr)})
		}
		if len(line) == 0 || readErr != nil {
			if len(line) > 0 {
				name, data, hasData = field(line, name, data, hasData)
			}
			if hasData {
				seen = true
				done, err := dispatch(im, name, data, status)
				if err != nil || done {
					return partial(im, err)
				}
			}
			name, data, hasData = "", data[:0], false
			if readErr != nil { // EOF
				if !seen {
					return nil, &TransportError{Err: fmt.Errorf("http %d: stream ended without any event", status)}
				}
				return im, nil
			}
			continue
		}
		name, data, hasData = field(line, name, data, hasData)
	}
}

// field applies one non-empty line to the event being built.
func field(line []byte, name string, data []byte, hasData bool) (string, []byte, bool) {
	if line[0] == ':' {
		return name, data, hasData
	}
	key, value, _ := bytes.Cut(line, []byte(":"))
	value = bytes.TrimPrefix(value, []byte(" "))
	switch string(key) {
	case "event":
		name = string(value)
	case "data":
		if hasData {
			data = append(data, '\n')
		}
		data = append(data, value...)
		hasData = true
	}
	return name, data, hasData
}

// dispatch applies one event to im; done means the stream is over.
func dispatch(im *Images, name string, data []byte, status int) (done bool, err error) {
	if string(bytes.TrimSpace(data)) == "[DONE]" {
		return true, nil
	}
	var ev wireEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return true, &TransportError{Err: fmt.Errorf("decode event %q: %w", name, err)}
	}
	typ := ev.Type
	if typ == "" {
		typ = name
	}
	if im.Model == "" {
		im.Model, im.Created = ev.Model, ev.Created
	}
	switch typ {
	case eventSucceeded, eventFailed:
		index := len(im.Items)
		if ev.ImageIndex != nil {
			index = *ev.ImageIndex
		}
		it := ev.item(index)
		if typ == eventFailed && it.Error == nil {
			it.Error = &ItemError{Message: "image generation failed"}
		}
		if typ == eventSucceeded && it.Error == nil && it.URL == "" && it.B64JSON == "" {
			return true, &TransportError{Err: fmt.Errorf("event %s for image %d has no image", typ, index)}
		}
		im.add(it)
	case eventCompleted:
		if ev.Usage != nil {
			im.Usage = *ev.Usage
		}
		im.Complete = true
	default:
		if ev.Error != nil { // a request-level error sent as an event
			return true, &APIError{Status: status, Code: ev.Error.Code, Message: ev.Error.Message}
		}
		// Unknown events are skipped, so new event types do not break us.
	}
	return false, nil
}

// partial returns what was collected along with err, or just err when
// nothing was.
func partial(im *Images, err error) (*Images, error) {
	if err != nil && len(im.Items) == 0 {
		return nil, err
	}
	return im, err
}

// readLine reads one line without its "\n" or "\r\n", at most
// maxEventBytes long. At EOF it returns the last partial line with io.EOF.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxEventBytes {
			return nil, fmt.Errorf("line longer than %d bytes", maxEventBytes)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		return line, err
	}
}

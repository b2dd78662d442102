package ark

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

const (
	// maxResponseBytes bounds a JSON answer: fifteen 4K images as base64
	// fit with room to spare.
	maxResponseBytes = 256 << 20
	// maxErrorBytes bounds an error body.
	maxErrorBytes = 1 << 20
)

// Images is the collected answer: one entry per image_index, successes and
// failures, in index order.
type Images struct {
	Model   string
	Created int64 // unix seconds
	Items   []ImageItem
	// Usage is what Ark bills: only successful images count.
	Usage Usage
	// Complete is true when the whole answer arrived: the JSON body, or a
	// stream's completed event. A stream that stopped early (an internal
	// failure stops the remaining images) leaves it false.
	Complete bool
}

// ImageItem is one image of a group: URL or B64JSON on success (JPEG;
// URLs expire 24 h after generation), Error on failure.
type ImageItem struct {
	Index   int
	URL     string
	B64JSON string
	Size    string // "<w>x<h>"
	Error   *ItemError
}

// ItemError is why one image of a group failed, e.g.
// OutputImageSensitiveContentDetected; the other images are unaffected.
type ItemError struct {
	Code, Message string
}

// Usage is the answer's usage block.
type Usage struct {
	GeneratedImages int `json:"generated_images"`
	OutputTokens    int `json:"output_tokens"`
	TotalTokens     int `json:"total_tokens"`
}

// Succeeded returns the items that carry an image, in index order.
func (im *Images) Succeeded() []ImageItem {
	var out []ImageItem
	for _, it := range im.Items {
		if it.Error == nil {
			out = append(out, it)
		}
	}
	return out
}

// Failed returns the items that failed, in index order.
func (im *Images) Failed() []ImageItem {
	var out []ImageItem
	for _, it := range im.Items {
		if it.Error != nil {
			out = append(out, it)
		}
	}
	return out
}

// add records an item, replacing an earlier one with the same index.
func (im *Images) add(it ImageItem) {
	for i := range im.Items {
		if im.Items[i].Index == it.Index {
			im.Items[i] = it
			return
		}
	}
	im.Items = append(im.Items, it)
	sort.SliceStable(im.Items, func(a, b int) bool { return im.Items[a].Index < im.Items[b].Index })
}

// wireItem is one element of data[] in a JSON answer, or the image part of
// a stream event.
type wireItem struct {
	URL     string     `json:"url"`
	B64JSON string     `json:"b64_json"`
	Size    string     `json:"size"`
	Error   *wireError `json:"error"`
}

func (w wireItem) item(index int) ImageItem {
	it := ImageItem{Index: index, URL: w.URL, B64JSON: w.B64JSON, Size: w.Size}
	if w.Error != nil {
		it.Error = &ItemError{Code: w.Error.Code, Message: w.Error.Message}
	}
	return it
}

// wireImages is the non-streamed answer.
type wireImages struct {
	Model   string     `json:"model"`
	Created int64      `json:"created"`
	Data    []wireItem `json:"data"`
	Usage   Usage      `json:"usage"`
	Error   *wireError `json:"error"`
}

// decodeImages reads a 2xx JSON answer.
func decodeImages(status int, raw []byte) (*Images, error) {
	var w wireImages
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, &TransportError{Err: fmt.Errorf("http %d: decode response: %w", status, err)}
	}
	if w.Error != nil {
		return nil, &APIError{Status: status, Code: w.Error.Code, Message: w.Error.Message}
	}
	im := &Images{Model: w.Model, Created: w.Created, Usage: w.Usage, Complete: true}
	for i, d := range w.Data {
		if d.URL == "" && d.B64JSON == "" && d.Error == nil {
			return nil, &TransportError{Err: fmt.Errorf("http %d: data[%d] has neither an image nor an error", status, i)}
		}
		im.Items = append(im.Items, d.item(i))
	}
	return im, nil
}

// errTooLarge means a body went over its byte limit.
var errTooLarge = errors.New("response is too large")

// readAll reads at most limit bytes of r.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return b[:limit], errTooLarge
	}
	return b, nil
}

package sandbox

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"image"
	"strconv"

	"github.com/lepus-ai/lepus/internal/media/synth"
)

// Rules shared by text2video and image2video (kling-api.md §5.0–§5.2).

// cfgScaleModels are the models that take cfg_scale: it is documented as
// unsupported on v2.x and v3, and the sandbox refuses it there so a client
// that sends it anyway is caught (contract decision #4).
var cfgScaleModels = map[string]bool{"kling-v1": true, "kling-v1-5": true, "kling-v1-6": true}

// soundModels are the models with generated audio (v2.6 and later).
var soundModels = map[string]bool{"kling-v2-6": true, "kling-v3": true}

func checkCfgScale(model string, v *float64) *apiError {
	if v == nil {
		return nil
	}
	if !cfgScaleModels[model] {
		return invalidf("cfg_scale is not supported by %s", model)
	}
	return checkUnit("cfg_scale", *v, 0, 1)
}

// checkModeSound checks mode and sound: sound exists only on v2.6+, and
// kling-v2-6 makes audio only in pro mode.
func checkModeSound(model, mode, sound string) *apiError {
	if mode != "" {
		if e := oneOf("mode", mode, "std", "pro"); e != nil {
			return e
		}
	}
	if sound == "" {
		return nil
	}
	if e := oneOf("sound", sound, "on", "off"); e != nil {
		return e
	}
	if !soundModels[model] {
		return invalidf("sound is not supported by %s", model)
	}
	if sound == "on" && model == "kling-v2-6" && mode != "pro" {
		return invalidf("sound on requires mode pro for kling-v2-6")
	}
	return nil
}

// genDuration parses duration (default "5"): "5" or "10", or "3" to "15"
// on kling-v3. It is a string on the wire; a number is refused by the
// strict decoder.
func genDuration(d, model string) (int, *apiError) {
	d = cmp.Or(d, "5")
	secs, err := strconv.Atoi(d)
	if model == "kling-v3" {
		if err != nil || secs < 3 || secs > 15 {
			return 0, invalidf("duration must be a string from \"3\" to \"15\" for kling-v3, got %q", d)
		}
		return secs, nil
	}
	if d != "5" && d != "10" {
		return 0, invalidf("duration must be \"5\" or \"10\" for %s, got %q", model, d)
	}
	return secs, nil
}

// cameraControl is the camera_control object.
type cameraControl struct {
	Type   string `json:"type"`
	Config *struct {
		Horizontal float64 `json:"horizontal"`
		Vertical   float64 `json:"vertical"`
		Pan        float64 `json:"pan"`
		Tilt       float64 `json:"tilt"`
		Roll       float64 `json:"roll"`
		Zoom       float64 `json:"zoom"`
	} `json:"config"`
}

// check verifies the type and, for simple, exactly one non-zero axis in
// [-10, 10]; config is refused with the other types.
func (c *cameraControl) check() *apiError {
	if e := oneOf("camera_control.type", c.Type, "simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"); e != nil {
		return e
	}
	if c.Type != "simple" {
		if c.Config != nil {
			return invalidf("camera_control.config is only allowed with type simple")
		}
		return nil
	}
	if c.Config == nil {
		return invalidf("camera_control.config is required with type simple")
	}
	nonZero := 0
	for _, v := range []float64{c.Config.Horizontal, c.Config.Vertical, c.Config.Pan, c.Config.Tilt, c.Config.Roll, c.Config.Zoom} {
		if v < -10 || v > 10 {
			return invalidf("camera_control.config values must be in [-10, 10], got %g", v)
		}
		if v != 0 {
			nonZero++
		}
	}
	if nonZero != 1 {
		return invalidf("camera_control.config must set exactly one non-zero value, got %d", nonZero)
	}
	return nil
}

// frameVideo renders a generated video: a slow zoom over an input image
// (frame, a URL or base64 source) or, with no frame, over a picture drawn
// from the prompt at the aspect ratio.
type frameVideo struct {
	frame   string
	aspect  string
	prompt  string
	seconds float64
}

func (r *frameVideo) render(ctx context.Context, s *Sandbox, _ int) ([]byte, error) {
	var img image.Image
	if r.frame != "" {
		in, err := s.loadImage(ctx, r.frame)
		if err != nil {
			return nil, fmt.Errorf("frame: %w", err)
		}
		img = in
	} else {
		img = canvas(cmp.Or(r.aspect, "16:9"), videoCanvasSide, r.prompt)
	}
	return writeMP4(img, r.seconds)
}

// writeMP4 encodes a generated-looking video of secs seconds.
func writeMP4(img image.Image, secs float64) ([]byte, error) {
	var buf bytes.Buffer
	if err := synth.WriteMP4(&buf, img, secs, synth.MP4Options{Motion: true}); err != nil {
		return nil, fmt.Errorf("write mp4: %w", err)
	}
	return buf.Bytes(), nil
}

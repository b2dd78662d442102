package workflow

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// Provider concurrency pools. Kling counts video and image tasks separately;
// an image task holds n slots.
const (
	PoolKlingImage = "kling:image"
	PoolKlingVideo = "kling:video"
)

// ProviderKling names the Kling provider on a stage.
const ProviderKling = "kling"

// MaxPrompt is Kling's limit on prompts and negative prompts, in characters.
const MaxPrompt = 2500

// klingStage returns a Kling stage skeleton; the engine fills ExternalID
// and, just before submitting, Request.
func klingStage(name, endpoint, pool string, cost int) lepus.Stage {
	return lepus.Stage{
		Name:     name,
		Phase:    lepus.PhaseSubmit,
		Provider: ProviderKling,
		Endpoint: endpoint,
		Slot:     pool,
		SlotCost: cost,
	}
}

// cfgScale returns the cfg_scale to send to model (kling.TakesCfgScale,
// contract-decisions #4). The note says when a value was dropped.
func cfgScale(model string, v float64) (*float64, string) {
	if kling.TakesCfgScale(model) {
		return &v, ""
	}
	return nil, fmt.Sprintf("cfg_scale %g not sent: %s does not support it", v, model)
}

// durationUnits is a video's length in 5 s units, for costs.
func durationUnits(d string) int {
	n, err := strconv.Atoi(d)
	if err != nil || n < 5 {
		return 1
	}
	return (n + 4) / 5
}

// checkPrompt refuses a prompt longer than Kling takes.
func checkPrompt(field, p string) error {
	if n := utf8.RuneCountInString(p); n > MaxPrompt {
		return lepus.FieldErrorf(field, "is %d characters; at most %d", n, MaxPrompt)
	}
	return nil
}

// oneOf refuses a value outside allowed, listing the allowed values.
func oneOf(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return lepus.FieldErrorf(field, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

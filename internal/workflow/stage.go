package workflow

import "github.com/lepus-ai/lepus/internal/lepus"

// Provider concurrency pools. Kling counts video and image tasks separately;
// an image task holds n slots.
const (
	PoolKlingImage = "kling:image"
	PoolKlingVideo = "kling:video"
)

// ProviderKling names the Kling provider on a stage.
const ProviderKling = "kling"

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

package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// The five enhance-style capabilities share one job kind, enhance_style
// (workflows.md §10). A capability is a request type, a prompt builder and
// one line in the capabilities table; its engine decides the provider.

// Capability is one enhance-style capability.
type Capability struct {
	ID     string
	Engine Engine
	// Stages plans the provider stages (one, or one per variation).
	Stages func(req StyleRequest) []lepus.Stage
	// Body builds the provider request of a stage.
	Body func(req StyleRequest, st *lepus.Stage, env Env) (any, error)
	// Cost is the credits, from the cost table.
	Cost func(req StyleRequest, costs map[string]int) int
	// Costs are the cost-table entries Cost reads, with their default
	// credits (workflows.md §10).
	Costs map[string]int
	// Check, if set, runs the capability's checks that need I/O.
	Check func(ctx context.Context, userID string, req StyleRequest, in Inputs) ([]string, error)
}

// Engine names the provider engine of a capability.
type Engine string

// The engines.
const (
	EngineKlingOmniImage   Engine = "kling_omni_image"
	EngineStabilityRelight Engine = "stability_relight"
)

// StyleRequest is an enhance-style request: a Request that knows its capability.
type StyleRequest interface {
	Request
	Capability() string
}

// capabilities is the engine registry: capability → engine and builders.
var capabilities = map[string]*Capability{
	"skin_enhance": {ID: "skin_enhance", Engine: EngineKlingOmniImage, Stages: oneOmniStage, Body: omniBody(skinPrompt), Cost: flatCost("skin_enhance"), Costs: map[string]int{"skin_enhance": 3}},
	"relight":      {ID: "relight", Engine: EngineStabilityRelight, Stages: relightStages, Body: relightBody, Cost: flatCost("relight"), Costs: map[string]int{"relight": 8}}, // Stability charges 8 of its credits
	"outfit_swap":  {ID: "outfit_swap", Engine: EngineKlingOmniImage, Stages: oneOmniStage, Body: omniBody(outfitSwapPrompt), Cost: flatCost("outfit_swap"), Costs: map[string]int{"outfit_swap": 5}},
	"ai_stylist":   {ID: "ai_stylist", Engine: EngineKlingOmniImage, Stages: oneOmniStage, Body: omniBody(stylistPrompt), Cost: flatCost("ai_stylist"), Costs: map[string]int{"ai_stylist": 5}},
	"outfit_shot": {ID: "outfit_shot", Engine: EngineKlingOmniImage, Stages: outfitShotStages, Body: omniBody(outfitShotPrompt), Cost: outfitShotCost, Costs: map[string]int{"outfit_shot": 8, "outfit_shot_4": 24}, // per variation; four variations
		Check: func(ctx context.Context, userID string, req StyleRequest, in Inputs) ([]string, error) {
			return req.(*OutfitShotRequest).check(ctx, userID, in)
		}},
}

// CapabilityFor returns a capability by id, or nil.
func CapabilityFor(id string) *Capability { return capabilities[id] }

func flatCost(key string) func(StyleRequest, map[string]int) int {
	return func(_ StyleRequest, costs map[string]int) int { return costs[key] }
}

func oneOmniStage(StyleRequest) []lepus.Stage {
	return []lepus.Stage{klingStage("image", kling.PathOmniImage, PoolKlingImage, 1)}
}

// omniBody makes the Kling omni-image request of a prompt builder: the
// request's images in order, the prompt, one image.
func omniBody(prompt func(StyleRequest) (string, []string, string)) func(StyleRequest, *lepus.Stage, Env) (any, error) {
	return func(req StyleRequest, st *lepus.Stage, env Env) (any, error) {
		text, images, aspect := prompt(req)
		b := kling.OmniImageRequest{ModelName: OmniImageModel, Prompt: text, N: 1, AspectRatio: aspect,
			CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID}
		for _, u := range images {
			b.ImageList = append(b.ImageList, kling.OmniImage{Image: u})
		}
		return b, nil
	}
}

// decodeStyle decodes a stored enhance-style input into its capability's request.
func decodeStyle(t *lepus.Task) (StyleRequest, *Capability, error) {
	var head struct {
		Capability string `json:"capability_id"`
	}
	if err := json.Unmarshal(t.Input, &head); err != nil {
		return nil, nil, fmt.Errorf("decode enhance_style input: %w", err)
	}
	c := capabilities[head.Capability]
	if c == nil {
		return nil, nil, fmt.Errorf("enhance_style: unknown capability %q", head.Capability)
	}
	req := newStyleRequest(head.Capability)
	if err := json.Unmarshal(t.Input, req); err != nil {
		return nil, nil, fmt.Errorf("decode %s input: %w", head.Capability, err)
	}
	return req, c, nil
}

func newStyleRequest(capability string) StyleRequest {
	switch capability {
	case "skin_enhance":
		return &SkinEnhanceRequest{}
	case "relight":
		return &RelightRequest{}
	case "outfit_swap":
		return &OutfitSwapRequest{}
	case "ai_stylist":
		return &AIStylistRequest{}
	default:
		return &OutfitShotRequest{}
	}
}

func enhanceStyle() *Definition {
	costs := map[string]int{}
	for _, c := range capabilities {
		maps.Copy(costs, c.Costs)
	}
	return &Definition{
		Type:   "enhance_style",
		Policy: Policy{MaxRetries: 2, PollInterval: 5 * time.Second, MaxPolls: 60},
		// One route per capability, all of this one job kind.
		Routes: []Route{
			{Path: "/enhance-style/skin-enhance", Summary: "Retouch the skin of a portrait (natural, moderate or max)"},
			{Path: "/enhance-style/relight", Summary: "Relight a photo (Stability AI)", New: func() Request { return &RelightRequest{} }},
			{Path: "/enhance-style/outfit-swap", Summary: "Dress a person in a garment", New: func() Request { return &OutfitSwapRequest{} }},
			{Path: "/enhance-style/ai-stylist", Summary: "Style a complete look around a garment", New: func() Request { return &AIStylistRequest{} }},
			{Path: "/enhance-style/outfit-shot", Summary: "Make social-media shots of a garment, up to four variations in parallel",
				New: func() Request { return &OutfitShotRequest{} }},
		},
		NewRequest: func() Request { return &SkinEnhanceRequest{} },
		Plan: func(req Request) []lepus.Stage {
			r := req.(StyleRequest)
			return capabilities[r.Capability()].Stages(r)
		},
		Check: func(ctx context.Context, userID string, req Request, in Inputs) ([]string, error) {
			r := req.(StyleRequest)
			if c := capabilities[r.Capability()]; c.Check != nil {
				return c.Check(ctx, userID, r, in)
			}
			return nil, nil
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			req, c, err := decodeStyle(t)
			if err != nil {
				return nil, err
			}
			return c.Body(req, st, env)
		},
		Cost: func(req Request, costs map[string]int) int {
			r := req.(StyleRequest)
			return capabilities[r.Capability()].Cost(r, costs)
		},
		Costs: costs,
	}
}

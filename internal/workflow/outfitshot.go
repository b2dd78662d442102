package workflow

import (
	"cmp"
	"context"
	"fmt"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// ---- 10e. Outfit shot: Kling omni-image × variations, 8 credits each (4 for 24) ----

// OutfitShotRequest is the body of POST /enhance-style/outfit-shot.
type OutfitShotRequest struct {
	CapabilityID    string `json:"capability_id,omitempty" hidden:"true"`
	GarmentImageURL string `json:"garment_image_url" minLength:"1" maxLength:"4096" doc:"The garment or outfit to feature."`
	ContentType     string `json:"content_type,omitempty" enum:"cover,streetsnap,lifestyle,flat_lay,comparison" default:"streetsnap"`
	Platform        string `json:"platform,omitempty" enum:"xiaohongshu,douyin,instagram,custom" default:"xiaohongshu" doc:"Decides the aspect ratio: xiaohongshu 3:4, douyin 9:16, instagram and custom 1:1."`
	Variations      int    `json:"variations,omitempty" minimum:"1" maximum:"4" default:"1" doc:"Images made in parallel, one provider task each."`
	Mode            string `json:"mode,omitempty" enum:"standard,try_on" default:"standard" doc:"try_on puts the garment on your avatar (avatar_id) and photographs them."`
	AvatarID        string `json:"avatar_id,omitempty" maxLength:"64" doc:"With mode try_on: the avatar to dress."`

	// PersonURL is the avatar's confirmed portrait, resolved by Check for try_on.
	PersonURL string `json:"person_url,omitempty" hidden:"true"`
}

var contentTypes = map[string]string{
	"cover":      "social media cover image, bold text-friendly composition, eye-catching layout",
	"streetsnap": "street style photography, urban background, natural casual pose, city setting",
	"lifestyle":  "lifestyle photography, cozy atmosphere, cafe or home setting, warm tones",
	"flat_lay":   "flat lay photography, top-down view, neatly arranged items on clean background",
	"comparison": "before and after comparison, side by side outfit styling, split composition",
}

var platformAspect = map[string]string{"xiaohongshu": "3:4", "douyin": "9:16", "instagram": "1:1", "custom": "1:1"}

func (r *OutfitShotRequest) Capability() string { return "outfit_shot" }

func (r *OutfitShotRequest) Normalize() error {
	r.PersonURL = "" // resolved by Check, never taken from the client
	r.CapabilityID = r.Capability()
	r.ContentType, r.Platform, r.Mode = cmp.Or(r.ContentType, "streetsnap"), cmp.Or(r.Platform, "xiaohongshu"), cmp.Or(r.Mode, "standard")
	if r.Variations == 0 {
		r.Variations = 1
	}
	if r.Variations < 1 || r.Variations > 4 {
		return lepus.FieldErrorf("body.variations", "is %d; give 1 to 4", r.Variations)
	}
	if r.Mode == "try_on" && r.AvatarID == "" {
		return lepus.FieldErrorf("body.avatar_id", "try_on needs avatar_id: the avatar who wears the garment")
	}
	return firstErr(
		choice("body.content_type", r.ContentType, contentTypes),
		choice("body.platform", r.Platform, platformAspect),
		oneOf("body.mode", r.Mode, "standard", "try_on"),
	)
}

func (r *OutfitShotRequest) Images() []ImageInput {
	return []ImageInput{{Field: "body.garment_image_url", URL: &r.GarmentImageURL}}
}

// outfitShotPrompt is "<<<image_1>>> {content_prompt}". workflows.md gives
// no try_on template; Lepus's puts the avatar first and names the garment
// as outfit swap does: "<<<image_1>>> person wearing the complete outfit
// shown in <<<image_2>>>, {content_prompt}".
func outfitShotPrompt(req StyleRequest) (string, []string, string) {
	r := req.(*OutfitShotRequest)
	if r.Mode == "try_on" {
		return "<<<image_1>>> person " + garmentTypes["full"] + ", " + contentTypes[r.ContentType],
			[]string{r.PersonURL, r.GarmentImageURL}, platformAspect[r.Platform]
	}
	return "<<<image_1>>> " + contentTypes[r.ContentType], []string{r.GarmentImageURL}, platformAspect[r.Platform]
}

// check resolves the avatar of a try_on.
func (r *OutfitShotRequest) check(ctx context.Context, userID string, in Inputs) ([]string, error) {
	if r.Mode != "try_on" {
		return nil, nil
	}
	refs, err := in.Avatar(ctx, userID, r.AvatarID)
	if err != nil {
		return nil, lepus.FieldErrorf("body.avatar_id", "%s", lepus.ErrorMessage(err))
	}
	r.PersonURL = refs.Portrait
	return []string{"try_on: avatar " + r.AvatarID + "'s confirmed portrait wears the garment"}, nil
}

// outfitShotStages plans one optional stage per variation, run in parallel;
// each carries its share of the credits, refunded if it fails.
func outfitShotStages(req StyleRequest) []lepus.Stage {
	r := req.(*OutfitShotRequest)
	stages := make([]lepus.Stage, r.Variations)
	for i := range stages {
		st := klingStage(fmt.Sprintf("variation-%d", i+1), kling.PathOmniImage, PoolKlingImage, 1)
		st.Group, st.Optional = "variations", true
		stages[i] = st
	}
	return stages
}

// outfitShotCost is 8 credits a variation, 24 for four (workflows.md §10e).
func outfitShotCost(req StyleRequest, costs map[string]int) int {
	if n := req.(*OutfitShotRequest).Variations; n != 4 {
		return costs["outfit_shot"] * n
	}
	return costs["outfit_shot_4"]
}

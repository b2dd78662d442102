package workflow

import (
	"context"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Inputs reads and looks up what a request names, for checks that need
// I/O. The application layer implements it.
type Inputs interface {
	// Media measures a URL input: one of Lepus's own uploads (from its
	// record) or a fetched file of at most maxBytes. Errors name the field.
	Media(ctx context.Context, field, url string, maxBytes int64) (*MediaInput, error)
	// VideoAsset finds one of the user's video assets by Lepus asset id or
	// by the provider's video id; ENotFound if the user has none such.
	VideoAsset(ctx context.Context, userID, ref string) (*lepus.Asset, error)
	// Avatar returns the portraits of one of the user's confirmed avatars.
	Avatar(ctx context.Context, userID, id string) (*AvatarRefs, error)
	// Now is the current time.
	Now() time.Time
}

// AvatarRefs are an avatar's portraits, as URLs a provider can fetch.
type AvatarRefs struct {
	// Portrait is the confirmed (front) portrait.
	Portrait string
	// Angles are the finished reference angles.
	Angles []AvatarOption
}

// AvatarOption is one portrait of an avatar.
type AvatarOption struct {
	Key string `json:"key"`
	URL string `json:"url"`
}

// MediaInput is a measured input file.
type MediaInput struct {
	Kind   string // image | video | audio
	Format string // png, jpeg, mp4, mov, mp3, wav, m4a, aac
	Mime   string
	Bytes  int64
	Width  int
	Height int
	// DurationS is the length of a video or audio file.
	DurationS float64
}

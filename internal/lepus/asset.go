package lepus

import "time"

// Asset and upload kinds.
const (
	AssetImage = "image"
	AssetVideo = "video"
	AssetAudio = "audio"
)

// Asset is a result file Lepus stored in its own object storage.
type Asset struct {
	ID     string
	TaskID string
	UserID string
	// Stage and Index identify the result within its task; together with
	// TaskID they are unique, so a retried collect overwrites, never duplicates.
	Stage string
	Index int
	Kind  string
	Mime  string
	Bytes int64
	// Width and Height are in pixels; zero when unknown.
	Width  int
	Height int
	// DurationS is the video length in seconds (the provider's, else the MP4 header's).
	DurationS float64
	// StorageKey is the blob key of the content.
	StorageKey string
	// ProviderURL is where the provider served the file.
	ProviderURL string
	// ProviderID is the provider's id of the output (a Kling video id).
	ProviderID string
	// Model is the provider model that made it.
	Model     string
	Primary   bool
	CreatedAt time.Time
}

// Upload is a file a user uploaded to use as a workflow input. Its content is
// served at an unguessable URL so providers can fetch it.
type Upload struct {
	ID     string
	UserID string
	// Kind is image, video or audio; Format names the container or codec
	// (png, jpeg, mp4, mp3, wav, m4a, aac, …).
	Kind   string
	Format string
	Mime   string
	Bytes  int64
	// Width and Height are in pixels (images and videos).
	Width  int
	Height int
	// DurationS is the length of a video or audio file.
	DurationS float64
	// Faces is how many faces were found in an image; -1 when not looked for.
	Faces      int
	StorageKey string
	CreatedAt  time.Time
}

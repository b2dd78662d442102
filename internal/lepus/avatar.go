package lepus

import "time"

// Avatar is a user's digital avatar: source photos, candidate portraits
// (made by a confirm-portraits task), the portrait the user chose, and
// three reference angles (each made by an angles task, possibly redone on
// its own). What the tasks produced is read from the tasks themselves.
type Avatar struct {
	ID     string
	UserID string
	// Engine is the portrait engine asked for: doubao or kling.
	Engine          string
	SourceImageURLs []string
	ConfirmTaskID   string
	// ChosenIndex is the confirmed portrait, or nil before confirmation.
	ChosenIndex *int
	// ChosenURL is the public URL of the chosen portrait, given to providers.
	ChosenURL string
	// AngleTasks maps each angle key to the task that made (or is making) it.
	AngleTasks map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

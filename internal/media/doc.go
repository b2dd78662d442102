// Package media checks, converts and synthesises images and videos in pure Go.
//
// The server uses it to validate user uploads against provider limits (size,
// sides, aspect) and to record asset metadata (dimensions, MP4 duration). The
// built-in provider sandbox uses it to return real results: PNG images derived
// from the inputs (FaceSwap, Restyle) and playable H.264 MP4 files (WriteMP4).
//
// Nothing here uses cgo or runs external programs, so the binary stays static
// and the sandbox works on any machine.
package media

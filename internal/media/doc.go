// Package media checks and converts uploaded images, videos and audio in
// pure Go: it is the request path's validator.
//
// The server uses it to validate user uploads against provider limits (size,
// sides, aspect, pixels), to sort uploads by content (SniffMedia), to find
// faces (DetectFaces) and to record asset metadata (dimensions, MP4 and
// audio durations). Every parser here reads bytes a user sent, so each is
// bounded and fuzzed.
//
// What the built-in provider sandbox makes (PNG results, H.264 MP4 files,
// muxed audio, test audio) lives in media/synth, which builds on this
// package; this package never imports it. The frame parsers both need are
// in media/audioframe.
//
// Nothing here uses cgo or runs external programs, so the binary stays static
// and the sandbox works on any machine.
package media

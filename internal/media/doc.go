// Package media checks, converts and synthesises images, videos and audio
// in pure Go.
//
// The server uses it to validate user uploads against provider limits (size,
// sides, aspect), to sort uploads by content (SniffMedia) and to record
// asset metadata (dimensions, MP4 and audio durations). The built-in
// provider sandbox uses it to return real results: PNG images derived from
// the inputs (FaceSwap, Restyle), playable H.264 MP4 files (WriteMP4,
// WriteSlideshowMP4), videos with an audio track laid on them (MuxAudio),
// and it reads back the first frame of its own videos (FirstFrame) to
// derive results from them. SineWAV, SilentMP3, SilentADTS and SilentM4A
// make small valid audio files for tests.
//
// Nothing here uses cgo or runs external programs, so the binary stays static
// and the sandbox works on any machine.
package media

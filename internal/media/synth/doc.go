// Package synth makes the media the built-in provider sandbox returns, and
// small valid files for tests and `lepus samples`: PNG images derived from
// the inputs (FaceSwap, Restyle, Relight), playable H.264 MP4 files
// (WriteMP4, WriteSlideshowMP4), videos with an audio track laid on them
// (MuxAudio), the first frame of its own videos (FirstFrame), and test
// audio (SineWAV, SilentMP3, SilentADTS, SilentM4A).
//
// It is split from package media, the request path's validator, so the
// server's upload checks do not carry an H.264 encoder and an MP4 muxer:
// synth imports media (face detection, scaling, limits, the bounded MP4
// probe) and media/audioframe (to copy MP3, AAC and WAV frames into MP4),
// never the other way round.
//
// Nothing here uses cgo or runs external programs, so the sandbox works on
// any machine.
package synth

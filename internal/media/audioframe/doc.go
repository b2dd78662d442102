// Package audioframe reads the frames of MP3 and ADTS AAC streams and the
// chunks of WAV files: where each frame is, how long it is and how much
// sound it holds. Package media measures uploads with it (AudioDuration,
// SniffMedia) and package synth copies the frames into MP4 (MuxAudio);
// it imports neither.
package audioframe

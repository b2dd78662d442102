package media

import (
	"encoding/binary"
	"errors"

	"github.com/lepus-ai/lepus/internal/media/audioframe"
)

// Media kinds in MediaInfo.Kind.
const (
	KindImage = "image"
	KindVideo = "video"
	KindAudio = "audio"
)

// MediaInfo sorts an upload by content, so the server can route images,
// videos and audio (lip-sync input) to the right checks no matter what the
// file is called or which Content-Type the client claimed.
type MediaInfo struct {
	Kind   string // KindImage, KindVideo or KindAudio
	Format string // "jpeg", "png", "webp" | "mp4", "mov" | "mp3", "wav", "m4a", "aac"
	Mime   string // e.g. image/png, video/mp4, video/quicktime, audio/mpeg, audio/wav, audio/mp4, audio/aac
}

// ErrUnknownMedia means SniffMedia recognised none of the supported formats.
var ErrUnknownMedia = errors.New("media: not a supported image, video or audio format")

var (
	infoMP4 = MediaInfo{Kind: KindVideo, Format: "mp4", Mime: "video/mp4"}
	infoMOV = MediaInfo{Kind: KindVideo, Format: "mov", Mime: "video/quicktime"}
	infoM4A = MediaInfo{Kind: KindAudio, Format: "m4a", Mime: "audio/mp4"}
	infoMP3 = MediaInfo{Kind: KindAudio, Format: "mp3", Mime: "audio/mpeg"}
	infoWAV = MediaInfo{Kind: KindAudio, Format: "wav", Mime: "audio/wav"}
	infoAAC = MediaInfo{Kind: KindAudio, Format: "aac", Mime: "audio/aac"}
)

// SniffMedia detects the kind and format of a file from its first bytes
// (pass at least 64 when the file has them; a few KB lets it look past an
// ID3 tag). ISO BMFF files are sorted by their ftyp brands: QuickTime is
// mov, M4A/M4B/M4P audio is m4a, and any other ISO brand is an mp4 video.
// MP3 is recognised by an ID3v2 tag or a Layer III frame header, AAC by an
// ADTS header; when the head holds the following frame header too, it must
// agree. Anything else gives ErrUnknownMedia.
func SniffMedia(head []byte) (MediaInfo, error) {
	if f, ok := detectFormat(head); ok {
		return MediaInfo{Kind: KindImage, Format: f.name, Mime: f.mime}, nil
	}
	if len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE" {
		return infoWAV, nil
	}
	if len(head) >= 12 && string(head[:4]) == "RF64" && string(head[8:12]) == "WAVE" {
		return infoWAV, nil
	}
	if info, ok := sniffFtyp(head); ok {
		return info, nil
	}
	if info, ok := sniffAudioFrames(head); ok {
		return info, nil
	}
	return MediaInfo{}, ErrUnknownMedia
}

// sniffFtyp sorts an ISO BMFF file by its major brand, then by its
// compatible brands when the major one says nothing.
func sniffFtyp(head []byte) (MediaInfo, bool) {
	if len(head) < 16 || string(head[4:8]) != "ftyp" {
		return MediaInfo{}, false
	}
	size := int(binary.BigEndian.Uint32(head))
	if size < 16 || size%4 != 0 || size > 4096 {
		return MediaInfo{}, false
	}
	if info, ok := brandInfo(string(head[8:12])); ok {
		return info, true
	}
	var fallback *MediaInfo
	for off := 16; off+4 <= min(size, len(head)); off += 4 {
		info, ok := brandInfo(string(head[off : off+4]))
		switch {
		case ok && info != infoMP4:
			return info, true // QuickTime and audio brands are specific
		case ok && fallback == nil:
			fallback = &info
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return MediaInfo{}, false
}

// brandInfo maps one ftyp brand to what it promises.
func brandInfo(brand string) (MediaInfo, bool) {
	switch brand {
	case "qt  ":
		return infoMOV, true
	case "M4A ", "M4B ", "M4P ", "F4A ", "F4B ":
		return infoM4A, true
	case "isom", "iso2", "iso3", "iso4", "iso5", "iso6", "iso7", "iso8", "iso9",
		"mp41", "mp42", "avc1", "M4V ", "M4VH", "M4VP", "mmp4", "MSNV", "dash", "f4v ",
		"3gp4", "3gp5", "3gp6", "3g2a", "XAVC":
		return infoMP4, true
	}
	return MediaInfo{}, false
}

// sniffAudioFrames recognises MP3 and ADTS streams, looking past an ID3v2
// tag when the head holds its end (AAC files carry ID3 tags too).
func sniffAudioFrames(head []byte) (MediaInfo, bool) {
	if n, ok := audioframe.ID3v2Size(head); ok {
		// ID3 is almost always MP3; only ADTS frames right after it say otherwise.
		if n < len(head) {
			if h, ok := audioframe.ParseADTSHeader(head[n:]); ok && followedBy(head[n:], h.Size, audioframe.ADTSFrame) {
				return infoAAC, true
			}
		}
		return infoMP3, true
	}
	if h, ok := audioframe.ParseMP3Header(head); ok && followedBy(head, h.Size, audioframe.MP3Frame) {
		return infoMP3, true
	}
	if h, ok := audioframe.ParseADTSHeader(head); ok && followedBy(head, h.Size, audioframe.ADTSFrame) {
		return infoAAC, true
	}
	return MediaInfo{}, false
}

// followedBy reports whether the frame at the start of head is followed by
// a matching frame header, when head is long enough to tell.
func followedBy(head []byte, size int, parse func([]byte) (audioframe.Frame, bool)) bool {
	if len(head) < size+audioframe.ADTSHeaderLen {
		return true
	}
	first, _ := parse(head)
	next, ok := parse(head[size:])
	return ok && next.Key == first.Key
}

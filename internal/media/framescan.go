package media

import (
	"bufio"
	"io"
)

// audioFrame is one frame of a self-synchronising audio stream (MP3 or
// AAC ADTS): where it is, how long it is and how much sound it holds.
type audioFrame struct {
	off      int64 // byte offset in the stream
	size     int   // bytes, header included
	samples  int   // PCM samples per channel it decodes to
	rate     int   // sample rate in Hz
	channels int
	key      uint32 // header bits every frame of one stream shares
	data     []byte // the whole frame; valid until the next call to next
}

// frameScanner walks the frames of an MP3 or ADTS stream. It skips ID3v2
// tags and junk between frames, and trusts a header only when the next
// frame's header (or a tag, or the end) follows it where it says, so stray
// sync-like bytes in junk are not taken for frames.
type frameScanner struct {
	br     *bufio.Reader
	pos    int64
	hdrLen int
	parse  func(head []byte) (audioFrame, bool)
	synced bool
	key    uint32
}

// scanBuffer holds the largest frame (ADTS frames are at most 8191 bytes)
// plus the next header.
const scanBuffer = 16 << 10

func newFrameScanner(r io.Reader, hdrLen int, parse func([]byte) (audioFrame, bool)) *frameScanner {
	return &frameScanner{br: bufio.NewReaderSize(r, scanBuffer), hdrLen: hdrLen, parse: parse}
}

// next returns the next frame, or io.EOF when no further frame is found.
func (s *frameScanner) next() (audioFrame, error) {
	for {
		head, err := s.br.Peek(max(s.hdrLen, id3HeaderLen))
		if len(head) < s.hdrLen {
			if err == nil || err == io.EOF || err == bufio.ErrBufferFull {
				return audioFrame{}, io.EOF
			}
			return audioFrame{}, err
		}
		if n, ok := id3v2Size(head); ok {
			s.synced = false
			if err := s.discard(n); err != nil {
				return audioFrame{}, err
			}
			continue
		}
		f, ok := s.parse(head)
		if ok && s.synced && f.key != s.key {
			ok = false
		}
		if ok {
			whole, _ := s.br.Peek(f.size + max(s.hdrLen, len(apeTag)))
			if ok = s.confirmed(f, whole); ok {
				f.off, f.data = s.pos, whole[:f.size]
				s.synced, s.key = true, f.key
				if err := s.discard(f.size); err != nil {
					return audioFrame{}, err
				}
				return f, nil
			}
		}
		s.synced = false
		if err := s.discard(1); err != nil {
			return audioFrame{}, err
		}
	}
}

// apeTag starts an APEv2 tag, which may follow the last frame.
const apeTag = "APETAGEX"

// confirmed reports whether the frame f at the start of whole is real: it
// must be complete and be followed by a frame header of the same stream,
// a tag, or the end of the stream. A lone header in junk rarely is.
func (s *frameScanner) confirmed(f audioFrame, whole []byte) bool {
	if len(whole) < f.size {
		return false // truncated: the stream ends inside it
	}
	rest := whole[f.size:]
	if len(rest) < s.hdrLen {
		return true
	}
	if nf, ok := s.parse(rest); ok {
		return nf.key == f.key
	}
	for _, tag := range []string{"TAG", "ID3", apeTag, "LYRICS"} {
		if len(rest) >= len(tag) && string(rest[:len(tag)]) == tag {
			return true
		}
	}
	return false
}

func (s *frameScanner) discard(n int) error {
	m, err := s.br.Discard(n)
	s.pos += int64(m)
	if err == io.EOF {
		return nil // the next Peek reports the end
	}
	return err
}

const id3HeaderLen = 10

// id3v2Size returns the full length of an ID3v2 tag starting at head
// (header, body and optional footer), so it can be skipped.
func id3v2Size(head []byte) (int, bool) {
	if len(head) < id3HeaderLen || string(head[:3]) != "ID3" || head[3] == 0xFF || head[4] == 0xFF {
		return 0, false
	}
	size := 0
	for _, b := range head[6:10] {
		if b&0x80 != 0 {
			return 0, false // sizes are syncsafe: 7 bits per byte
		}
		size = size<<7 | int(b)
	}
	size += id3HeaderLen
	if head[5]&0x10 != 0 { // footer present
		size += id3HeaderLen
	}
	return size, true
}

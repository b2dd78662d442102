package audioframe

import (
	"bufio"
	"io"
)

// Frame is one frame of a self-synchronising audio stream (MP3 or
// AAC ADTS): where it is, how long it is and how much sound it holds.
type Frame struct {
	Off      int64 // byte offset in the stream
	Size     int   // bytes, header included
	Samples  int   // PCM samples per channel it decodes to
	Rate     int   // sample rate in Hz
	Channels int
	Key      uint32 // header bits every frame of one stream shares
	Data     []byte // the whole frame; valid until the next call to next
}

// Scanner walks the frames of an MP3 or ADTS stream. It skips ID3v2
// tags and junk between frames, and trusts a header only when the next
// frame's header (or a tag, or the end) follows it where it says, so stray
// sync-like bytes in junk are not taken for frames.
type Scanner struct {
	br     *bufio.Reader
	pos    int64
	hdrLen int
	parse  func(head []byte) (Frame, bool)
	synced bool
	key    uint32
}

// scanBuffer holds the largest frame (ADTS frames are at most 8191 bytes)
// plus the next header.
const scanBuffer = 16 << 10

// NewScanner returns a Scanner over r for frames whose headers are hdrLen
// bytes long and which parse (ADTSFrame or MP3Frame) decodes.
func NewScanner(r io.Reader, hdrLen int, parse func([]byte) (Frame, bool)) *Scanner {
	return &Scanner{br: bufio.NewReaderSize(r, scanBuffer), hdrLen: hdrLen, parse: parse}
}

// Next returns the Next frame, or io.EOF when no further frame is found.
func (s *Scanner) Next() (Frame, error) {
	for {
		head, err := s.br.Peek(max(s.hdrLen, id3HeaderLen))
		if len(head) < s.hdrLen {
			if err == nil || err == io.EOF || err == bufio.ErrBufferFull {
				return Frame{}, io.EOF
			}
			return Frame{}, err
		}
		if n, ok := ID3v2Size(head); ok {
			s.synced = false
			if err := s.discard(n); err != nil {
				return Frame{}, err
			}
			continue
		}
		f, ok := s.parse(head)
		if ok && s.synced && f.Key != s.key {
			ok = false
		}
		if ok {
			whole, _ := s.br.Peek(f.Size + max(s.hdrLen, len(apeTag)))
			if ok = s.confirmed(f, whole); ok {
				f.Off, f.Data = s.pos, whole[:f.Size]
				s.synced, s.key = true, f.Key
				if err := s.discard(f.Size); err != nil {
					return Frame{}, err
				}
				return f, nil
			}
		}
		s.synced = false
		if err := s.discard(1); err != nil {
			return Frame{}, err
		}
	}
}

// apeTag starts an APEv2 tag, which may follow the last frame.
const apeTag = "APETAGEX"

// confirmed reports whether the frame f at the start of whole is real: it
// must be complete and be followed by a frame header of the same stream,
// a tag, or the end of the stream. A lone header in junk rarely is.
func (s *Scanner) confirmed(f Frame, whole []byte) bool {
	if len(whole) < f.Size {
		return false // truncated: the stream ends inside it
	}
	rest := whole[f.Size:]
	if len(rest) < s.hdrLen {
		return true
	}
	if nf, ok := s.parse(rest); ok {
		return nf.Key == f.Key
	}
	for _, tag := range []string{"TAG", "ID3", apeTag, "LYRICS"} {
		if len(rest) >= len(tag) && string(rest[:len(tag)]) == tag {
			return true
		}
	}
	return false
}

func (s *Scanner) discard(n int) error {
	m, err := s.br.Discard(n)
	s.pos += int64(m)
	if err == io.EOF {
		return nil // the next Peek reports the end
	}
	return err
}

const id3HeaderLen = 10

// ID3v2Size returns the full length of an ID3v2 tag starting at head
// (header, body and optional footer), so it can be skipped.
func ID3v2Size(head []byte) (int, bool) {
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

package media

import (
	"encoding/binary"
	"errors"
	"math"
)

// The MP4 boxes are written by hand: go-mp4's Writer needs an io.WriteSeeker,
// while WriteMP4 streams to any io.Writer with moov first, which only needs
// the sizes known up front (they are, since all samples are in memory).

// box is a byte buffer with helpers for big-endian box fields.
type box struct{ b []byte }

func (x *box) u8(v uint8)   { x.b = append(x.b, v) }
func (x *box) u16(v uint16) { x.b = binary.BigEndian.AppendUint16(x.b, v) }
func (x *box) u32(v uint32) { x.b = binary.BigEndian.AppendUint32(x.b, v) }
func (x *box) str(s string) { x.b = append(x.b, s...) }
func (x *box) zeros(n int)  { x.b = append(x.b, make([]byte, n)...) }

// fullHeader writes the version and flags of a FullBox.
func (x *box) fullHeader(version uint8, flags uint32) { x.u32(uint32(version)<<24 | flags&0xFFFFFF) }

// mkbox wraps payloads in a box of the given type.
func mkbox(typ string, payloads ...[]byte) []byte {
	n := 8
	for _, p := range payloads {
		n += len(p)
	}
	out := make([]byte, 0, n)
	out = binary.BigEndian.AppendUint32(out, uint32(n))
	out = append(out, typ...)
	for _, p := range payloads {
		out = append(out, p...)
	}
	return out
}

// mp4Track describes the single video track being written.
type mp4Track struct {
	width, height   int
	timescale       uint32   // ticks per second, for movie and media alike
	deltas          []uint32 // per-sample durations in timescale ticks
	sizes           []uint32 // per-sample sizes in bytes
	syncSamples     []uint32 // 1-based sample numbers of IDR pictures
	sps, pps        []byte
	profile, compat byte
	level           byte
}

var errTooLarge = errors.New("mp4 too large for 32-bit offsets")

func ftypBox() []byte {
	var x box
	x.str("isom")
	x.u32(512)
	x.str("isomiso2avc1mp41")
	return mkbox("ftyp", x.b)
}

// moovBox builds the movie box; chunkOffset is where the first sample
// starts in the file (all samples sit in one chunk in mdat).
func moovBox(t *mp4Track, chunkOffset uint32) []byte {
	var duration uint32
	for _, d := range t.deltas {
		duration += d
	}
	minf := mkbox("minf", vmhdBox(), dinfBox(), stblBox(t, chunkOffset))
	mdia := mkbox("mdia", mdhdBox(t.timescale, duration), hdlrBox("vide"), minf)
	tkhd := tkhdBox(1, duration, 0, uint32(t.width)<<16, uint32(t.height)<<16)
	return mkbox("moov", mvhdBox(t.timescale, duration, 2), mkbox("trak", tkhd, mdia))
}

func writeMatrix(x *box) {
	for _, v := range []uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000} {
		x.u32(v)
	}
}

func stblBox(t *mp4Track, chunkOffset uint32) []byte {
	var stsd box
	stsd.fullHeader(0, 0)
	stsd.u32(1)
	stsd.b = append(stsd.b, avc1Box(t)...)

	var stsc box
	stsc.fullHeader(0, 0)
	stsc.u32(1)
	stsc.u32(1) // first_chunk
	stsc.u32(uint32(len(t.sizes)))
	stsc.u32(1) // sample_description_index

	var stco box
	stco.fullHeader(0, 0)
	stco.u32(1)
	stco.u32(chunkOffset)

	return mkbox("stbl",
		mkbox("stsd", stsd.b),
		sttsBox(t.deltas),
		stssBox(t.syncSamples),
		mkbox("stsc", stsc.b),
		stszBox(t.sizes),
		mkbox("stco", stco.b),
	)
}

// avc1Box is the visual sample entry with its decoder configuration.
func avc1Box(t *mp4Track) []byte {
	var x box
	x.zeros(6)
	x.u16(1) // data_reference_index
	x.zeros(16)
	x.u16(uint16(t.width))
	x.u16(uint16(t.height))
	x.u32(0x00480000) // 72 dpi
	x.u32(0x00480000)
	x.u32(0)
	x.u16(1) // frame_count
	name := "Lepus H.264"
	x.u8(uint8(len(name)))
	x.str(name)
	x.zeros(31 - len(name))
	x.u16(0x0018) // depth
	x.u16(0xFFFF) // pre_defined = -1

	var avcc box
	avcc.u8(1)
	avcc.u8(t.profile)
	avcc.u8(t.compat)
	avcc.u8(t.level)
	avcc.u8(0xFC | 3) // lengthSizeMinusOne: 4-byte NAL lengths
	avcc.u8(0xE0 | 1) // one SPS
	avcc.u16(uint16(len(t.sps)))
	avcc.b = append(avcc.b, t.sps...)
	avcc.u8(1) // one PPS
	avcc.u16(uint16(len(t.pps)))
	avcc.b = append(avcc.b, t.pps...)

	return mkbox("avc1", x.b, mkbox("avcC", avcc.b))
}

// mdatHeader returns the 8-byte header of an mdat holding payload bytes.
func mdatHeader(payload uint64) ([]byte, error) {
	if payload+8 > math.MaxUint32 {
		return nil, errTooLarge
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(payload+8))
	return append(out, "mdat"...), nil
}

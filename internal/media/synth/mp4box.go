package synth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	mp4 "github.com/abema/go-mp4"
)

// The boxes we write are go-mp4 box types serialised with mp4.Marshal,
// which writes a box's payload to any io.Writer; only the header is ours
// to prefix (mp4.EncodeBoxInfo) once the payload and children are known.
// go-mp4's Writer is not used because it needs an io.WriteSeeker, while
// WriteMP4 and MuxAudio stream moov first to any io.Writer.

// boxNode is a box to write: a go-mp4 box with its children, or a whole
// box already encoded (a sample entry copied from a source file).
type boxNode struct {
	box      mp4.IImmutableBox
	children []boxNode
	raw      []byte
	// typ, when set, is written in the header instead of box's type: go-mp4
	// registers no 'sowt' sample entry, so one is marshalled as the
	// AudioSampleEntry it is under an 'mp4a' type and renamed.
	typ mp4.BoxType
}

func node(b mp4.IImmutableBox, children ...boxNode) boxNode {
	return boxNode{box: b, children: children}
}

// appendTo encodes the box at the end of buf.
func (n boxNode) appendTo(buf *bytes.Buffer) error {
	if n.box == nil {
		buf.Write(n.raw)
		return nil
	}
	typ := n.typ
	if typ == (mp4.BoxType{}) {
		typ = n.box.GetType()
	}
	start := buf.Len()
	buf.Write(make([]byte, mp4.SmallHeaderSize)) // the header, once the size is known
	if _, err := mp4.Marshal(buf, n.box, mp4.Context{}); err != nil {
		return fmt.Errorf("%s box: %w", typ, err)
	}
	for _, c := range n.children {
		if err := c.appendTo(buf); err != nil {
			return err
		}
	}
	size := uint64(buf.Len() - start)
	if size > math.MaxUint32 {
		return errTooLarge
	}
	copy(buf.Bytes()[start:], mp4.EncodeBoxInfo(&mp4.BoxInfo{Type: typ, Size: size}))
	return nil
}

// mp4Track describes the single video track being written.
type mp4Track struct {
	width, height   int
	timescale       uint32   // ticks per second, for movie and media alike
	deltas          []uint32 // per-sample durations in timescale ticks
	sps, pps        []byte
	profile, compat byte
	level           byte
}

var errTooLarge = errors.New("mp4 too large for 32-bit offsets")

func ftypBox() boxNode { return brandsBox("isom", "isom", "iso2", "avc1", "mp41") }

// brandsBox is an ftyp box of major brand (minor version 512) and
// compatible brands.
func brandsBox(major string, compatible ...string) boxNode {
	f := &mp4.Ftyp{MinorVersion: 512}
	copy(f.MajorBrand[:], major)
	for _, c := range compatible {
		var e mp4.CompatibleBrandElem
		copy(e.CompatibleBrand[:], c)
		f.CompatibleBrands = append(f.CompatibleBrands, e)
	}
	return node(f)
}

// writeHead writes ftyp, moov and the mdat header for chunks (in file
// order) whose samples follow it, setting each chunk's file offset.
func writeHead(w io.Writer, ftyp boxNode, movieScale uint32, tracks []*muxTrack, chunks []*muxChunk) error {
	var head bytes.Buffer
	if err := ftyp.appendTo(&head); err != nil {
		return err
	}
	// Chunk offsets are fixed-size fields, so moov built while they are
	// still zero has its final length.
	var moov bytes.Buffer
	if err := muxMoov(movieScale, tracks, chunks).appendTo(&moov); err != nil {
		return err
	}
	off := uint64(head.Len()+moov.Len()) + mp4.SmallHeaderSize
	var payload uint64
	for _, c := range chunks {
		c.fileOff = off + payload
		payload += c.bytes
	}
	if off+payload > math.MaxUint32 {
		return errTooLarge
	}
	if err := muxMoov(movieScale, tracks, chunks).appendTo(&head); err != nil {
		return err
	}
	head.Write(mp4.EncodeBoxInfo(&mp4.BoxInfo{Type: mp4.BoxTypeMdat(), Size: payload + mp4.SmallHeaderSize}))
	_, err := w.Write(head.Bytes())
	return err
}

// avc1Box is the visual sample entry with its decoder configuration.
func avc1Box(t *mp4Track) boxNode {
	entry := &mp4.VisualSampleEntry{
		SampleEntry: mp4.SampleEntry{
			AnyTypeBox:         mp4.AnyTypeBox{Type: mp4.BoxTypeAvc1()},
			DataReferenceIndex: 1,
		},
		Width:           uint16(t.width),
		Height:          uint16(t.height),
		Horizresolution: 0x00480000, // 72 dpi
		Vertresolution:  0x00480000,
		FrameCount:      1,
		Depth:           0x0018,
		PreDefined3:     -1,
	}
	name := "Lepus H.264"
	entry.Compressorname[0] = byte(len(name))
	copy(entry.Compressorname[1:], name)
	avcc := &mp4.AVCDecoderConfiguration{
		AnyTypeBox:                 mp4.AnyTypeBox{Type: mp4.BoxTypeAvcC()},
		ConfigurationVersion:       1,
		Profile:                    t.profile,
		ProfileCompatibility:       t.compat,
		Level:                      t.level,
		Reserved:                   0x3F, // go-mp4 writes reserved bits as given
		LengthSizeMinusOne:         3,    // 4-byte NAL lengths
		Reserved2:                  0x7,
		NumOfSequenceParameterSets: 1,
		SequenceParameterSets:      []mp4.AVCParameterSet{{Length: uint16(len(t.sps)), NALUnit: t.sps}},
		NumOfPictureParameterSets:  1,
		PictureParameterSets:       []mp4.AVCParameterSet{{Length: uint16(len(t.pps)), NALUnit: t.pps}},
	}
	return node(entry, node(avcc))
}

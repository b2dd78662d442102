package audioframe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	FormatPCM           = 1
	wavFormatExtensible = 0xFFFE
	// wavUnknownSize is the chunk size streaming writers leave when they
	// cannot seek back to fill it in.
	wavUnknownSize = 0xFFFFFFFF
)

// WAV is what a WAV file's chunks say about its audio.
type WAV struct {
	Format        uint16 // WAVE format tag; the sub-format's for extensible files
	Channels      int
	SampleRate    int
	ByteRate      int
	BlockAlign    int
	BitsPerSample int
	DataOff       int64 // where the samples start
	DataLen       int64 // bytes of samples
}

// ReadWAV walks the RIFF chunks of a WAV (or RF64) file up to the data
// chunk. Chunks are padded to even sizes. A data chunk whose size is
// unknown (0xFFFFFFFF, or 0 from a stream) or larger than the file is taken
// to run to the end of the file.
func ReadWAV(r io.ReadSeeker) (WAV, error) {
	var w WAV
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return w, fmt.Errorf("wav: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return w, fmt.Errorf("wav: %w", err)
	}
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return w, fmt.Errorf("wav: read header: %w", err)
	}
	rf64 := string(riff[:4]) == "RF64"
	if (string(riff[:4]) != "RIFF" && !rf64) || string(riff[8:12]) != "WAVE" {
		return w, errors.New("wav: not a RIFF WAVE file")
	}
	pos := int64(12)
	var ds64Data int64 // RF64 keeps the real data size in its ds64 chunk
	haveFmt := false
	for pos+8 <= end {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return w, fmt.Errorf("wav: read chunk: %w", err)
		}
		id, size := string(hdr[:4]), int64(binary.LittleEndian.Uint32(hdr[4:]))
		body := pos + 8
		switch id {
		case "fmt ":
			if err := w.readFmt(r, size); err != nil {
				return w, err
			}
			haveFmt = true
		case "ds64":
			var b [16]byte
			if size >= 16 {
				if _, err := io.ReadFull(r, b[:]); err != nil {
					return w, fmt.Errorf("wav: read ds64: %w", err)
				}
				ds64Data = int64(binary.LittleEndian.Uint64(b[8:]))
			}
		case "data":
			if !haveFmt {
				return w, errors.New("wav: data chunk before fmt chunk")
			}
			w.DataOff = body
			switch {
			case rf64 && size == wavUnknownSize && ds64Data > 0:
				size = ds64Data
			case size == wavUnknownSize || size == 0:
				size = end - body
			}
			w.DataLen = min(size, end-body)
			return w, nil
		}
		pos = body + size + size%2
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return w, fmt.Errorf("wav: %w", err)
		}
	}
	return w, errors.New("wav: no data chunk")
}

// readFmt reads the fmt chunk body.
func (w *WAV) readFmt(r io.Reader, size int64) error {
	if size < 16 {
		return fmt.Errorf("wav: fmt chunk of %d bytes", size)
	}
	b := make([]byte, min(size, 40))
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("wav: read fmt: %w", err)
	}
	w.Format = binary.LittleEndian.Uint16(b)
	w.Channels = int(binary.LittleEndian.Uint16(b[2:]))
	w.SampleRate = int(binary.LittleEndian.Uint32(b[4:]))
	w.ByteRate = int(binary.LittleEndian.Uint32(b[8:]))
	w.BlockAlign = int(binary.LittleEndian.Uint16(b[12:]))
	w.BitsPerSample = int(binary.LittleEndian.Uint16(b[14:]))
	if w.Format == wavFormatExtensible && len(b) >= 26 {
		w.Format = binary.LittleEndian.Uint16(b[24:]) // first bytes of the sub-format GUID
	}
	if w.ByteRate == 0 {
		w.ByteRate = w.SampleRate * w.BlockAlign
	}
	if w.ByteRate <= 0 || w.Channels <= 0 {
		return errors.New("wav: fmt chunk gives no byte rate")
	}
	return nil
}

// Uncompressed WAV format tags: their data is whole sample frames of
// blockAlign bytes, so its length follows from the data size alone.
const (
	wavFormatFloat = 3
	wavFormatALaw  = 6
	wavFormatMuLaw = 7
)

// WAVDuration counts the whole sample frames in the data chunk (as much of
// it as the file holds; ReadWAV clamps a size claiming more) over the
// sample rate. The fmt chunk's byte rate is not used: decoders ignore it,
// so a wrong one (a byte rate of 1 makes 16 KB last hours) would give a
// length no one hears. Compressed WAV (ADPCM, MP3 in WAV, ...) cannot be
// measured without decoding it and is refused.
func WAVDuration(r io.ReadSeeker) (float64, error) {
	w, err := ReadWAV(r)
	if err != nil {
		return 0, err
	}
	switch w.Format {
	case FormatPCM, wavFormatFloat, wavFormatALaw, wavFormatMuLaw:
	default:
		return 0, fmt.Errorf("wav: format %#x is compressed; only uncompressed (PCM) WAV is accepted", w.Format)
	}
	if w.SampleRate <= 0 {
		return 0, fmt.Errorf("wav: sample rate %d", w.SampleRate)
	}
	if w.BitsPerSample <= 0 || w.BlockAlign != w.Channels*((w.BitsPerSample+7)/8) {
		return 0, fmt.Errorf("wav: block align %d does not fit %d channels of %d bits", w.BlockAlign, w.Channels, w.BitsPerSample)
	}
	frames := w.DataLen / int64(w.BlockAlign)
	return float64(frames) / float64(w.SampleRate), nil
}

package media

import (
	"errors"
	"fmt"
	"io"

	mp4 "github.com/abema/go-mp4"
)

// MP4VideoSize returns the display size of the first video track of an
// MP4/MOV file (its track header's width and height), so video assets
// record their dimensions like images do. Like MP4Duration it reads only
// headers.
func MP4VideoSize(r io.ReadSeeker) (width, height int, err error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, 0, fmt.Errorf("mp4 size: %w", err)
	}
	boxes, err := mp4.ExtractBoxesWithPayload(r, nil, []mp4.BoxPath{
		{mp4.BoxTypeMoov(), mp4.BoxTypeTrak(), mp4.BoxTypeTkhd()},
	})
	if err != nil {
		return 0, 0, fmt.Errorf("mp4 size: %w", err)
	}
	for _, b := range boxes {
		if th, ok := b.Payload.(*mp4.Tkhd); ok && th.Width > 0 && th.Height > 0 {
			// Track header sizes are 16.16 fixed point.
			return int(th.Width >> 16), int(th.Height >> 16), nil
		}
	}
	return 0, 0, errors.New("mp4 size: no video track with a size")
}

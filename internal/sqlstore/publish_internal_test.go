package sqlstore

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestPayloads: ids go out once each, in order, in payloads Postgres
// accepts (under 8,000 bytes), and none is split across two.
func TestPayloads(t *testing.T) {
	var ids []string
	for i := range 1000 {
		ids = append(ids, fmt.Sprintf("tsk_%026d", i))
	}
	in := append(slices.Clone(ids), ids[3], ids[999]) // saved twice
	out := payloads(in)
	if len(out) < 2 {
		t.Fatalf("%d payloads for 1,000 ids of 30 bytes, want several", len(out))
	}
	var got []string
	for _, p := range out {
		if len(p) > maxPayload {
			t.Fatalf("payload of %d bytes, want at most %d", len(p), maxPayload)
		}
		got = append(got, strings.Split(p, ",")...)
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("ids out of order, repeated or lost: %d out for %d distinct in", len(got), len(ids))
	}
	if out := payloads(nil); len(out) != 0 {
		t.Fatalf("payloads(nil) = %q, want none", out)
	}
}

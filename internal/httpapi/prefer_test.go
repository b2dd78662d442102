package httpapi

import (
	"testing"
	"time"
)

func TestParsePreferWait(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, header string
		want         time.Duration
		wantErr      bool
	}{
		{"None", "", 0, false},
		{"Other", "respond-async, return=minimal", 0, false},
		{"Seconds", "wait=5", 5 * time.Second, false},
		{"Bare", "wait", 60 * time.Second, false},
		{"BareWithParam", "wait; foo=bar", 60 * time.Second, false},
		{"Max", "wait=60", 60 * time.Second, false},
		{"CaseAndSpace", " WAIT = 7 ", 7 * time.Second, false},
		{"Quoted", `wait="9"`, 9 * time.Second, false},
		{"AmongOthers", "respond-async, wait=3;x=y, return=minimal", 3 * time.Second, false},
		{"FirstCounts", "wait=2, wait=50", 2 * time.Second, false},
		{"WaitingIsNotWait", "waiting=3", 0, false},
		{"ErrZero", "wait=0", 0, true},
		{"ErrTooLong", "wait=61", 0, true},
		{"ErrNegative", "wait=-1", 0, true},
		{"ErrNotNumber", "wait=soon", 0, true},
		{"ErrFraction", "wait=1.5", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parsePreferWait(tc.header)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parsePreferWait(%q) = %v, %v; want %v, error %v", tc.header, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

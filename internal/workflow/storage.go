package workflow

import (
	"crypto/sha256"
	"encoding/hex"
)

// SafeSegment returns s if it is a harmless storage path segment, else a
// hash of it, so user ids can never climb out of their prefix.
func SafeSegment(s string) string {
	ok := s != "" && s != "." && s != ".." && len(s) <= 128
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '@') {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "u" + hex.EncodeToString(sum[:16])
}

// Package webhook delivers task events to the URL a client gave, the
// Standard Webhooks way (https://www.standardwebhooks.com/): each POST
// carries webhook-id, webhook-timestamp and webhook-signature headers, the
// signature being "v1," + base64(HMAC-SHA256(key, id + "." + timestamp +
// "." + body)) with the user's secret "whsec_" + base64(key).
//
// The signing is a few lines of the standard library; the Standard
// Webhooks Go library would add a dependency for no more than that.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// secretBytes is the key length: 32 bytes, the HMAC-SHA256 block's worth
// of strength (Standard Webhooks asks for 24 to 64).
const secretBytes = 32

// NewSecret returns a fresh signing secret, "whsec_" + base64 of 32 random
// bytes.
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// errBadSecret is returned for a secret that is not whsec_<base64>.
var errBadSecret = errors.New("webhook: the signing secret is not whsec_<base64>")

// Sign returns the webhook-signature header value of a message: "v1,"
// and the base64 HMAC-SHA256 of "id.timestamp.body" under the secret's key.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || !strings.HasPrefix(secret, SecretPrefix) || len(key) == 0 {
		return "", errBadSecret
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

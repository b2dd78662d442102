package webhook_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/webhook"
)

// TestSign checks the Standard Webhooks reference test vector.
func TestSign(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		got, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
			time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
		if err != nil {
			t.Fatal(err)
		}
		if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
			t.Fatalf("Sign = %q, want %q", got, want)
		}
	})
	t.Run("ErrBadSecret", func(t *testing.T) {
		t.Parallel()
		for _, s := range []string{"", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!"} {
			if _, err := webhook.Sign(s, "msg_1", time.Unix(1, 0), nil); err == nil {
				t.Errorf("Sign with secret %q: no error", s)
			}
		}
	})
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") || len(a) != len("whsec_")+44 {
		t.Fatalf("NewSecret = %q, %q", a, b)
	}
	if _, err := webhook.Sign(a, "msg_1", time.Unix(1, 0), nil); err != nil {
		t.Fatalf("a new secret does not sign: %v", err)
	}
}

// TestRetryDelay: the default schedule keeps trying for at least a day.
func TestRetryDelay(t *testing.T) {
	t.Parallel()
	var total time.Duration
	for n := 1; n < webhook.MaxAttempts; n++ {
		total += webhook.RetryDelay(0, n)
	}
	if total < 24*time.Hour {
		t.Fatalf("the last attempt comes %s after the first; want at least 24h", total)
	}
	if d := webhook.RetryDelay(0, 1); d != 5*time.Second {
		t.Fatalf("first retry after %s, want 5s", d)
	}
	if d := webhook.RetryDelay(10*time.Millisecond, 2); d != 600*time.Millisecond {
		t.Fatalf("second retry with a 10ms base after %s, want 600ms", d)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://example.com/hook", false, true},
		{"https://example.com:443/hook?x=1", false, true},
		{"https://93.184.215.14/hook", false, true},
		{"https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook", false, true},
		{"http://example.com/hook", false, false},
		// What the delivery dialer refuses on every attempt is refused at
		// create, unless private URLs are allowed.
		{"https://example.com:8443/hook", false, false},
		{"https://example.com:80/hook", false, false},
		{"https://10.0.0.1/hook", false, false},
		{"https://127.0.0.1/hook", false, false},
		{"https://169.254.169.254/latest", false, false},
		{"https://[::1]/hook", false, false},
		{"https://[fe80::1%25eth0]/hook", false, false},
		{"https://[::ffff:192.168.1.1]/hook", false, false},
		{"https://localhost/hook", false, false},
		{"https://LocalHost./hook", false, false},
		{"https://api.localhost/hook", false, false},
		{"https://example.com:8443/hook", true, true},
		{"https://10.0.0.1/hook", true, true},
		{"https://localhost/hook", true, true},
		{"http://127.0.0.1:9000/hook", true, true},
		{"ftp://example.com/hook", true, false},
		{"/relative", true, false},
		{"https://user:pw@example.com/", false, false},
		{"https://example.com/#frag", false, false},
		{" https://example.com/", false, false},
		{"https://" + strings.Repeat("a", 2050) + ".com/", false, false},
	} {
		if why := webhook.CheckURL(tc.url, tc.allowPrivate); (why == "") != tc.ok {
			t.Errorf("CheckURL(%.40q, %v) = %q, want ok=%v", tc.url, tc.allowPrivate, why, tc.ok)
		}
	}
}

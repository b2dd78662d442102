package sandbox

import (
	"fmt"
	"strconv"
	"strings"
)

// arkFromEnv applies the fake Ark's SANDBOX_ARK_* variables to cfg:
// SANDBOX_ARK_KEY (accepted Bearer key), SANDBOX_ARK_IMAGES (images per
// sequential request, 1–15) and SANDBOX_ARK_LATENCY (a duration, or plain
// seconds). Errors name the variable at fault.
func arkFromEnv(getenv func(string) string, cfg *Config) error {
	if v := getenv("SANDBOX_ARK_KEY"); v != "" {
		cfg.ArkKey = v
	}
	if v := strings.TrimSpace(getenv("SANDBOX_ARK_IMAGES")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > arkGroupMax {
			return fmt.Errorf("SANDBOX_ARK_IMAGES: want a whole number in [1, %d], got %q", arkGroupMax, v)
		}
		cfg.ArkImages = n
	}
	if v := strings.TrimSpace(getenv("SANDBOX_ARK_LATENCY")); v != "" {
		d, err := parseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("SANDBOX_ARK_LATENCY: want a positive duration such as 3s, got %q", v)
		}
		cfg.ArkLatency = d
	}
	return nil
}

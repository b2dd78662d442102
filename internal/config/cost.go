package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lepus-ai/lepus/internal/workflow"
)

// DefaultCosts is the credit cost table: each workflow declares its own
// keys and default credits (workflow.Definition.Costs), so this is only the
// registry's union. LEPUS_COSTS overrides these keys and names no other.
func DefaultCosts() map[string]int {
	return workflow.NewRegistry(0).DefaultCosts()
}

// checkCostKeys refuses a LEPUS_COSTS key that is not in the cost table: a
// misspelt key ("faceswap=2") would otherwise change nothing, silently.
func checkCostKeys(costs map[string]int) error {
	valid := DefaultCosts()
	var unknown []string
	for k := range costs {
		if _, ok := valid[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	keys := make([]string, 0, len(valid))
	for k := range valid {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	noun := "key"
	if len(unknown) > 1 {
		noun = "keys"
	}
	return fmt.Errorf("LEPUS_COSTS: unknown %s %s; valid keys: %s",
		noun, quoteAll(unknown), strings.Join(keys, ", "))
}

// quoteAll quotes and joins keys as they appear in an error message.
func quoteAll(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = strconv.Quote(k)
	}
	return strings.Join(q, ", ")
}

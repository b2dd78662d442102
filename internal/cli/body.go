package cli

import (
	"encoding/json"
	"fmt"
	"strings"
)

// assignment is one --set or --file flag, in the order given.
type assignment struct {
	file       bool
	keys       []string // the dotted key, split
	key, value string
}

// assignments collects --set and --file flags into one ordered list, so a
// later flag wins over an earlier one whichever kind each is.
type assignments struct {
	list *[]assignment
	file bool
}

func (a assignments) String() string { return "" }

func (a assignments) Set(s string) error {
	key, value, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return fmt.Errorf("%q is not field=value", s)
	}
	keys := strings.Split(key, ".")
	for _, k := range keys {
		if k == "" {
			return fmt.Errorf("%q: empty part in the field name", key)
		}
	}
	*a.list = append(*a.list, assignment{file: a.file, keys: keys, key: key, value: value})
	return nil
}

// setValue puts value at the dotted key path of body. When the schema says
// the field is an array and value is not one, value is appended, so
// `--file image_urls=a.png --file image_urls=b.png` makes a list.
func setValue(body map[string]any, keys []string, value any, schema *Schema) error {
	m := body
	for i, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			if _, exists := m[k]; exists {
				return fmt.Errorf("%s is not an object", strings.Join(keys[:i+1], "."))
			}
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	last := keys[len(keys)-1]
	if _, isList := value.([]any); schema.Is("array") && !isList {
		list, _ := m[last].([]any)
		m[last] = append(list, value)
		return nil
	}
	m[last] = value
	return nil
}

// coerce turns a --set value into JSON. A field the schema says is a
// string keeps the text as it is (so duration=5 stays "5"); an array
// field takes a JSON array, or one element to append; anything else is
// decoded as JSON when it parses (numbers, booleans, objects) and is a
// string otherwise.
func coerce(raw string, s *Schema) any {
	if s.only("string") {
		return raw
	}
	if s.Is("array") {
		var list []any
		if json.Unmarshal([]byte(raw), &list) == nil {
			return list
		}
		return coerce(raw, s.Items)
	}
	var v any
	if json.Unmarshal([]byte(raw), &v) == nil {
		return v
	}
	return raw
}

package workflow

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// CheckText refuses a request whose strings hold text no prompt or URL
// needs: NUL and the other control characters (C0, DEL and C1; tab,
// newline and carriage return are allowed) and invalid UTF-8. Postgres
// cannot store NUL or invalid UTF-8, and providers should never see
// terminal escapes. It walks every string field of req (nested structs,
// slices, pointers) once, so a new request type is covered without code,
// and names the field as huma does: "body.prompt", "body.style_tags[1]".
func CheckText(req any) error {
	return checkText("body", reflect.ValueOf(req))
}

func checkText(path string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkText(path, v.Elem())
	case reflect.String:
		return checkString(path, v.String())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkText(path+"["+strconv.Itoa(i)+"]", v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			if err := checkString(path, key); err != nil {
				return err
			}
			if err := checkText(path+"."+key, iter.Value()); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
				continue
			case f.Anonymous && name == "":
				// An embedded struct's fields are the outer object's.
				if err := checkText(path, v.Field(i)); err != nil {
					return err
				}
				continue
			case name == "":
				name = f.Name
			}
			if err := checkText(path+"."+name, v.Field(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkString refuses s if it holds a control character other than tab,
// newline or carriage return, or is not valid UTF-8.
func checkString(field, s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return lepus.FieldErrorf(field, "is not valid UTF-8")
			}
		}
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return lepus.FieldErrorf(field, "contains the control character %U; only tab, newline and carriage return are allowed", r)
		}
	}
	return nil
}

package result

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// CheckSchema checks that a result file's JSON fits JSONSchema, for the part
// of JSON Schema that GenerateSchema writes: type (one or a list), enum,
// format date-time, required, properties, additionalProperties (false or
// a schema), items, anyOf and $ref to $defs. The first misfit is the
// error, named by its path in the file (runs[0].histograms.latency).
func CheckSchema(data []byte) error {
	return validateAgainst(JSONSchema, data)
}

func validateAgainst(schemaJSON, data []byte) error {
	var schema map[string]any
	if err := json.Unmarshal(schemaJSON, &schema); err != nil {
		return fmt.Errorf("the schema: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	v := validator{defs: asMap(schema["$defs"])}
	return v.check(schema, doc, "")
}

type validator struct{ defs map[string]any }

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func at(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (v validator) check(s map[string]any, doc any, path string) error {
	where := path
	if where == "" {
		where = "the file"
	}
	if ref, ok := s["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/$defs/")
		def := asMap(v.defs[name])
		if !found || def == nil {
			return fmt.Errorf("%s: the schema's $ref %q is not among its $defs", where, ref)
		}
		return v.check(def, doc, path)
	}
	if alts, ok := s["anyOf"].([]any); ok {
		var errs []string
		for _, alt := range alts {
			err := v.check(asMap(alt), doc, path)
			if err == nil {
				return nil
			}
			errs = append(errs, err.Error())
		}
		return fmt.Errorf("%s: fits none of: %s", where, strings.Join(errs, "; "))
	}
	if t, ok := s["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, fmt.Sprint(x))
			}
		}
		if got := jsonType(doc); !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
			return fmt.Errorf("%s: %s, want %s", where, got, strings.Join(types, " or "))
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, doc) {
		return fmt.Errorf("%s: %v is not one of %v", where, doc, enum)
	}
	if s["format"] == "date-time" {
		if str, ok := doc.(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", where, str)
			}
		}
	}
	switch doc := doc.(type) {
	case []any:
		if items := asMap(s["items"]); items != nil {
			for i, x := range doc {
				if err := v.check(items, x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		props := asMap(s["properties"])
		if req, ok := s["required"].([]any); ok {
			for _, k := range req {
				if _, ok := doc[k.(string)]; !ok {
					return fmt.Errorf("%s: lacks the required %q", where, k)
				}
			}
		}
		for _, k := range slices.Sorted(mapKeys(doc)) {
			if p := asMap(props[k]); p != nil {
				if err := v.check(p, doc[k], at(path, k)); err != nil {
					return err
				}
				continue
			}
			switch extra := s["additionalProperties"].(type) {
			case bool:
				if !extra {
					return fmt.Errorf("%s: %q is not in the schema", where, k)
				}
			case map[string]any:
				if err := v.check(extra, doc[k], at(path, k)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// jsonType is a decoded value's JSON Schema type.
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if f, err := v.Float64(); err == nil && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

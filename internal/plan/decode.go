package plan

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parser decodes a plan file's YAML nodes into the format's structs
// (format.go) and checks them, placing every error at its file, line and
// column.
type parser struct {
	file   string
	getenv func(string) (string, bool)
	// nodes holds the node each value was decoded from, by the value's
	// address (a map's values by entry): a key the file leaves out has
	// none.
	nodes map[any]*yaml.Node
}

// entry names a map's value in parser.nodes.
type entry struct {
	m   any // the map's address
	key string
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	e := &Error{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// node is the node of the value at addr (a field's address or an entry);
// nil when the file does not give it.
func (p *parser) node(addr any) *yaml.Node { return p.nodes[addr] }

// label names a value in errors: the plan, deployments[0],
// deployment "a" timeout, deployment "a" http.path.
type label struct {
	text string
	key  string // the last key
	item bool   // a named list item: its keys follow after a space
}

func (l label) String() string {
	if l.text == "" {
		return "the plan"
	}
	return l.text
}

func (l label) field(key string) label {
	switch {
	case l.text == "":
		return label{text: key, key: key}
	case l.item:
		return label{text: l.text + " " + key, key: key}
	}
	return label{text: l.text + "." + key, key: key}
}

// element labels item i of a list: by its name when it is a struct's
// mapping that gives one (deployment "a"), else by its index
// (deployments[0]).
func (l label) element(i int, n *yaml.Node, t reflect.Type) label {
	if t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, v := n.Content[j], n.Content[j+1]
			if k.Value == "name" && v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) != "" {
				return label{text: fmt.Sprintf("%s %q", strings.TrimSuffix(l.key, "s"), v.Value), item: true}
			}
		}
	}
	return label{text: fmt.Sprintf("%s[%d]", l.text, i)}
}

// decode fills v from n, recording the nodes.
func (p *parser) decode(n *yaml.Node, v reflect.Value, what label) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	p.nodes[v.Addr().Interface()] = n
	switch v.Kind() {
	case reflect.Struct:
		return p.decodeStruct(n, v, what)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		return p.decode(n, v.Elem(), what)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return p.errorf(n, "%s must be %s", what, describe(v.Type()))
		}
		v.Set(reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content)))
		for i, item := range n.Content {
			if err := p.decode(item, v.Index(i), what.element(i, item, v.Type().Elem())); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return p.errorf(n, "%s must be %s", what, describe(v.Type()))
		}
		v.Set(reflect.MakeMap(v.Type()))
		first := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if err := p.key(k, first, what); err != nil {
				return err
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := p.decode(val, elem, what.field(k.Value)); err != nil {
				return err
			}
			p.nodes[entry{v.Addr().Interface(), k.Value}] = p.nodes[elem.Addr().Interface()]
			v.SetMapIndex(reflect.ValueOf(k.Value), elem)
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return p.errorf(n, "%s must be a single value", what)
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return p.errorf(n, "%s: %q is not %s", what, n.Value, describe(v.Type()))
	}
	return nil
}

// decodeStruct fills a format struct from a mapping: only its keys, each
// once, the required ones given and not empty.
func (p *parser) decodeStruct(n *yaml.Node, v reflect.Value, what label) error {
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "%s must be %s", what, describe(v.Type()))
	}
	fields := formatFields(v.Type())
	byKey := map[string]formatField{}
	for _, f := range fields {
		byKey[f.key] = f
	}
	first := map[string]*yaml.Node{}
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if err := p.key(k, first, what); err != nil {
			return err
		}
		if _, ok := byKey[k.Value]; !ok {
			return p.errorf(k, "unknown key %q in %s (allowed: %s)%s", k.Value, what, strings.Join(formatKeys(fields), ", "), didYouMean(k.Value, formatKeys(fields)))
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		f := byKey[n.Content[i].Value]
		val := n.Content[i+1]
		if err := p.decode(val, v.Field(f.index), what.field(f.key)); err != nil {
			return err
		}
		if f.nonempty && isEmpty(v.Field(f.index)) {
			if v.Field(f.index).Kind() == reflect.Slice {
				return p.errorf(val, "%s must be a non-empty list", what.field(f.key))
			}
			return p.errorf(val, "%s is empty", what.field(f.key))
		}
	}
	for _, f := range fields {
		if f.required && first[f.key] == nil {
			return p.errorf(n, "%s has no %s", what, f.key)
		}
	}
	return nil
}

// key checks a mapping's key: a single value, given once.
func (p *parser) key(k *yaml.Node, first map[string]*yaml.Node, what label) error {
	if k.Kind != yaml.ScalarNode {
		return p.errorf(k, "%s: a key must be a single value", what)
	}
	if prev, dup := first[k.Value]; dup {
		return p.errorf(k, "key %q given twice in %s (first at line %d)", k.Value, what, prev.Line)
	}
	first[k.Value] = k
	return nil
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return strings.TrimSpace(v.String()) == ""
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return false
}

// describe says what a value of type t is written as.
func describe(t reflect.Type) string {
	_, one, _ := typeWords(t)
	return one
}

// didYouMean suggests the allowed key nearest to a misspelt one.
func didYouMean(key string, allowed []string) string {
	best, bestDist := "", 3 // no suggestion beyond two edits
	for _, a := range allowed {
		if d := editDistance(key, a); d < bestDist {
			best, bestDist = a, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %s?", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

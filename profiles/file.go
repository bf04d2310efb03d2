package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/knocktools/knock"
)

// File is the parsed profile file. It keeps the YAML tree it came from, so
// changes are made in place and the rest of the file (comments, order,
// other keys) is written back as it was.
type File struct {
	Path     string
	Defaults *Profile           // the top-level "defaults:" block, if any
	Profiles map[string]Profile // as written, without defaults applied

	doc *yaml.Node // document node; nil for a file not yet written
	// src is the file as read when doc came from quickParse, which keeps
	// no comments: the first edit reads it again with yaml.v3.
	src []byte
}

// Top-level keys of the file.
const (
	keyProfiles = "profiles"
	keyDefaults = "defaults"
)

// fileError is an error at a line of the file: "FILE:LINE: message".
func fileError(path string, line int, format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, a...))
}

// yamlLineRE is compiled on the first error: a knock that reads a good
// file need not pay for it at start.
var yamlLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// Parse reads a profile file. Every error names the file and the line.
func Parse(path string, data []byte) (*File, error) {
	doc, err := parseYAML(path, data)
	if err != nil {
		return nil, err
	}
	return parseDoc(path, doc)
}

// parseQuick is Parse through quickParse when it reads the file: a knock
// only reads the file, and most files are as knock wrote them.
func parseQuick(path string, data []byte) (*File, error) {
	doc, ok := quickParse(data)
	if !ok {
		return Parse(path, data)
	}
	f, err := parseDoc(path, doc)
	if err != nil {
		return nil, err
	}
	f.src = data
	return f, nil
}

func parseYAML(path string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(path, err)
	}
	// A second document would be ignored on read and lost on the next
	// write: refuse it. A bare "---" at the end holds nothing to lose.
	var next yaml.Node
	if err := dec.Decode(&next); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(path, err)
	} else if err == nil && len(next.Content) > 0 && !isNull(next.Content[0]) {
		return nil, fileError(path, next.Line, "a second YAML document: knock reads one document per file (remove the --- line and merge the two)")
	}
	return &doc, nil
}

// isNull reports whether a node is the empty scalar of an empty document.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == ""
}

// yamlError names the file and the line of yaml.v3's error.
func yamlError(path string, err error) error {
	if m := yamlLineRE().FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s: not valid YAML: %s", path, m[1], m[2])
	}
	return fmt.Errorf("%s: not valid YAML: %w", path, err)
}

// fullDoc makes doc yaml.v3's, comments and all, before an edit.
func (f *File) fullDoc() {
	if f.src == nil {
		return
	}
	if doc, err := parseYAML(f.Path, f.src); err == nil {
		f.doc = doc
	}
	f.src = nil
}

func parseDoc(path string, doc *yaml.Node) (*File, error) {
	f := &File{Path: path, Profiles: map[string]Profile{}}
	if len(doc.Content) == 0 {
		return f, nil // empty file
	}
	f.doc = doc
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fileError(path, root.Line, "want a mapping with a %q key at the top", keyProfiles)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if prev, dup := seen[k.Value]; dup {
			return nil, fileError(path, k.Line, "key %q repeated (first at line %d)", k.Value, prev)
		}
		seen[k.Value] = k.Line
		switch k.Value {
		case keyProfiles:
			if err := f.parseProfiles(v); err != nil {
				return nil, err
			}
		case keyDefaults:
			p, err := decodeProfile(path, "defaults", v)
			if err != nil {
				return nil, err
			}
			if err := p.Validate(true); err != nil {
				return nil, fileError(path, keyLine(v, err, v.Line), "defaults: %v", err)
			}
			f.Defaults = &p
		default:
			return nil, fileError(path, k.Line, "unknown top-level key %q (want %s or %s)", k.Value, keyProfiles, keyDefaults)
		}
	}
	return f, nil
}

func (f *File) parseProfiles(m *yaml.Node) error {
	if m.Kind == yaml.ScalarNode && m.Tag == "!!null" {
		return nil
	}
	if m.Kind != yaml.MappingNode {
		return fileError(f.Path, m.Line, "%s: want a mapping of profile names to profiles", keyProfiles)
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		name := k.Value
		if err := ValidateName(name, nil); err != nil {
			return fileError(f.Path, k.Line, "%v", err)
		}
		if prev, dup := lines[name]; dup {
			return fileError(f.Path, k.Line, "profile %q defined twice (first at line %d)", name, prev)
		}
		lines[name] = k.Line
		// Not fmt's %q: its first use costs a fresh process tens of
		// microseconds, and nothing else a knock runs needs it (the name is
		// validated ASCII, which strconv quotes directly).
		p, err := decodeProfile(f.Path, "profile "+strconv.Quote(name), v)
		if err != nil {
			return err
		}
		if err := p.WithDefaults(f.Defaults).Validate(false); err != nil {
			return fileError(f.Path, keyLine(v, err, k.Line), "profile %q: %v", name, err)
		}
		f.Profiles[name] = p
	}
	return nil
}

// keyLine is the line of the key a validation error is about, in the
// profile mapping m, else def (the field came from the defaults, or the
// error is about the profile as a whole).
func keyLine(m *yaml.Node, err error, def int) int {
	if field := fieldOf(err); field != "" && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == field {
				return m.Content[i].Line
			}
		}
	}
	return def
}

// decodeProfile reads one profile mapping key by key, so an unknown key or
// a bad value is reported with its own line.
func decodeProfile(path, what string, m *yaml.Node) (Profile, error) {
	var p Profile
	err := eachKey(path, what, "host and sequence", m, Keys, func(key string, v *yaml.Node) (err error) {
		if dst := p.text(key); dst != nil {
			*dst, err = scalar(v)
			return err
		}
		switch key {
		case "sequence":
			p.Sequence, err = stringList(v)
		case "close_sequence":
			p.CloseSequence, err = stringList(v)
		case "allow_repeats":
			p.AllowRepeats, err = boolean(v)
		case "spa":
			var s *SPA
			if s, err = decodeSPA(path, what, v); err != nil {
				return placed{err} // names its own line
			}
			p.SPA = s
		case "period":
			p.Period, err = period(v)
		case "length":
			p.Length, err = integer(v, 1, knock.MaxKnockdSequence)
		default:
			o := KnockOptionOf(key)
			if o == nil || !o.InProfile() {
				return errUnknown
			}
			var val any
			if val, err = o.field.decode(v); err == nil {
				o.SetProfile(&p, val)
			}
		}
		return err
	})
	return p, err
}

// texts are the keys whose values are free text, and their fields.
var texts = [...]struct {
	key   string
	field func(*Profile) *string
}{
	{"host", func(p *Profile) *string { return &p.Host }},
	{"description", func(p *Profile) *string { return &p.Description }},
	{"user", func(p *Profile) *string { return &p.User }},
	{"secret", func(p *Profile) *string { return &p.Secret }},
	{"secret_file", func(p *Profile) *string { return &p.SecretFile }},
	{"ports", func(p *Profile) *string { return &p.Ports }},
	{"protocol", func(p *Profile) *string { return &p.Protocol }},
}

// text is the field of a key whose value is free text, or nil.
func (p *Profile) text(key string) *string {
	for _, t := range texts {
		if t.key == key {
			return t.field(p)
		}
	}
	return nil
}

// errUnknown is what a key's decoder returns for a key it does not know.
var errUnknown = errors.New("unknown key")

// placed is an error that names its own file and line already.
type placed struct{ error }

// eachKey reads a mapping key by key with decode: a key given twice, an
// unknown key (errUnknown, with the keys known) and a bad value are each
// an error on their own line. what names the mapping in messages; want
// says what it holds, for a node that is no mapping.
func eachKey(path, what, want string, m *yaml.Node, known func() []string, decode func(key string, v *yaml.Node) error) error {
	if m.Kind != yaml.MappingNode {
		return fileError(path, m.Line, "%s: want a mapping of keys such as %s", what, want)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if seen[k.Value] {
			return fileError(path, k.Line, "%s: key %q repeated", what, k.Value)
		}
		seen[k.Value] = true
		err := decode(k.Value, v)
		var pl placed
		switch {
		case err == nil:
		case err == errUnknown:
			return fileError(path, k.Line, "%s: unknown key %q (known keys: %s)", what, k.Value, strings.Join(known(), ", "))
		case errors.As(err, &pl):
			return pl.error
		default:
			return fileError(path, v.Line, "%s: %s: %v", what, k.Value, err)
		}
	}
	return nil
}

func scalar(v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", errors.New("want a single value")
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return v.Value, nil
}

func integer(v *yaml.Node, lo, hi int) (int, error) {
	s, err := scalar(v)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d out of range %d-%d", n, lo, hi)
	}
	return n, nil
}

func boolean(v *yaml.Node) (bool, error) {
	s, err := scalar(v)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("%q: want true or false", s)
}

func port(v *yaml.Node) (uint16, error) {
	n, err := integer(v, 1, 65535)
	return uint16(n), err
}

func duration(v *yaml.Node) (Duration, error) {
	s, err := scalar(v)
	if err != nil {
		return 0, err
	}
	return ParseDuration(s)
}

// period reads a window length with its unit ("30s"): a bare number would
// be milliseconds elsewhere in this file, which is never meant here.
func period(v *yaml.Node) (Duration, error) {
	s, err := scalar(v)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a duration with its unit, such as 30s", s)
	}
	return Duration(d), nil
}

func stringList(v *yaml.Node) ([]string, error) {
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!str" || v.Tag == "!!int") && strings.TrimSpace(v.Value) != "" {
		// "7000,8000:udp" (or with spaces), as on the command line.
		out := strings.FieldsFunc(v.Value, func(r rune) bool { return r == ',' || r == ' ' })
		if len(out) > 0 {
			return out, nil
		}
	}
	if v.Kind != yaml.SequenceNode {
		return nil, errors.New(`want a list such as ["7000", "8000:udp", "9000:tcp:fin"], or a string such as "7000,8000:udp"`)
	}
	out := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		if item.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("item at line %d: want a single knock such as 7000 or \"8000:udp\"", item.Line)
		}
		out = append(out, item.Value)
	}
	return out, nil
}

// Names returns the profile names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Resolve returns the named profile with the file's defaults applied.
func (f *File) Resolve(name string) (Profile, bool) {
	p, ok := f.Profiles[name]
	if !ok {
		return Profile{}, false
	}
	return p.WithDefaults(f.Defaults), true
}

// Get returns the named profile with the file's defaults applied, or a
// NotFoundError that lists the profiles there are.
func (f *File) Get(name string) (Profile, error) {
	if p, ok := f.Resolve(name); ok {
		return p, nil
	}
	return Profile{}, f.NotFound(name)
}

// profilesNode returns the mapping under "profiles:", creating the
// document and the key when the file has none.
func (f *File) profilesNode() *yaml.Node {
	f.fullDoc()
	if f.doc == nil || len(f.doc.Content) == 0 {
		f.doc = &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	root := f.doc.Content[0]
	if root.Kind != yaml.MappingNode { // an empty document ("~")
		*root = yaml.Node{Kind: yaml.MappingNode}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == keyProfiles {
			v := root.Content[i+1]
			if v.Kind != yaml.MappingNode {
				*v = yaml.Node{Kind: yaml.MappingNode}
			}
			return v
		}
	}
	v := &yaml.Node{Kind: yaml.MappingNode}
	root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: keyProfiles}, v)
	return v
}

// quoteSequence writes every knock of an encoded profile in double quotes,
// as the documentation shows them ("7000", "8000:udp"), instead of the
// encoder's mix of bare, single- and double-quoted items.
func quoteSequence(m *yaml.Node) {
	for _, key := range []string{"sequence", "close_sequence"} {
		if i := find(m, key); i >= 0 {
			for _, item := range m.Content[i+1].Content {
				item.Style = yaml.DoubleQuotedStyle
			}
		}
	}
}

// find returns the index of name's key in the profiles mapping, or -1.
func find(m *yaml.Node, name string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return i
		}
	}
	return -1
}

// Put adds or replaces a profile. It is validated first, with the file's
// defaults applied, so a bad profile never reaches the file.
func (f *File) Put(name string, p Profile) error {
	if err := ValidateName(name, nil); err != nil {
		return err
	}
	if err := p.WithDefaults(f.Defaults).Validate(false); err != nil {
		return fmt.Errorf("profile %q: %w", name, err)
	}
	var v yaml.Node
	if err := v.Encode(p); err != nil {
		return err
	}
	quoteSequence(&v)
	m := f.profilesNode()
	if i := find(m, name); i >= 0 {
		// Keep the comments that were attached to the old value.
		old := m.Content[i+1]
		v.HeadComment, v.LineComment, v.FootComment = old.HeadComment, old.LineComment, old.FootComment
		m.Content[i+1] = &v
	} else {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, &v)
	}
	f.Profiles[name] = p
	return nil
}

// Remove deletes a profile; it is an error when there is none of that name.
func (f *File) Remove(name string) error {
	if _, ok := f.Profiles[name]; !ok {
		return f.NotFound(name)
	}
	m := f.profilesNode()
	if i := find(m, name); i >= 0 {
		m.Content = slices.Delete(m.Content, i, i+2)
	}
	delete(f.Profiles, name)
	return nil
}

// Rename gives a profile a new name, in place.
func (f *File) Rename(old, name string) error {
	p, ok := f.Profiles[old]
	if !ok {
		return f.NotFound(old)
	}
	if err := ValidateName(name, nil); err != nil {
		return err
	}
	if _, clash := f.Profiles[name]; clash {
		return fmt.Errorf("profile %q already exists in %s", name, f.Path)
	}
	m := f.profilesNode()
	if i := find(m, old); i >= 0 {
		m.Content[i].Value = name
	}
	delete(f.Profiles, old)
	f.Profiles[name] = p
	return nil
}

// NotFoundError says a profile is not in the file.
type NotFoundError struct {
	Name, Path string
	Known      []string
}

func (e *NotFoundError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("no profile %q: %s holds no profiles (add one with: knock profile add)", e.Name, e.Path)
	}
	return fmt.Sprintf("no profile %q in %s (profiles: %s)", e.Name, e.Path, strings.Join(e.Known, ", "))
}

// NotFound is the error for a profile the file lacks, listing those it has.
func (f *File) NotFound(name string) error {
	return &NotFoundError{Name: name, Path: f.Path, Known: f.Names()}
}

// Marshal renders the file, with two-space indentation.
func (f *File) Marshal() ([]byte, error) {
	f.fullDoc()
	if f.doc == nil {
		f.profilesNode()
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f.doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MarshalProfile renders one profile as "profile show" prints it.
func MarshalProfile(name string, p Profile) ([]byte, error) {
	var v yaml.Node
	if err := v.Encode(p); err != nil {
		return nil, err
	}
	quoteSequence(&v)
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: name}, &v}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// ParseProfile reads one profile in "profile show" form (the name as the
// only top-level key), as "profile edit" gets it back from the editor.
func ParseProfile(path string, data []byte) (string, Profile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if m := yamlLineRE().FindStringSubmatch(err.Error()); m != nil {
			return "", Profile{}, fmt.Errorf("%s:%s: not valid YAML: %s", path, m[1], m[2])
		}
		return "", Profile{}, fmt.Errorf("%s: not valid YAML: %w", path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode || len(doc.Content[0].Content) != 2 {
		return "", Profile{}, fmt.Errorf("%s: want exactly one profile: NAME: {host: ..., sequence: [...]}", path)
	}
	k, v := doc.Content[0].Content[0], doc.Content[0].Content[1]
	p, err := decodeProfile(path, fmt.Sprintf("profile %q", k.Value), v)
	if err != nil {
		return "", Profile{}, err
	}
	// Partial: the file's defaults may supply the host or the sequence;
	// the caller's Put checks the whole.
	if err := p.Validate(true); err != nil {
		return "", Profile{}, fileError(path, keyLine(v, err, k.Line), "profile %q: %v", k.Value, err)
	}
	return k.Value, p, nil
}

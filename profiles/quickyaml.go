package profiles

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// quickParse reads the plain YAML that knock writes, and the simple hand
// edits of it, into the very node tree yaml.v3 gives for it, and refuses
// (ok false) everything else, which yaml.v3 then reads. `knock PROFILE` is
// a whole process per knock, and in a fresh process yaml.v3 touches some
// fifty pages of code and data to read a profile: a quarter of a
// millisecond, more than the rest of the command's own work.
// FuzzQuickParse holds it to yaml.v3, node for node (comments aside: a
// tree from here is only read, never written back).
//
// What it takes: a block mapping at the top and nested block mappings
// below, keys that are plain words, values that are plain scalars (a
// string starting with a letter or non-ASCII; a decimal integer; an IPv4
// address; a duration such as 250ms), quoted scalars without escapes,
// flow sequences of those on one line, block sequences of them, blank
// lines and comments. No tabs, CRs, anchors, tags, document markers,
// multi-line scalars or empty values.
func quickParse(data []byte) (*yaml.Node, bool) {
	q := quick{data: data}
	if len(data) == 0 || !utf8.Valid(data) {
		return nil, false
	}
	// Every character, comments included: yaml.v3 refuses control
	// characters anywhere, and reads some others as line breaks.
	if !printable(data) {
		return nil, false
	}
	q.next()
	if q.eof || q.indent != 0 {
		return nil, false
	}
	root, ok := q.mapping(0)
	if !ok || !q.eof {
		return nil, false
	}
	return &yaml.Node{Kind: yaml.DocumentNode, Line: root.Line, Column: root.Column, Content: []*yaml.Node{root}}, true
}

// quick is quickParse's cursor: the current content line (blank and
// comment lines skipped), its number and indentation.
type quick struct {
	data   []byte
	pos    int    // start of the line after the current one
	line   []byte // the current line, without its newline
	num    int    // its 1-based number
	indent int
	eof    bool
}

// next moves to the next line that holds anything but a comment.
func (q *quick) next() {
	for q.pos < len(q.data) {
		end := bytes.IndexByte(q.data[q.pos:], '\n')
		var l []byte
		if end < 0 {
			l, q.pos = q.data[q.pos:], len(q.data)
		} else {
			l, q.pos = q.data[q.pos:q.pos+end], q.pos+end+1
		}
		q.num++
		i := skipSpaces(l, 0)
		if i == len(l) || l[i] == '#' {
			continue
		}
		q.line, q.indent = l, i
		return
	}
	q.line, q.eof = nil, true
}

// mapping reads a block mapping whose keys stand at indent.
func (q *quick) mapping(indent int) (*yaml.Node, bool) {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: q.num, Column: indent + 1}
	for !q.eof && q.indent == indent {
		l := q.line
		colon := bytes.IndexByte(l[indent:], ':')
		if colon <= 0 {
			return nil, false
		}
		colon += indent
		key := l[indent:colon]
		if !quickKey(key) {
			return nil, false
		}
		tag, ok := plainTag(key)
		if !ok {
			return nil, false
		}
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(key), Line: q.num, Column: indent + 1}
		rest := l[colon+1:]
		var v *yaml.Node
		if blankOrComment(rest) {
			// The value is the block below: a mapping indented further,
			// or a sequence indented further or as far as the key.
			q.next()
			switch {
			case q.eof:
				return nil, false
			case q.indent >= indent && isDash(q.line[q.indent:]):
				v, ok = q.blockSequence(q.indent)
			case q.indent > indent:
				v, ok = q.mapping(q.indent)
			default:
				return nil, false
			}
			if !ok {
				return nil, false
			}
		} else {
			if rest[0] != ' ' {
				return nil, false
			}
			v, ok = q.inlineValue(l, skipSpaces(l, colon+1))
			if !ok {
				return nil, false
			}
			q.next()
		}
		m.Content = append(m.Content, k, v)
	}
	// A line indented further than these keys but not below one of them
	// is not ours to read.
	if !q.eof && q.indent > indent {
		return nil, false
	}
	return m, true
}

// blockSequence reads "- item" lines at indent.
func (q *quick) blockSequence(indent int) (*yaml.Node, bool) {
	s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: q.num, Column: indent + 1}
	for !q.eof && q.indent == indent && isDash(q.line[indent:]) {
		start := skipSpaces(q.line, indent+2)
		if start == len(q.line) || q.line[start] == '[' || q.line[start] == '-' {
			return nil, false
		}
		v, ok := q.inlineValue(q.line, start)
		if !ok || v.Kind != yaml.ScalarNode {
			return nil, false
		}
		s.Content = append(s.Content, v)
		q.next()
	}
	if !q.eof && q.indent > indent {
		return nil, false
	}
	return s, true
}

func isDash(l []byte) bool { return len(l) >= 2 && l[0] == '-' && l[1] == ' ' }

// inlineValue reads the value that starts at l[start] and runs to the end
// of the line (or a comment): a scalar or a flow sequence.
func (q *quick) inlineValue(l []byte, start int) (*yaml.Node, bool) {
	if l[start] == '[' {
		return q.flowSequence(l, start)
	}
	v, end, ok := q.scalar(l, start, false)
	if !ok || !blankOrComment(l[end:]) {
		return nil, false
	}
	return v, true
}

// flowSequence reads [a, "b", 'c'] from l[start], all on this line.
func (q *quick) flowSequence(l []byte, start int) (*yaml.Node, bool) {
	s := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Tag: "!!seq", Line: q.num, Column: column(l, start)}
	i := skipSpaces(l, start+1)
	if i < len(l) && l[i] == ']' {
		return s, blankOrComment(l[i+1:])
	}
	for {
		if i >= len(l) {
			return nil, false
		}
		v, end, ok := q.scalar(l, i, true)
		if !ok {
			return nil, false
		}
		s.Content = append(s.Content, v)
		i = skipSpaces(l, end)
		if i >= len(l) {
			return nil, false
		}
		switch l[i] {
		case ',':
			i = skipSpaces(l, i+1)
		case ']':
			return s, blankOrComment(l[i+1:])
		default:
			return nil, false
		}
	}
}

// scalar reads a quoted or plain scalar at l[start]; inFlow stops a plain
// one at a comma or bracket. It returns the node and where it ended.
func (q *quick) scalar(l []byte, start int, inFlow bool) (*yaml.Node, int, bool) {
	n := &yaml.Node{Kind: yaml.ScalarNode, Line: q.num, Column: column(l, start)}
	switch c := l[start]; c {
	case '"', '\'':
		end := bytes.IndexByte(l[start+1:], c)
		if end < 0 {
			return nil, 0, false
		}
		v := l[start+1 : start+1+end]
		if c == '"' && bytes.IndexByte(v, '\\') >= 0 {
			return nil, 0, false
		}
		n.Tag, n.Value = "!!str", string(v)
		n.Style = yaml.DoubleQuotedStyle
		if c == '\'' {
			n.Style = yaml.SingleQuotedStyle
		}
		end += start + 2
		// A quoted scalar is followed by white space, the end, or (in a
		// flow) a separator.
		if end < len(l) && l[end] != ' ' && (!inFlow || (l[end] != ',' && l[end] != ']')) {
			return nil, 0, false
		}
		return n, end, true
	}
	end := start
	for end < len(l) {
		c := l[end]
		if c == ' ' && end+1 < len(l) && l[end+1] == '#' {
			break
		}
		if inFlow && (c == ',' || c == ']' || c == ' ') {
			break
		}
		if c == ':' {
			// "a:b" is one scalar; ": " would start a mapping.
			if end+1 == len(l) || l[end+1] == ' ' || (inFlow && (l[end+1] == ',' || l[end+1] == ']')) {
				return nil, 0, false
			}
		} else if !plainChar(c, inFlow) {
			return nil, 0, false
		}
		end++
	}
	v := bytes.TrimRight(l[start:end], " ")
	if len(v) == 0 {
		return nil, 0, false
	}
	tag, ok := plainTag(v)
	if !ok {
		return nil, 0, false
	}
	n.Tag, n.Value = tag, string(v)
	return n, start + len(v), true
}

// plainChar is a byte quickParse takes inside a plain scalar: letters,
// digits, UTF-8, and the punctuation of host names, addresses, ports,
// durations and plain prose; in a flow sequence, no white space or
// prose punctuation. (YAML allows more; yaml.v3 reads it.)
func plainChar(c byte, inFlow bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		return true
	case strings.IndexByte("._/@+-", c) >= 0:
		return true
	case !inFlow && strings.IndexByte(" ,()'=~;", c) >= 0:
		return true
	}
	return false
}

// plainTag is the tag yaml.v3 resolves a plain scalar to, for the ones
// whose tag is plain to see; ok false for the rest.
func plainTag(v []byte) (string, bool) {
	c := v[0]
	switch {
	case c >= 0x80:
		return "!!str", true
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		switch string(v) {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return "!!bool", true
		case "null", "Null", "NULL":
			return "!!null", true
		}
		return "!!str", true
	case c >= '0' && c <= '9':
		return digitTag(v)
	}
	return "", false
}

// digitTag tells a decimal integer (no leading zero, which yaml.v3 reads as
// octal) from the strings that only start with digits: an IPv4 address
// (two dots or more: neither a number nor a timestamp) or a duration
// (digits with a unit).
func digitTag(v []byte) (string, bool) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == len(v) {
		if (v[0] == '0' && len(v) > 1) || len(v) > 18 {
			return "", false
		}
		return "!!int", true
	}
	dots, digits := 0, true
	for _, c := range v[i:] {
		switch {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			digits = false
		}
	}
	if digits && dots >= 2 && v[len(v)-1] != '.' && !bytes.Contains(v, []byte("..")) {
		return "!!str", true
	}
	rest := v[i:]
	if len(rest) > 1 && rest[0] == '.' {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 1 {
			return "", false
		}
		rest = rest[j:]
	}
	switch string(rest) {
	case "ns", "us", "ms", "s", "m", "h":
		return "!!str", true
	}
	return "", false
}

// quickKey is a key quickParse takes: letters, digits, '_', '-' and '.',
// starting with a letter or digit, and short (yaml.v3 refuses a key of
// over 1024 characters).
func quickKey(k []byte) bool {
	if len(k) == 0 || len(k) > 128 {
		return false
	}
	for i, c := range k {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (i > 0 && (c == '_' || c == '-' || c == '.'))
		if !ok {
			return false
		}
	}
	return true
}

// printable is text yaml.v3 takes as it is: lines of printable ASCII and
// of the non-ASCII characters it neither refuses nor reads as a line
// break or a byte order mark, ended by '\n'.
func printable(v []byte) bool {
	for _, r := range string(v) {
		switch {
		case r >= 0x20 && r <= 0x7e, r == '\n':
		case r >= 0xa0 && r <= 0xd7ff && r != 0x2028 && r != 0x2029:
		case r >= 0xe000 && r <= 0xfffd && r != 0xfeff:
		case r >= 0x10000 && r <= 0x10ffff:
		default:
			return false
		}
	}
	return true
}

// blankOrComment is the rest of a line after a value: nothing, or a
// comment after white space.
func blankOrComment(rest []byte) bool {
	i := skipSpaces(rest, 0)
	return i == len(rest) || (rest[i] == '#' && i > 0)
}

// column is yaml.v3's column of l[i]: 1-based, in characters.
func column(l []byte, i int) int { return utf8.RuneCount(l[:i]) + 1 }

func skipSpaces(l []byte, i int) int {
	for i < len(l) && l[i] == ' ' {
		i++
	}
	return i
}

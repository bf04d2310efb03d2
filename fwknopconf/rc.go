package fwknopconf

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// RC is a ~/.fwknoprc: the client's settings in [name] stanzas of
// "NAME value" lines, [default] applying to every other stanza.
type RC struct {
	Default *Stanza // nil when the file has none
	Stanzas []*Stanza
}

// Stanza is one [name] of a .fwknoprc, its directives in file order.
type Stanza struct {
	Name       string
	Line       int
	Directives []Directive
}

// Directive is one "NAME value" line; NAME is upper-cased, a trailing
// colon dropped, as fwknop reads it.
type Directive struct {
	Key, Value string
	Line       int
}

// ParseRC reads a .fwknoprc; path is for error messages. A line outside
// a stanza, or a stanza header without its ']', is an error naming the
// line.
func ParseRC(path string, data []byte) (*RC, error) {
	rc := &RC{}
	var cur *Stanza
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("%s:%d: stanza header %q has no closing ]", path, n, line)
			}
			cur = &Stanza{Name: strings.TrimSpace(line[1 : len(line)-1]), Line: n}
			if cur.Name == "default" {
				rc.Default = cur
			} else {
				rc.Stanzas = append(rc.Stanzas, cur)
			}
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d: %q is outside any [stanza]", path, n, line)
		}
		key, value := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			key, value = line[:i], line[i:]
		}
		key = strings.ToUpper(strings.TrimSuffix(key, ":"))
		if key == "" {
			return nil, fmt.Errorf("%s:%d: %q: want NAME value", path, n, line)
		}
		cur.Directives = append(cur.Directives, Directive{key, strings.TrimSpace(value), n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rc, nil
}

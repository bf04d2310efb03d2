// Package safetext makes text that came from a file or a packet safe to
// show on a terminal: control characters (escape sequences among them),
// invalid UTF-8 and the Unicode controls that reorder or hide text are
// written as Go escapes, so a name read from an imported file or a log
// line built from a DNS answer can never move the cursor, retitle the
// window or make one thing look like another.
package safetext

import (
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every rune that is not safe to print (see
// safeRune) written as a Go escape (\x1b, \u202e); a string that needs
// none is returned as it is, without allocating.
func Escape(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !safeRune(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case safeRune(r, size):
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// Safe reports whether a line of a file holds nothing Escape would change
// but tabs, which parsers read as blanks.
func Safe(line string) bool {
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		if r != '\t' && !safeRune(r, size) {
			return false
		}
		i += size
	}
	return true
}

// Lines is Escape for text of several lines: newlines and tabs stay.
func Lines(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && !safeRune(r, 1) }) && utf8.ValidString(s) {
		return s
	}
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		fields := strings.Split(p, "\t")
		for j, f := range fields {
			fields[j] = Escape(f)
		}
		parts[i] = strings.Join(fields, "\t")
	}
	return strings.Join(parts, "\n")
}

// safeRune reports whether r (of size bytes, for telling invalid UTF-8
// from a real U+FFFD) prints as itself: not a control character (C0, DEL,
// C1), not a format character such as the bidirectional overrides and
// zero-width joiners, not a line or paragraph separator.
func safeRune(r rune, size int) bool {
	if r < utf8.RuneSelf {
		return r >= 0x20 && r != 0x7f
	}
	if r == utf8.RuneError && size == 1 {
		return false
	}
	return !unicode.Is(unicode.Cc, r) && !unicode.Is(unicode.Cf, r) && r != '\u2028' && r != '\u2029'
}

// Writer escapes what is written through it as Lines does (newlines and
// tabs pass): for messages that name what a file held. Each Write is
// taken as whole lines, as fmt.Fprintf writes them.
type Writer struct{ W io.Writer }

func (w Writer) Write(p []byte) (int, error) {
	s := string(p)
	if _, err := io.WriteString(w.W, Lines(s)); err != nil {
		return 0, err
	}
	return len(p), nil
}

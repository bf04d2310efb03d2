package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain name-1.2", "plain name-1.2"},
		{"café ☕", "café ☕"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"title\x1b]0;pwned\x07", `title\x1b]0;pwned\a`},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{"del\x7f", `del\x7f`},
		{"c1\u009b", `c1\u009b`},
		{"rtl\u202eexe.txt", `rtl\u202eexe.txt`},
		{"zw\u200bj", `zw\u200bj`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"real \ufffd", "real \ufffd"},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !Safe("\tsequence = 7000 # café") || Safe("a\x1bb") || Safe("a\xffb") || Safe("a\u202eb") {
		t.Error("Safe")
	}
	if got := Lines("one\x1b\n\ttwo\n"); got != "one\\x1b\n\ttwo\n" {
		t.Errorf("Lines = %q", got)
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("\x1b[2J")
	f.Add("ok")
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !utf8.ValidString(e) {
			t.Fatalf("Escape(%q) = %q: invalid UTF-8", s, e)
		}
		for _, r := range e {
			if !safeRune(r, utf8.RuneLen(r)) {
				t.Fatalf("Escape(%q) = %q keeps %U", s, e, r)
			}
		}
		if l := Lines(s); strings.Count(l, "\n") != strings.Count(s, "\n") {
			t.Fatalf("Lines(%q) = %q changed the lines", s, l)
		}
	})
}

package knockdconf

import (
	"fmt"
	"strings"
)

// The reference of knockd.conf's directives, made from the table in the
// three forms the documentation needs: text (knockd --help), Markdown
// (README) and roff (the knockd.conf(5) man page).

// left is how a directive is written: "Seq_Timeout = seconds (Timeout)".
func (d *Directive) left() string {
	s := d.Name
	if d.Syntax != "" {
		s += " = " + d.Syntax
	}
	if len(d.Aliases) > 0 {
		s += " (" + strings.Join(d.Aliases, ", ") + ")"
	}
	return s
}

// doc is the directive's doc line, marked when knockd 0.8 lacks it.
func (d *Directive) doc() string {
	if d.Ours {
		return d.Doc + " [not in knockd 0.8]"
	}
	return d.Doc
}

// ReferenceText is the reference of one section for a terminal: each
// directive, then its doc wrapped under it at width columns.
func ReferenceText(section Section, width int) string {
	var b strings.Builder
	for _, d := range directives() {
		if d.Section != section {
			continue
		}
		fmt.Fprintf(&b, "    %s\n", d.left())
		for _, l := range wrap(d.doc(), width-8) {
			fmt.Fprintf(&b, "        %s\n", l)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// wrap breaks s into lines of at most width bytes at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// ReferenceMarkdown is the reference as a Markdown table per section.
func ReferenceMarkdown() string {
	var b strings.Builder
	for _, sec := range []Section{OptionsSection, DoorSection} {
		if sec == OptionsSection {
			b.WriteString("`[options]`, once:\n\n")
		} else {
			b.WriteString("\nA door, `[name]`, any number:\n\n")
		}
		b.WriteString("| directive | what it does |\n| --- | --- |\n")
		for _, d := range directives() {
			if d.Section != sec {
				continue
			}
			doc := strings.ReplaceAll(d.Doc, "|", `\|`)
			if d.Ours {
				doc += " *(not in knockd 0.8)*"
			}
			fmt.Fprintf(&b, "| `%s` | %s |\n", strings.ReplaceAll(d.left(), "|", `\|`), doc)
		}
	}
	return b.String()
}

// ReferenceRoff is the reference as man page paragraphs (.TP) of one
// section.
func ReferenceRoff(section Section) string {
	var b strings.Builder
	for _, d := range directives() {
		if d.Section != section {
			continue
		}
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roffEscape(d.left()), roffEscape(d.doc()))
	}
	return b.String()
}

// roffEscape keeps a text from being read as roff: backslashes, and a
// leading dot or quote.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

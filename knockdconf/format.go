package knockdconf

import (
	"fmt"
	"strings"
)

// Style is how Format writes a configuration.
type Style struct {
	// Width pads keys shorter than it so that a door's "=" line up; the
	// knock of a time-based door (its Sequence_* lines and Seq_Timeout)
	// lines up on its own. 0: "key = value".
	Width int
	// HideSecrets writes a Sequence_Secret as "(20 bytes, given inline)"
	// or "(20 bytes, from FILE)", never the secret.
	HideSecrets bool
	// RoundTrip writes every value Parse needs to give the same Config
	// back, such as a Cmd_Timeout of a door with no Stop_Command.
	RoundTrip bool
	// Note, when set, gives the comment lines (without "# ") written
	// before a door's directive, key as Directive.Key spells it.
	Note func(d *Door, key string) []string
}

// The styles of this project's programs.
var (
	// Canonical is what Parse reads back into the same Config.
	Canonical = Style{RoundTrip: true}
	// Listing is knockd --check's account of the doors it read.
	Listing = Style{Width: 13, HideSecrets: true}
	// Sample is a door to paste into a knockd.conf, as knock profile
	// export --knockd writes one (with its Note).
	Sample = Style{Width: 15}
)

// timeWidth lines up a time-based door's knock: len("sequence_protocol").
const timeWidth = 17

// Format writes c: its [options] when any is set, then its doors.
func Format(c *Config, s Style) string {
	var b strings.Builder
	var opts []string
	for _, d := range directives() {
		if d.Section != OptionsSection {
			continue
		}
		if v, ok := d.getOption(c); ok {
			opts = append(opts, line(d.Key(), v, d.Syntax == "", s.Width))
		}
	}
	if len(opts) > 0 {
		b.WriteString("[options]\n")
		b.WriteString(strings.Join(opts, ""))
	}
	for _, d := range c.Doors {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(FormatDoor(d, s))
	}
	return b.String()
}

// FormatDoor writes one door: its header and directives, in the table's
// order.
func FormatDoor(door *Door, s Style) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]\n", door.Name)
	for _, d := range directives() {
		if d.Section != DoorSection {
			continue
		}
		v, ok := d.getDoor(door, s)
		if !ok {
			continue
		}
		key := d.Key()
		if s.Note != nil {
			for _, n := range s.Note(door, key) {
				fmt.Fprintf(&b, "\t# %s\n", n)
			}
		}
		w := s.Width
		if door.Time != nil && s.Width > 0 && (strings.HasPrefix(key, "sequence_") || key == "seq_timeout") {
			w = max(w, timeWidth)
		}
		b.WriteString(line(key, v, false, w))
	}
	return b.String()
}

// line is one directive: "\tkey = value", the key padded to width, or
// "\tkey" for a directive that takes no value.
func line(key, value string, bare bool, width int) string {
	if bare {
		return "\t" + key + "\n"
	}
	return fmt.Sprintf("\t%-*s = %s\n", width, key, value)
}

package transfer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/knocktools/knock/knockdconf"
	"github.com/knocktools/knock/profiles"
)

// Item is one profile an import would save, or why it cannot be one.
type Item struct {
	Where   string // where it comes from: "FILE:LINE: door [ssh]", "FILE: sequence 2 \"x\""
	Name    string // the profile name it gets
	Orig    string // its name there; a Name that differs is reported
	Profile profiles.Profile
	Skip    error    // set: not imported, and why
	Notes   []string // said once it is saved
}

// Options are the choices of an import.
type Options struct {
	Force    bool     // replace profiles of the same names
	Strict   bool     // all or nothing: an item that cannot be imported stops the whole import
	Reserved []string // words that are not profile names (knock's subcommands)
}

// Report is what an import did, for the person who asked for it.
type Report struct {
	Lines    []string // each skipped item with where and why, each rename and note, in order
	Imported []string
	Skipped  int
}

// Apply saves into f the items that can be saved, under the one policy
// of every import: import what maps; name each item that does not, with
// where it is and why; an item whose name a profile has already is
// skipped unless Force. It fails only when nothing was imported, or with
// Strict when anything was skipped: then nothing is saved (f is left as
// it was and the caller's Update writes nothing). unit names the items
// in the error ("door", "sequence", "stanza").
func Apply(f *profiles.File, items []Item, o Options, unit string) (Report, error) {
	var r Report
	skip := func(it Item, why error) {
		r.Skipped++
		r.Lines = append(r.Lines, fmt.Sprintf("%s: not imported: %v", it.Where, why))
	}
	saved := map[string]profiles.Profile{}
	for _, it := range items {
		if it.Skip != nil {
			skip(it, it.Skip)
			continue
		}
		if _, exists := f.Profiles[it.Name]; exists && !o.Force {
			skip(it, fmt.Errorf("profile %q already exists (replace with --force)", it.Name))
			continue
		}
		if _, twice := saved[it.Name]; twice {
			skip(it, fmt.Errorf("profile %q was made of an item above", it.Name))
			continue
		}
		if it.Name != it.Orig {
			r.Lines = append(r.Lines, fmt.Sprintf("%s: saved as profile %q (a profile name has letters, digits, '-', '_' and '.', and is no subcommand)", it.Where, it.Name))
		}
		saved[it.Name] = it.Profile
		r.Lines = append(r.Lines, it.Notes...)
		r.Imported = append(r.Imported, it.Name)
	}
	switch {
	case len(items) == 0:
		return r, fmt.Errorf("nothing to import: no %s found", unit)
	case o.Strict && r.Skipped > 0:
		r.Imported = nil
		return r, fmt.Errorf("--strict: %d %s(s) could not be imported, so none was (see above)", r.Skipped, unit)
	case len(r.Imported) == 0:
		return r, fmt.Errorf("nothing imported: none of the %d %s(s) could be (see above)", r.Skipped, unit)
	}
	for _, name := range r.Imported {
		if err := f.Put(name, saved[name]); err != nil {
			return Report{}, err
		}
	}
	return r, nil
}

// Summary is the report's last line.
func (r Report) Summary() string {
	return fmt.Sprintf("imported %d profile(s): %s", len(r.Imported), strings.Join(r.Imported, ", "))
}

// FromKnockd makes an item of each door of a knockd.conf, knocked at
// host: a door whose commands another door undoes brings that door along
// as its close_sequence (a note names the pair); doors that use
// One_Time_Sequences or Sequence_Secret cannot be profiles.
func FromKnockd(file, host string, reserved []string) ([]Item, error) {
	if err := profiles.ValidateHost(host); err != nil {
		return nil, fmt.Errorf("--host %q: %w", host, err)
	}
	conf, err := knockdconf.Load(file)
	if err != nil {
		return nil, err
	}
	closeOf := map[*knockdconf.Door]*knockdconf.Door{}
	closing := map[*knockdconf.Door]bool{}
	for _, pair := range PairCloseDoors(conf.Doors) {
		closeOf[pair.Open], closing[pair.Close] = pair.Close, true
	}
	var items []Item
	for _, d := range conf.Doors {
		if closing[d] {
			continue // part of the profile of the door it closes
		}
		it := Item{Where: fmt.Sprintf("%s:%d: door [%s]", file, d.Line, d.Name), Orig: d.Name, Name: ImportName(d.Name)}
		it.Profile, it.Skip = ImportKnockd(d, host, file)
		if cl := closeOf[d]; cl != nil && it.Skip == nil {
			it.Profile.CloseSequence = CloseSequenceOf(d, cl)
			if err := it.Profile.Validate(false); err != nil {
				it.Skip = fmt.Errorf("with its close door [%s] (line %d): %w", cl.Name, cl.Line, err)
			}
			it.Notes = append(it.Notes, fmt.Sprintf("paired as a close sequence: [%s] (line %d) closes [%s] (line %d)", cl.Name, cl.Line, d.Name, d.Line))
		}
		if it.Skip == nil {
			if err := profiles.ValidateName(it.Name, reserved); err != nil {
				it.Skip = err
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// FromKnockOnPorts makes an item of each sequence of a Knock on Ports
// export.
func FromKnockOnPorts(file string, data []byte, reserved []string) ([]Item, error) {
	seqs, err := ParseKnockOnPorts(file, data)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	items := make([]Item, 0, len(seqs))
	for _, s := range seqs {
		it := Item{Where: fmt.Sprintf("%s: sequence %d %q", file, s.Index, s.Name), Orig: s.Name, Profile: s.Profile, Skip: s.Err}
		if s.Err == nil {
			it.Name = kopProfileName(s, reserved, taken)
			taken[it.Name] = true
			for _, w := range s.Warnings {
				it.Notes = append(it.Notes, "warning: "+it.Where+": "+w)
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// kopProfileName makes a valid profile name, unused by this import, of a
// sequence's name.
func kopProfileName(s KnockOnPortsSequence, reserved []string, taken map[string]bool) string {
	base := ImportName(s.Name)
	if base == "" {
		base = "knockonports-" + strconv.Itoa(s.Index)
	}
	if profiles.ValidateName(base, reserved) != nil {
		base += "-kop"
	}
	name := base
	for n := 2; taken[name]; n++ {
		name = base + "-" + strconv.Itoa(n)
	}
	return name
}

// FromFwknoprc makes an SPA item of each stanza of a ~/.fwknoprc.
func FromFwknoprc(file string, data []byte, reserved []string) ([]Item, error) {
	stanzas, err := ParseFwknoprc(file, data)
	if err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(stanzas))
	for _, st := range stanzas {
		it := Item{Where: fmt.Sprintf("%s:%d: [%s]", file, st.Line, st.Name), Orig: st.Name, Profile: st.Profile, Skip: st.Err}
		var where *whereError
		if errors.As(st.Err, &where) {
			it.Where, it.Skip = where.where, where.err // the line of the directive at fault
		}
		if it.Name = ImportName(st.Name); profiles.ValidateName(it.Name, reserved) != nil {
			it.Name += "-spa"
		}
		if st.Err == nil {
			if len(st.Ignored) > 0 {
				it.Notes = append(it.Notes, fmt.Sprintf("%s: [%s]: ignored: %s", file, st.Name, strings.Join(st.Ignored, ", ")))
			}
			if !st.Profile.SPA.HasHMAC() {
				it.Notes = append(it.Notes, fmt.Sprintf("warning: profile %q has no HMAC key: its packets are not authenticated", it.Name))
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// whereError is an error of a stanza at a line of its own: where names
// file, line and stanza.
type whereError struct {
	where string
	err   error
}

func (e *whereError) Error() string { return e.where + ": " + e.err.Error() }
func (e *whereError) Unwrap() error { return e.err }

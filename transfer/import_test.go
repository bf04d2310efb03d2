package transfer

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/knocktools/knock/profiles"
)

// The one policy of every import, without cobra: what maps is saved,
// what does not is named with where and why, the import fails only when
// nothing was saved, and --strict saves nothing unless everything maps.
func TestApplyPolicy(t *testing.T) {
	good := func(name string) Item {
		return Item{Where: "f:1: door [" + name + "]", Name: name, Orig: name, Profile: profiles.Profile{Host: "10.77.0.2", Sequence: []string{"7000"}}}
	}
	bad := Item{Where: "f:9: door [x]", Name: "x", Orig: "x", Skip: errors.New("it uses One_Time_Sequences")}
	for _, tt := range []struct {
		name     string
		items    []Item
		existing []string
		o        Options
		saved    []string
		err      string
		lines    []string
	}{
		{"all map", []Item{good("a"), good("b")}, nil, Options{}, []string{"a", "b"}, "", nil},
		{"some map", []Item{good("a"), bad}, nil, Options{}, []string{"a"}, "", []string{"f:9: door [x]: not imported: it uses One_Time_Sequences"}},
		{"none maps", []Item{bad}, nil, Options{}, nil, "nothing imported: none of the 1 door(s) could be", nil},
		{"strict", []Item{good("a"), bad}, nil, Options{Strict: true}, nil, "--strict: 1 door(s) could not be imported, so none was", nil},
		{"exists", []Item{good("a"), good("b")}, []string{"a"}, Options{}, []string{"b"}, "", []string{`f:1: door [a]: not imported: profile "a" already exists (replace with --force)`}},
		{"force", []Item{good("a")}, []string{"a"}, Options{Force: true}, []string{"a"}, "", nil},
		{"twice", []Item{good("a"), good("a")}, nil, Options{}, []string{"a"}, "", []string{`f:1: door [a]: not imported: profile "a" was made of an item above`}},
		{"renamed", []Item{{Where: "f:2: door [a b]", Name: "a-b", Orig: "a b", Profile: good("a").Profile}}, nil, Options{}, []string{"a-b"}, "", []string{`f:2: door [a b]: saved as profile "a-b"`}},
		{"empty", nil, nil, Options{}, nil, "nothing to import: no door found", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := profiles.Parse("p.yaml", []byte("profiles: {}\n"))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.existing {
				if err := f.Put(n, profiles.Profile{Host: "10.77.0.9", Sequence: []string{"1"}}); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Apply(f, tt.items, tt.o, "door")
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if strings.Join(r.Imported, ",") != strings.Join(tt.saved, ",") {
				t.Errorf("imported %v, want %v", r.Imported, tt.saved)
			}
			for _, n := range tt.saved {
				if p, err := f.Get(n); err != nil || p.Host != "10.77.0.2" {
					t.Errorf("profile %q not saved: %v %v", n, p, err)
				}
			}
			if err != nil {
				for _, n := range []string{"a", "b"} {
					if _, there := f.Profiles[n]; there && !slices.Contains(tt.existing, n) {
						t.Errorf("a failed import saved %q", n)
					}
				}
			}
			all := strings.Join(r.Lines, "\n")
			for _, l := range tt.lines {
				if !strings.Contains(all, l) {
					t.Errorf("lines %q lack %q", r.Lines, l)
				}
			}
		})
	}
}

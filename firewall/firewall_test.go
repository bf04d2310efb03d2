package firewall

import (
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fakeIPTables keeps one chain's rules as iptables would see them.
type fakeIPTables struct {
	rules []string
	calls []string
}

func (f *fakeIPTables) Run(name string, args ...string) (string, string, error) {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	if len(args) < 3 {
		return "", "", errors.New("bad call")
	}
	op, spec := args[1], name+" "+strings.Join(args[3:], " ")
	switch op {
	case "-C":
		if slices.Contains(f.rules, spec) {
			return "", "", nil
		}
	case "-I":
		f.rules = append([]string{spec}, f.rules...)
		return "", "", nil
	case "-D":
		if i := slices.Index(f.rules, spec); i >= 0 {
			f.rules = slices.Delete(f.rules, i, i+1)
			return "", "", nil
		}
	case "-S":
		var out []string
		for _, r := range f.rules {
			if strings.HasPrefix(r, name+" ") {
				out = append(out, "-A INPUT "+strings.TrimPrefix(r, name+" "))
			}
		}
		return strings.Join(out, "\n"), "", nil
	}
	return "", "iptables: Bad rule (does a matching rule exist in that chain?).", errors.New("exit status 1")
}

func rule(src string) Rule {
	return Rule{Src: netip.MustParseAddr(src), Port: 22, Proto: "tcp", Chain: "INPUT", Comment: "knockd"}
}

func TestIPTablesIdempotent(t *testing.T) {
	fake := &fakeIPTables{rules: []string{"iptables -s 10.0.0.9 -p tcp -j DROP"}}
	b := &IPTables{Run: fake}
	for i, want := range []bool{true, false} {
		added, err := b.Open(rule("10.77.0.1"))
		if err != nil || added != want {
			t.Fatalf("open %d: added=%v err=%v", i, added, err)
		}
	}
	if n := len(fake.rules); n != 2 {
		t.Fatalf("%d rules after opening twice: %q", n, fake.rules)
	}
	// A copy added by hand (say by an older helper) goes too.
	fake.rules = append(fake.rules, fake.rules[0])
	if n, err := b.Close(rule("10.77.0.1")); err != nil || n != 2 {
		t.Fatalf("close removed %d, %v", n, err)
	}
	if n, err := b.Close(rule("10.77.0.1")); err != nil || n != 0 {
		t.Fatalf("second close removed %d, %v", n, err)
	}
	if len(fake.rules) != 1 || !strings.Contains(fake.rules[0], "DROP") {
		t.Fatalf("other rules touched: %q", fake.rules)
	}
	if _, err := b.Open(rule("fd77::1")); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fake.rules[0], "ip6tables -s fd77::1 ") {
		t.Fatalf("IPv6 rule went to %q", fake.rules[0])
	}
	listed, err := b.List("INPUT", "knockd")
	if err != nil || len(listed) != 1 || !strings.Contains(listed[0], "fd77::1") {
		t.Fatalf("list %q, %v", listed, err)
	}
}

func TestIPTablesReportsRealErrors(t *testing.T) {
	b := &IPTables{Run: runnerFunc(func(string, ...string) (string, string, error) {
		return "", "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied", errors.New("exit status 4")
	})}
	if _, err := b.Open(rule("10.77.0.1")); err == nil || !strings.Contains(err.Error(), "Permission denied") {
		t.Fatalf("err = %v", err)
	}
}

type runnerFunc func(string, ...string) (string, string, error)

func (f runnerFunc) Run(name string, args ...string) (string, string, error) { return f(name, args...) }

func TestValidate(t *testing.T) {
	ok := rule("10.77.0.1")
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(r *Rule){
		func(r *Rule) { r.Src = netip.Addr{} },
		func(r *Rule) { r.Src = netip.MustParseAddr("fe80::1%eth0") },
		func(r *Rule) { r.Port = 0 },
		func(r *Rule) { r.Proto = "icmp" },
		func(r *Rule) { r.Chain = "INPUT; reboot" },
		func(r *Rule) { r.Chain = "-j" },
		func(r *Rule) { r.Chain = strings.Repeat("A", 29) },
		func(r *Rule) { r.Comment = `knockd" accept` },
		func(r *Rule) { r.Comment = "" },
		func(r *Rule) { r.Comment = "$(reboot)" },
	}
	for i, mutate := range bad {
		r := ok
		mutate(&r)
		if err := r.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d (%+v): err = %v", i, r, err)
		}
	}
	for _, s := range []string{"10.77.0.1 ", " 10.77.0.1"} {
		if a, err := ParseSource(s); err != nil || a.String() != "10.77.0.1" {
			t.Errorf("ParseSource(%q) = %v, %v", s, a, err)
		}
	}
	// A mapped or compatible IPv6 source would open an IPv4 hole for a
	// forged IPv6 packet; the others are never a packet's real source.
	for _, s := range []string{"", "10.77.0.1/24", "host.example", "1.2.3.4;id",
		"::ffff:10.77.0.1", "::10.77.0.1", "::", "0.0.0.0", "224.0.0.1", "ff02::1", "255.255.255.255"} {
		if _, err := ParseSource(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSource(%q) accepted", s)
		}
	}
	if _, err := New("ufw", nil, nil); !errors.Is(err, ErrInvalid) {
		t.Error("unknown backend accepted")
	}
}

// FuzzRule feeds knockd fw's inputs (--src is a knocker's address from
// %IP%) through parsing and validation: whatever passes makes a rule whose
// every part is one plain token, so nothing can smuggle rule or shell
// syntax into the iptables arguments or the nft rule text.
func FuzzRule(f *testing.F) {
	f.Add("10.77.0.1", uint16(22), "tcp", "INPUT", "knockd")
	f.Add("fd77::1", uint16(2222), "udp", "input", "knockd:door-1")
	f.Add("fe80::1%eth0", uint16(1), "tcp", "x", "y")
	f.Add("1.2.3.4 accept;", uint16(22), "tcp", "INPUT", "a\" ; flush ruleset")
	f.Fuzz(func(t *testing.T, src string, port uint16, proto, chain, comment string) {
		addr, err := ParseSource(src)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseSource(%q): %v is not ErrInvalid", src, err)
			}
			return
		}
		r := Rule{Src: addr, Port: port, Proto: proto, Chain: chain, Comment: comment}
		if err := r.Validate(); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate(%+v): %v is not ErrInvalid", r, err)
			}
			return
		}
		for _, arg := range append([]string{r.Chain}, (&IPTables{}).spec(r)...) {
			if arg == "" || strings.ContainsFunc(arg, notPlain) {
				t.Fatalf("iptables argument %q of %+v", arg, r)
			}
		}
		text := (&NFT{}).match(r)
		fields := strings.Fields(text)
		if len(fields) != 9 || strings.Count(text, "\"") != 2 || strings.ContainsAny(text, ";{}#\n\\") {
			t.Fatalf("nft rule %q of %+v", text, r)
		}
	})
}

// notPlain reports a rune that no part of a rule may hold.
func notPlain(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:-", r))
}

// fakeNFT keeps our chain as nft would, listing each address as print
// spells it: nft's spelling of an address need not be ours.
type fakeNFT struct {
	rules     map[int]string // by handle
	next      int
	print     func(netip.Addr) string
	deleteNop bool // deletes report success and remove nothing
}

func (f *fakeNFT) Run(name string, args ...string) (string, string, error) {
	if f.rules == nil {
		f.rules = map[int]string{}
	}
	switch {
	case args[0] == "add":
		return "", "", nil
	case args[0] == "insert":
		f.next++
		f.rules[f.next] = strings.Join(args[5:], " ")
		return "", "", nil
	case args[0] == "delete":
		h, _ := strconv.Atoi(args[len(args)-1])
		if !f.deleteNop {
			delete(f.rules, h)
		}
		return "", "", nil
	case args[0] == "list" || args[0] == "-a":
		var out strings.Builder
		out.WriteString("table inet knockd {\n\tchain INPUT {\n\t\ttype filter hook input priority filter - 10; policy accept;\n")
		for _, h := range slices.Sorted(maps.Keys(f.rules)) {
			fields := strings.Fields(f.rules[h])
			fields[2] = f.print(netip.MustParseAddr(fields[2]))
			out.WriteString("\t\t" + strings.Join(fields, " "))
			if args[0] == "-a" {
				out.WriteString(" # handle " + strconv.Itoa(h))
			}
			out.WriteString("\n")
		}
		out.WriteString("\t}\n}\n")
		return out.String(), "", nil
	}
	return "", "unexpected", errors.New("exit status 1")
}

// Rules are matched by their parsed address, not by text: a rule whose
// address nft spells otherwise is still found, so it is neither added
// twice nor left open at close.
func TestNFTComparesParsedAddresses(t *testing.T) {
	expanded := func(a netip.Addr) string { return a.StringExpanded() }
	fake := &fakeNFT{print: expanded}
	b := &NFT{Run: fake}
	r := Rule{Src: netip.MustParseAddr("fd77::1"), Port: 22, Proto: "tcp", Chain: "INPUT", Comment: "knockd"}
	for i, want := range []bool{true, false} {
		if added, err := b.Open(r); err != nil || added != want {
			t.Fatalf("open %d: added=%v err=%v", i, added, err)
		}
	}
	if len(fake.rules) != 1 {
		t.Fatalf("%d rules after opening twice", len(fake.rules))
	}
	if n, err := b.Close(r); err != nil || n != 1 || len(fake.rules) != 0 {
		t.Fatalf("close removed %d (%v), %d left", n, err, len(fake.rules))
	}
	// A delete that reports success but leaves the rule is an error.
	fake.deleteNop = true
	b.Open(r)
	if _, err := b.Close(r); err == nil || !strings.Contains(err.Error(), "still in chain") {
		t.Fatalf("close of a rule that stayed: %v", err)
	}
}

// A delete that keeps succeeding without removing the rule ends with an
// error, not a loop.
func TestIPTablesCloseIsBounded(t *testing.T) {
	b := &IPTables{Run: runnerFunc(func(string, ...string) (string, string, error) { return "", "", nil })}
	if n, err := b.Close(rule("10.77.0.1")); err == nil || n != maxCopies {
		t.Fatalf("closed %d, %v", n, err)
	}
}

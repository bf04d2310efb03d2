package knockcmd

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock/client"
	"github.com/knocktools/knock/profiles"
	"github.com/knocktools/knock/spa"
)

// spaSend builds the SPA packet a profile describes and sends it to host,
// returning the address it went to. report gets the hit (never the keys).
func (a *app) spaSend(ctx context.Context, name string, p profiles.Profile, host string, dry bool, report func(client.Hit)) (netip.Addr, error) {
	pkt, err := a.spaBuild(ctx, name, &p, host)
	if err != nil {
		return netip.Addr{}, err
	}
	return spaSendPacket(ctx, p, host, pkt, dry, report)
}

// spaBuild builds the packet of profile p for host. With allow_ip
// resolve, our public address must be of the family the packet travels
// over: unless p names a family, host's first address chooses it, and p
// keeps it so that the packet goes over that family only.
func (a *app) spaBuild(ctx context.Context, name string, p *profiles.Profile, host string) (string, error) {
	if p.SPA.AllowIP == "resolve" && p.Family == 0 {
		dst, err := client.Resolve(ctx, net.DefaultResolver, host, 0)
		if err != nil {
			return "", err
		}
		p.Family = 4
		if !dst.Is4() {
			p.Family = 6
		}
	}
	return a.spaPacket(ctx, name, *p)
}

// spaSendPacket sends a packet built for profile p to host.
func spaSendPacket(ctx context.Context, p profiles.Profile, host, pkt string, dry bool, report func(client.Hit)) (netip.Addr, error) {
	k := &client.Knocker{Report: report}
	return k.SendSPA(ctx, host, client.SPA{Packet: pkt, Port: p.SPA.Port(), TCP: p.SPA.TCP()},
		client.Options{Family: p.Family, DryRun: dry})
}

// spaPacket builds the packet of an SPA profile.
func (a *app) spaPacket(ctx context.Context, name string, p profiles.Profile) (string, error) {
	s := p.SPA
	warn := func(msg string) { fmt.Fprintf(a.streams.Err, "knock: warning: %s\n", msg) }
	keys, err := s.Keys(warn)
	if err != nil {
		return "", fmt.Errorf("profile %q: %w", name, err)
	}
	if !s.HasHMAC() {
		warn(fmt.Sprintf("profile %q has no HMAC key: its packets are not authenticated (fwknopd takes them only in stanzas without an HMAC key)", name))
	}
	allow := "0.0.0.0"
	switch s.AllowIP {
	case "":
		// Written before allow_ip was required, or imported without
		// ALLOW_IP: kept working, but never silently.
		warn(fmt.Sprintf("profile %q has no allow_ip: its packets ask to open for 0.0.0.0, the address they come from, so whoever captures one first can use it; "+
			"choose: knock profile edit %s, and set allow_ip to source (to keep this), resolve, or your address", name, name))
	case "source":
	case "resolve":
		url := s.ResolveURL
		if url == "" {
			url = profiles.DefaultResolveURL
		}
		ip, err := client.PublicIP(ctx, url, cmp.Or(p.Family, 4))
		if err != nil {
			return "", fmt.Errorf("profile %q: allow_ip resolve: %w", name, err)
		}
		allow = ip.String()
	default:
		allow = s.AllowIP
	}
	nat := ""
	if s.NATAccess != "" {
		h, port, _ := strings.Cut(s.NATAccess, ",")
		ip, err := client.Resolve(ctx, net.DefaultResolver, h, 4)
		if err != nil {
			return "", fmt.Errorf("profile %q: nat_access: %w", name, err)
		}
		nat = ip.String() + "," + port
	}
	u := s.SpoofUser
	if u == "" {
		u = loginName()
	}
	r, err := random16()
	if err != nil {
		return "", err
	}
	m := spa.Message{
		Random: r, User: u, Time: time.Now().Add(time.Duration(s.TimeOffset)).Unix(), Version: spa.Version,
		Type: spa.TypeFor(nat != "", false, s.FWTimeout > 0), Access: allow + "," + strings.ReplaceAll(s.Access, " ", ""),
		NATAccess: nat, Timeout: s.FWTimeout,
	}
	pkt, err := spa.Build(m, s.Digest(), keys, crand.Reader)
	if err != nil {
		return "", fmt.Errorf("profile %q: %w", name, err)
	}
	return pkt, nil
}

// random16 is the packet's random value: 16 decimal digits.
func random16() (string, error) {
	n, err := crand.Int(crand.Reader, big.NewInt(9e15))
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(n.Int64()+1e15, 10), nil
}

// loginName is the user name an SPA packet carries by default, as
// fwknop's: the login name.
func loginName() string {
	for _, env := range []string{"USER", "LOGNAME", "USERNAME"} {
		if v := os.Getenv(env); v != "" && len(v) <= 64 && !strings.ContainsAny(v, ":\n\r") {
			return v
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" && len(u.Username) <= 64 {
		return u.Username
	}
	return "knock"
}

// spaReport prints a sent SPA packet as -v asks: where it went, never
// what it holds.
func spaReport(w func(string)) func(client.Hit) {
	return func(h client.Hit) {
		verb := "sending"
		if h.DryRun {
			verb = "would send"
		}
		w(fmt.Sprintf("%s SPA packet to %s %s", verb, h.Knock.Proto, h.Dst))
	}
}

func newSPACmd(a *app) *cobra.Command {
	var (
		s                                 profiles.SPA
		keyFlags                          spaKeyFlags
		family4, family6, verbose, dryRun bool
		source                            bool
		resolve                           bool
		savePacket                        string
		wait                              time.Duration
		port                              uint16
	)
	cmd := &cobra.Command{
		Use:   "spa [flags] HOST",
		Short: "Send one fwknop Single Packet Authorization packet (as fwknop -A ... -D HOST)",
		Long: `Send one SPA packet to an fwknopd server, without a profile: the ad hoc
form of an SPA profile, with fwknop's short flags where they exist:

    fwknop -A tcp/22 -s -D HOST --key-base64-rijndael K --key-base64-hmac H
    knock spa -A tcp/22 -s HOST --key-file KEYS --hmac-key-file KEYS

Keys are never taken on the command line, where other users could read
them: they come from files (the bare base64, or the KEY_BASE64: and
HMAC_KEY_BASE64: lines of fwknop --key-gen), or from standard input with
--key-file - (a passphrase). GnuPG mode is not supported.`,
		Example: "  knock spa -A tcp/22 -s --key-file ~/.knock/vault.keys --hmac-key-file ~/.knock/vault.keys vault.example.com\n" +
			"  knock spa -A tcp/22,udp/53 -a 203.0.113.7 -f 60 --key-file keys --hmac-key-file keys --wait=5s vault.example.com",
		Args: exactArgs(1, "HOST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := profiles.ValidateHost(args[0]); err != nil {
				return usagef("host %q: %v", args[0], err)
			}
			switch {
			case resolve && source, resolve && s.AllowIP != "", source && s.AllowIP != "":
				return usagef("-s, -a and -R exclude each other")
			case resolve:
				s.AllowIP = "resolve"
			case source:
				s.AllowIP = "source"
			case s.AllowIP == "":
				// As fwknop: the address to open for is a choice.
				return usagef("choose the address the door opens for: -s (the packet's source, sent as 0.0.0.0: whoever captures the packet first can use it), -a ADDRESS, or -R (our public address)")
			}
			if err := keyFlags.apply(&s, a.streams.In); err != nil {
				return usageError{err}
			}
			p := profiles.Profile{Host: args[0], SPA: &s}
			switch {
			case family4 && family6:
				return usagef("-4 and -6 exclude each other")
			case family4:
				p.Family = 4
			case family6:
				p.Family = 6
			}
			if err := p.Validate(false); err != nil {
				return usageError{err}
			}
			var report func(client.Hit)
			if verbose || dryRun {
				report = spaReport(func(line string) { fmt.Fprintln(a.streams.Out, line) })
			}
			pkt, err := a.spaBuild(cmd.Context(), args[0], &p, args[0])
			if err != nil {
				return err
			}
			if savePacket != "" {
				// The very packet sent, as fwknop --save-packet writes it.
				if err := os.WriteFile(savePacket, []byte(pkt+"\n"), 0o600); err != nil {
					return err
				}
			}
			knocked, err := spaSendPacket(cmd.Context(), p, args[0], pkt, dryRun, report)
			if err != nil || wait == 0 || dryRun {
				return err
			}
			if wait < 0 {
				wait = profiles.DefaultWait
			}
			if port == 0 {
				port = profiles.DefaultPort
			}
			return a.waitReport(cmd.Context(), knocked, port, wait)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&s.Access, "access", "A", "", "what to open: proto/port, comma-separated (fwknop -A), e.g. tcp/22")
	f.StringVarP(&s.AllowIP, "allow-ip", "a", "", "the address to open for, as fwknop -a (one of -s, -a and -R is required)")
	f.BoolVarP(&source, "source-ip", "s", false, "open for the packet's source address (sent as 0.0.0.0: whoever captures the packet first can use it)")
	f.BoolVarP(&resolve, "resolve-ip-https", "R", false, "ask --resolve-url for our public address and open for it")
	f.StringVar(&s.ResolveURL, "resolve-url", "", "where -R asks (default "+profiles.DefaultResolveURL+")")
	keyFlags.register(cmd)
	f.StringVar(&s.HMACDigestType, "hmac-digest-type", "", "HMAC type: "+strings.Join(spa.DigestNames(), ", ")+" (default sha256)")
	f.StringVarP(&s.DigestType, "digest-type", "m", "", "message digest: the same names (default sha256)")
	f.StringVarP(&s.EncryptionMode, "encryption-mode", "M", "", "cbc (default) or legacy, for fwknopd stanzas with ENCRYPTION_MODE legacy")
	f.Uint16VarP(&s.ServerPort, "server-port", "p", 0, "fwknopd's port (default 62201)")
	f.StringVarP(&s.ServerProto, "server-proto", "P", "", "udp (default) or tcp")
	f.IntVarP(&s.FWTimeout, "fw-timeout", "f", 0, "seconds the door stays open (default: the server's)")
	f.DurationVar((*time.Duration)(&s.TimeOffset), "time-offset", 0, "added to the clock, as fwknop's --time-offset-plus/minus (e.g. -30s)")
	f.StringVarP(&s.SpoofUser, "spoof-user", "U", "", "the user name the packet carries (default: the login name)")
	f.StringVarP(&s.NATAccess, "nat-access", "N", "", "host,port to reach through the server's NAT (fwknop -N)")
	f.BoolVarP(&family4, "ipv4", "4", false, "use IPv4 only")
	f.BoolVarP(&family6, "ipv6", "6", false, "use IPv6 only")
	f.BoolVarP(&verbose, "verbose", "v", false, "say where the packet went")
	f.BoolVar(&dryRun, "dry-run", false, "build the packet and say where it would go; send nothing")
	f.StringVar(&savePacket, "save-packet", "", "also write the packet to this file (0600), as fwknop --save-packet")
	f.DurationVar(&wait, "wait", 0, "then wait up to this long for --port to open (--wait alone: 10s)")
	f.Lookup("wait").NoOptDefVal = "-1ns"
	f.Uint16Var(&port, "port", 0, "the port --wait tries (default 22)")
	_ = cmd.RegisterFlagCompletionFunc("hmac-digest-type", cobra.FixedCompletions(spa.DigestNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("digest-type", cobra.FixedCompletions(spa.DigestNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("encryption-mode", cobra.FixedCompletions([]string{"cbc", "legacy"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("server-proto", cobra.FixedCompletions([]string{"udp", "tcp"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// spaKeyFlags are the ways to give keys on the command line: files only
// (or a passphrase on standard input).
type spaKeyFlags struct{ keyFile, hmacKeyFile string }

func (k *spaKeyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&k.keyFile, "key-file", "", "the encryption key: a file of base64 key material or fwknop --key-gen lines; - reads a passphrase from standard input")
	cmd.Flags().StringVar(&k.hmacKeyFile, "hmac-key-file", "", "the HMAC key, the same way (without one, packets are not authenticated)")
}

func (k *spaKeyFlags) apply(s *profiles.SPA, stdin io.Reader) error {
	switch k.keyFile {
	case "":
		return errors.New("no key: give --key-file FILE (or --key-file - to type a passphrase)")
	case "-":
		buf := make([]byte, 256)
		n, _ := stdin.Read(buf)
		s.Key = strings.TrimRight(string(buf[:n]), "\r\n")
	default:
		s.KeyFile = k.keyFile
	}
	if k.hmacKeyFile != "" {
		s.HMACKeyFile = k.hmacKeyFile
	}
	return nil
}

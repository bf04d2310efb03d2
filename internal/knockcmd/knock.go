package knockcmd

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/client"
)

// knockRun sends the sequence and reports each hit as the flags ask; it
// returns the address knocked, which --wait then watches.
func (a *app) knockRun(cmd *cobra.Command, opts *rootOptions) (netip.Addr, error) {
	if opts.SPA != nil {
		return a.spaSend(cmd.Context(), opts.Profile, *opts.SPA, opts.Host, opts.Client.DryRun, reporter(opts))
	}
	k := &client.Knocker{Report: reporter(opts)}
	return k.KnockHost(cmd.Context(), opts.Host, opts.Sequence, opts.Client)
}

// hitJSON is one line of --json output.
type hitJSON struct {
	Index      int    `json:"index"`
	Host       string `json:"host"`
	Proto      string `json:"proto"`
	Addr       string `json:"addr"`
	Port       uint16 `json:"port"`
	Flags      string `json:"flags,omitempty"`
	Method     string `json:"method"`
	Src        string `json:"src,omitempty"`
	SourcePort uint16 `json:"source_port,omitempty"`
	TTL        int    `json:"ttl,omitempty"`
	Time       string `json:"time"`
	// OffsetMS is when the knock goes, after the first: its index times
	// the delay (the plan, also in a dry run, which does not wait).
	OffsetMS int64 `json:"offset_ms"`
	DelayMS  int64 `json:"delay_ms"`
	DryRun   bool  `json:"dry_run,omitempty"`
	// PayloadHex is a UDP knock's own payload, in hex ("" is an empty
	// datagram); absent for the default single zero byte.
	PayloadHex *string `json:"payload_hex,omitempty"`
}

// reporter returns the per-hit output: JSON lines, a dry-run line, knock
// 0.8's "hitting tcp ADDR:PORT" with -v, or nothing.
func reporter(opts *rootOptions) func(client.Hit) {
	out := opts.streams.Out
	delay := opts.Client.Delay
	switch {
	case opts.JSON:
		enc := json.NewEncoder(out)
		return func(h client.Hit) {
			j := hitJSON{
				Index: h.Index + 1, Host: h.Host, Proto: h.Knock.Proto.String(),
				Addr: h.Dst.Addr().String(), Port: h.Dst.Port(), Method: string(h.Method),
				SourcePort: h.SrcPort, TTL: h.TTL, Time: h.Time.UTC().Format(time.RFC3339Nano), DryRun: h.DryRun,
				OffsetMS: (time.Duration(h.Index) * delay).Milliseconds(), DelayMS: delay.Milliseconds(),
			}
			if h.Knock.Proto == knock.TCP {
				j.Flags = h.Flags.String()
			}
			if h.Src.IsValid() {
				j.Src = h.Src.String()
			}
			if h.Knock.HasPayload {
				p := hex.EncodeToString([]byte(h.Knock.Payload))
				j.PayloadHex = &p
			}
			_ = enc.Encode(j)
		}
	case opts.Client.DryRun:
		return func(h client.Hit) {
			line := "would hit " + target(h) + " via " + string(h.Method)
			if h.Src.IsValid() {
				line += " from " + h.Src.String() + ":" + strconv.Itoa(int(h.SrcPort))
			} else if h.SrcPort != 0 {
				line += " from port " + strconv.Itoa(int(h.SrcPort))
			}
			if h.TTL != 0 {
				line += " ttl " + strconv.Itoa(h.TTL)
			}
			if h.Knock.HasPayload {
				line += " payload " + strconv.Itoa(len(h.Knock.Payload)) + " bytes"
			}
			// The timeline: when each knock goes, after the first.
			line += " at +" + strconv.FormatInt((time.Duration(h.Index)*delay).Milliseconds(), 10) + "ms"
			fmt.Fprintln(out, line)
		}
	case opts.Verbose:
		return func(h client.Hit) { fmt.Fprintln(out, "hitting "+target(h)) }
	}
	return nil
}

// target spells a hit as knock 0.8 does ("tcp 10.0.0.2:7000"), but for
// an IPv6 address in brackets ("tcp [fd77::2]:7000", where 0.8 writes
// fd77::2:7000, which reads as another address), followed by the flags
// when they are not a plain SYN.
func target(h client.Hit) string {
	s := h.Knock.Proto.String() + " " + h.Dst.String()
	if h.Knock.Proto == knock.TCP && h.Flags != knock.SYN {
		s += " " + h.Flags.String()
	}
	return s
}

package transfer

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/knocktools/knock/profiles"
	"strconv"
	"strings"
	"time"

	"github.com/knocktools/knock"
)

// Knock on Ports (the Android client, impalex/knockonports) exports its
// sequences as JSON: the v1 envelope {"version":1,"sequences":[...]} with
// enums as strings, or the legacy v0 top-level array with enums as
// integers in declaration order and "localPort" in camelCase. The app
// ignores keys it does not know, and so do we.

// The app's defaults and limits that change what it sends.
const (
	kopDefaultDelay = 500 // ms between packets when a sequence names none
	kopMaxDelay     = 15000
)

// Enum spellings of the v1 format, in the declaration order that v0
// numbers them by.
var (
	kopStepTypes = []string{"udp", "tcp", "icmp"}
	kopIPVersion = []string{"prefer_ipv4", "prefer_ipv6", "only_ipv4", "only_ipv6", "both_ipv4_ipv6"}
	kopEncodings = []string{"raw", "base64", "hex"}
)

// KnockOnPortsSequence is one sequence of an import: the profile made of
// it, or the error that refused it, and what could not be carried over.
type KnockOnPortsSequence struct {
	Index    int    // 1-based position in the file
	Name     string // the app's name for it
	Profile  profiles.Profile
	Err      error    // set: the sequence is not imported
	Warnings []string // imported, but not quite as the app knocks it
}

// kopEnum is an enum value that v1 writes as a string and v0 as a number
// (out of range or null: the first value, as the app reads v0).
type kopEnum struct {
	name    string
	present bool
}

func (e *kopEnum) decode(raw json.RawMessage, names []string, legacy bool) error {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil
	}
	e.present = true
	if legacy {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n >= len(names) {
			n = 0
		}
		e.name = names[n]
		return nil
	}
	if err := json.Unmarshal(raw, &e.name); err != nil {
		return fmt.Errorf("%s: want one of %s", s, strings.Join(names, ", "))
	}
	for _, n := range names {
		if e.name == n {
			return nil
		}
	}
	return fmt.Errorf("%q: want one of %s", e.name, strings.Join(names, ", "))
}

type kopSequence struct {
	Name      *string                      `json:"name"`
	Host      *string                      `json:"host"`
	Delay     *int                         `json:"delay"`
	TTL       *int                         `json:"ttl"`
	LocalPort *int                         `json:"local_port"`
	Legacy    *int                         `json:"localPort"`
	IPV       json.RawMessage              `json:"ipv"`
	Steps     []map[string]json.RawMessage `json:"steps"`
}

// ParseKnockOnPorts reads a Knock on Ports export (either version) and
// returns one entry per sequence. An error for the whole file (not
// JSON, an unknown version) names the file.
func ParseKnockOnPorts(path string, data []byte) ([]KnockOnPortsSequence, error) {
	data = bytes.TrimSpace(data)
	var raw []json.RawMessage
	legacy := len(data) > 0 && data[0] == '['
	if legacy {
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("%s: not a Knock on Ports export: %v", path, err)
		}
	} else {
		var env struct {
			Version   *int              `json:"version"`
			Sequences []json.RawMessage `json:"sequences"`
		}
		if err := json.Unmarshal(data, &env); err != nil {
			return nil, fmt.Errorf("%s: not a Knock on Ports export: %v", path, err)
		}
		if env.Version == nil || *env.Version != 1 {
			v := "none"
			if env.Version != nil {
				v = strconv.Itoa(*env.Version)
			}
			return nil, fmt.Errorf("%s: Knock on Ports export version %s: want 1 (or the legacy top-level array)", path, v)
		}
		raw = env.Sequences
	}
	out := make([]KnockOnPortsSequence, 0, len(raw))
	for i, r := range raw {
		out = append(out, convertKOP(i+1, r, legacy))
	}
	return out, nil
}

func convertKOP(index int, raw json.RawMessage, legacy bool) KnockOnPortsSequence {
	res := KnockOnPortsSequence{Index: index}
	var s kopSequence
	if err := json.Unmarshal(raw, &s); err != nil {
		res.Err = fmt.Errorf("not a sequence: %v", err)
		return res
	}
	if s.Name != nil {
		res.Name = *s.Name
	}
	warn := func(format string, a ...any) { res.Warnings = append(res.Warnings, fmt.Sprintf(format, a...)) }
	p := profiles.Profile{Description: "imported from Knock on Ports"}
	if s.Name != nil && *s.Name != "" && profiles.ValidateText(*s.Name) == nil {
		p.Description = fmt.Sprintf("imported from Knock on Ports (%s)", *s.Name)
	}
	if s.Host == nil || strings.TrimSpace(*s.Host) == "" {
		res.Err = errors.New("no host")
		return res
	}
	p.Host = strings.TrimSpace(*s.Host)
	delay := kopDefaultDelay
	if s.Delay != nil {
		delay = min(max(*s.Delay, 0), kopMaxDelay)
	}
	p.Delay = profiles.Duration(time.Duration(delay) * time.Millisecond)
	if s.TTL != nil && *s.TTL > 0 {
		p.TTL = min(*s.TTL, 255)
	}
	local := s.LocalPort
	if legacy {
		local = s.Legacy
	}
	if local != nil && *local > 0 && *local <= 65535 {
		p.SourcePort = uint16(*local)
	}
	var ipv kopEnum
	if err := ipv.decode(s.IPV, kopIPVersion, legacy); err != nil {
		res.Err = fmt.Errorf("ipv %v", err)
		return res
	}
	switch ipv.name {
	case "only_ipv4":
		p.Family = 4
	case "only_ipv6":
		p.Family = 6
	case "prefer_ipv4", "prefer_ipv6":
		if ipv.present {
			warn("ipv %s: knock takes the resolver's first address (RFC 6724 order) instead; set family 4 or 6 to force one", ipv.name)
		}
	case "both_ipv4_ipv6":
		warn("ipv %s: the app knocks one address of each family; knock knocks one address (set family 4 or 6, or make a second profile)", ipv.name)
	}
	for i, step := range s.Steps {
		k, skip, err := kopStep(step, legacy)
		if err != nil {
			res.Err = fmt.Errorf("step %d: %w", i+1, err)
			return res
		}
		if skip != "" {
			warn("step %d: %s; the app skips such a step, and so does this import", i+1, skip)
			continue
		}
		p.Sequence = append(p.Sequence, k.String())
	}
	if len(p.Sequence) == 0 {
		res.Err = errors.New("no TCP or UDP step to knock")
		return res
	}
	if err := p.Validate(false); err != nil {
		res.Err = err
		return res
	}
	res.Profile = p
	return res
}

// kopStep converts one step. skip says why the app would send nothing
// for it; err refuses the sequence.
func kopStep(step map[string]json.RawMessage, legacy bool) (k knock.Knock, skip string, err error) {
	var typ, encoding kopEnum
	if err := typ.decode(step["type"], kopStepTypes, legacy); err != nil {
		return k, "", fmt.Errorf("type %v", err)
	}
	if !typ.present {
		if !legacy {
			return k, "no type", nil
		}
		typ.name = kopStepTypes[0] // v0's default
	}
	if typ.name == "icmp" {
		return k, "", errors.New("an ICMP knock, which knock cannot send (it sends TCP and UDP knocks)")
	}
	var port int
	if raw, ok := step["port"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &port); err != nil {
			return k, "", fmt.Errorf("port %s: not a number", raw)
		}
	}
	if port < 1 || port > 65535 {
		return k, fmt.Sprintf("port %d is not a port", port), nil
	}
	k.Port = uint16(port)
	if typ.name == "tcp" {
		return k, "", nil // the app sends a plain SYN, content or not
	}
	k.Proto = knock.UDP
	if err := encoding.decode(step["encoding"], kopEncodings, legacy); err != nil {
		return k, "", fmt.Errorf("encoding %v", err)
	}
	var content string
	if raw, ok := step["content"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &content); err != nil {
			return k, "", fmt.Errorf("content %s: not a string", raw)
		}
	}
	payload := kopDecode(encoding.name, content)
	if raw, ok := step["udp_payload_size"]; ok && string(raw) != "null" {
		var size int
		if err := json.Unmarshal(raw, &size); err != nil {
			return k, "", fmt.Errorf("udp_payload_size %s: not a number", raw)
		}
		if size >= 0 {
			// The app sizes the datagram to this, cutting or padding
			// with zero bytes.
			size = min(size, knock.MaxPayload)
			resized := make([]byte, size)
			copy(resized, payload)
			payload = resized
		}
	}
	if len(payload) > knock.MaxPayload {
		return k, "", fmt.Errorf("content of %d bytes: at most %d fit a datagram", len(payload), knock.MaxPayload)
	}
	k.Payload, k.HasPayload = string(payload), true
	return k, "", nil
}

// kopDecode turns a step's content into the bytes the app sends: the
// text's UTF-8 for raw, and for base64 and hex the decoded bytes, or none
// when they do not decode (the app falls back to an empty datagram).
func kopDecode(encoding, content string) []byte {
	switch encoding {
	case "base64":
		b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(content, "="))
		if err != nil {
			return nil
		}
		return b
	case "hex":
		b, err := hex.DecodeString(content[:len(content)/2*2])
		if err != nil {
			return nil
		}
		return b
	}
	return []byte(content)
}

// kopExport is one sequence of a v1 file as the app reads it.
type kopExport struct {
	Name      string          `json:"name"`
	Host      string          `json:"host"`
	Delay     int             `json:"delay"`
	IPV       string          `json:"ipv,omitempty"`
	LocalPort int             `json:"local_port,omitempty"`
	TTL       int             `json:"ttl,omitempty"`
	Steps     []kopExportStep `json:"steps"`
}

type kopExportStep struct {
	Type     string  `json:"type"`
	Port     int     `json:"port"`
	Content  *string `json:"content,omitempty"`
	Encoding string  `json:"encoding,omitempty"`
}

// NamedProfile is a profile with its name, for exports of several.
type NamedProfile struct {
	Name    string
	Profile profiles.Profile
}

// ExportKnockOnPorts writes profiles as a v1 Knock on Ports file. A
// profile the app cannot knock as we do (a time-based sequence, TCP flags
// other than a plain SYN) is refused with its name.
func ExportKnockOnPorts(list []NamedProfile) ([]byte, error) {
	out := struct {
		Version   int         `json:"version"`
		Sequences []kopExport `json:"sequences"`
	}{Version: 1, Sequences: []kopExport{}}
	for _, np := range list {
		p := np.Profile
		if p.TimeBased() {
			return nil, fmt.Errorf("profile %q: a time-based sequence changes every period, which Knock on Ports cannot follow", np.Name)
		}
		if p.SPA != nil {
			return nil, fmt.Errorf("profile %q: an SPA profile, which Knock on Ports cannot send", np.Name)
		}
		seq, err := p.KnockSequence(false)
		if err != nil {
			return nil, fmt.Errorf("profile %q: %w", np.Name, err)
		}
		e := kopExport{Name: np.Name, Host: p.Host, Delay: int(time.Duration(p.Delay) / time.Millisecond), TTL: p.TTL, LocalPort: int(p.SourcePort)}
		if e.Delay > kopMaxDelay {
			return nil, fmt.Errorf("profile %q: delay %v: Knock on Ports waits at most %d ms", np.Name, p.Delay, kopMaxDelay)
		}
		switch p.Family {
		case 4:
			e.IPV = "only_ipv4"
		case 6:
			e.IPV = "only_ipv6"
		}
		for i, k := range seq {
			if k.Proto == knock.TCP {
				if f := k.EffectiveFlags(); f != knock.SYN {
					return nil, fmt.Errorf("profile %q: knock %d (%s) sends %s: Knock on Ports sends only plain SYNs", np.Name, i+1, k, f)
				}
				e.Steps = append(e.Steps, kopExportStep{Type: "tcp", Port: int(k.Port)})
				continue
			}
			data := "\x00" // knock 0.8's single zero byte
			if k.HasPayload {
				data = k.Payload
			}
			content := hex.EncodeToString([]byte(data))
			e.Steps = append(e.Steps, kopExportStep{Type: "udp", Port: int(k.Port), Content: &content, Encoding: "hex"})
		}
		out.Sequences = append(out.Sequences, e)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

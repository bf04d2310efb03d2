package knockdcmd

import (
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock/fwknopconf"
	"github.com/knocktools/knock/internal/qrterm"
	"github.com/knocktools/knock/spa"
)

// newKeygenCmd is knockd keygen: new SPA keys as an access.conf stanza,
// the server's side of knock profile add --spa --key-gen.
func newKeygenCmd(stdout io.Writer) *cobra.Command {
	var (
		a  fwknopconf.AccessStanza
		qr bool
	)
	cmd := &cobra.Command{
		Use:   "keygen [--source ANY] [--open-ports tcp/22] [--qr]",
		Short: "Make SPA keys and print the access.conf stanza that uses them (--qr: and a QR code for a phone)",
		Long: `Make new keys for an SPA stanza, as fwknop --key-gen does (32 random bytes
of key, 64 of HMAC key), and print the stanza for access.conf (knockd's
--access-conf, or fwknopd's own) on standard output:

    knockd keygen --open-ports tcp/22 >> /etc/fwknop/access.conf

--qr also draws the keys, as the "KEY_BASE64:... HMAC_KEY_BASE64:..." line
Fwknop2 (fwknop's Android client) scans, as a QR code on standard error.
The stanza holds the keys: keep access.conf readable by root only. On the
client: knock profile add NAME --host HOST --spa --access tcp/22
--allow-ip source --spa-key-file FILE, FILE holding the two KEY lines.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, hkey, err := spa.NewKeys(crand.Reader)
			if err != nil {
				return err
			}
			a.KeyBase64, a.HMACKeyBase64 = base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(hkey)
			stanza, err := a.Format()
			if err == nil {
				// What reaches the file is what fwknopd and knockd read.
				_, err = fwknopconf.ParseAccess("the stanza", []byte(stanza), nil)
			}
			if err != nil {
				return exitError{2, fmt.Errorf("the flags make a stanza knockd would refuse: %w", err)}
			}
			fmt.Fprintf(stdout, "# made by knockd keygen: add it to access.conf, which must stay readable by root only\n%s", stanza)
			if qr {
				return qrterm.ShowKeys(cmd.ErrOrStderr(), a.PhoneKeys())
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.Source, "source", "ANY", "the stanza's SOURCE: ANY, or addresses and networks, comma-separated")
	f.StringVar(&a.OpenPorts, "open-ports", "tcp/22", "the stanza's OPEN_PORTS: proto/port, comma-separated")
	f.IntVar(&a.FWAccessTimeout, "fw-timeout", 30, "the stanza's FW_ACCESS_TIMEOUT, in seconds")
	f.BoolVar(&qr, "qr", false, "also draw the keys as a QR code for Fwknop2 (Android) on standard error")
	return cmd
}

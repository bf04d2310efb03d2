// Package qrterm draws a QR code as text for a terminal, for a phone to
// scan: two rows of modules to a line in half blocks, dark modules black
// on white whatever the terminal's own colours (a scanner reads dark on
// light), with the quiet zone around it. The encoding is
// github.com/skip2/go-qrcode's.
package qrterm

import (
	"fmt"
	"io"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// blackOnWhite and reset are the ANSI colours each line is drawn in.
const (
	blackOnWhite = "\x1b[30;107m"
	reset        = "\x1b[0m"
)

// Draw returns text as a QR code (error correction M), one line of the
// terminal for two rows of modules.
func Draw(text string) (string, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", err
	}
	bm := q.Bitmap() // with the quiet zone
	var b strings.Builder
	for y := 0; y < len(bm); y += 2 {
		b.WriteString(blackOnWhite)
		for x := range bm[y] {
			top, bottom := bm[y][x], y+1 < len(bm) && bm[y+1][x]
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteString(reset + "\n")
	}
	return b.String(), nil
}

// ShowKeys writes an SPA stanza's keys (fwknopconf's PhoneKeys line) to w
// as a QR code for Fwknop2, fwknop's Android client, to scan, under a
// line that says so.
func ShowKeys(w io.Writer, keys string) error {
	drawn, err := Draw(keys)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "the keys for Fwknop2 (Android) to scan; they are secret, clear the screen afterwards:\n%s", drawn)
	return err
}

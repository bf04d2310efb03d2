package qrterm

import (
	"image"
	"image/color"
	"strings"
	"testing"

	goqr "github.com/piglig/go-qr"
)

// modules reads a drawing back into rows of modules (true: dark).
func modules(t *testing.T, drawn string) [][]bool {
	t.Helper()
	var rows [][]bool
	for _, line := range strings.Split(strings.TrimSuffix(drawn, "\n"), "\n") {
		if !strings.HasPrefix(line, blackOnWhite) || !strings.HasSuffix(line, reset) {
			t.Fatalf("line %q is not drawn black on white", line)
		}
		var top, bottom []bool
		for _, r := range strings.TrimSuffix(strings.TrimPrefix(line, blackOnWhite), reset) {
			top = append(top, r == '█' || r == '▀')
			bottom = append(bottom, r == '█' || r == '▄')
		}
		rows = append(rows, top, bottom)
	}
	return rows
}

// TestDrawScans: what Draw draws, read back as a picture, is decoded by
// another QR library to the text given: here, the line Fwknop2 (fwknop's
// Android client) scans for its keys.
func TestDrawScans(t *testing.T) {
	text := "KEY_BASE64:dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE= HMAC_KEY_BASE64:" + strings.Repeat("aG1hYy1rZXk=", 7) + "abcd"
	drawn, err := Draw(text)
	if err != nil {
		t.Fatal(err)
	}
	rows := modules(t, drawn)
	const scale = 4
	img := image.NewGray(image.Rect(0, 0, len(rows[0])*scale, len(rows)*scale))
	for y, row := range rows {
		for x, dark := range row {
			c := color.Gray{Y: 255}
			if dark {
				c = color.Gray{}
			}
			for i := range scale * scale {
				img.SetGray(x*scale+i%scale, y*scale+i/scale, c)
			}
		}
	}
	got, err := goqr.Decode(img)
	if err != nil || got != text {
		t.Fatalf("decoded %q, %v; want %q", got, err, text)
	}
	// The quiet zone: the first and last lines are white.
	if w := len(rows[0]); strings.Contains(strings.Split(drawn, "\n")[0], "█") || w > 80 {
		t.Fatalf("%d modules wide, or no quiet zone:\n%s", w, drawn)
	}
}

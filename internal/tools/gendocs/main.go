// Command gendocs writes the man pages of knock and knockd, rendered from
// their command trees, into a directory: go run ./internal/tools/gendocs DIR.
// The release build runs it; the pages are never edited by hand.
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/knocktools/knock/internal/buildinfo"
	"github.com/knocktools/knock/internal/knockcmd"
	"github.com/knocktools/knock/internal/knockdcmd"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
	}
	// A fixed date keeps the pages reproducible; SOURCE_DATE_EPOCH, when
	// set, gives the release's.
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		var sec int64
		if _, err := fmt.Sscan(epoch, &sec); err == nil {
			date = time.Unix(sec, 0).UTC()
		}
	}
	for _, root := range []*cobra.Command{knockcmd.NewRootCmd(io.Discard, io.Discard), knockdcmd.NewRootCmd(io.Discard, io.Discard)} {
		root.DisableAutoGenTag = true
		header := &doc.GenManHeader{
			Title:   "",
			Section: "1",
			Date:    &date,
			Source:  "knock " + buildinfo.Version(),
			Manual:  "knock port-knocking toolkit",
		}
		if err := doc.GenManTree(root, header, dir); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gendocs:", err)
	os.Exit(1)
}

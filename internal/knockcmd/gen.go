package knockcmd

import (
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock"
)

func newGenCmd(a *app) *cobra.Command {
	var (
		length   int
		udpRatio float64
	)
	cmd := &cobra.Command{
		Use:   "gen [--length N] [--udp-ratio R]",
		Short: "Print a random knock sequence",
		Long: `Print a random knock sequence of distinct ports from 1024-65535 that avoids
ports busy with other traffic. The output, such as 31877,52012:udp,14408,40655,
works as a profile's --sequence and as a knockd.conf Sequence.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var seed [32]byte
			if _, err := crand.Read(seed[:]); err != nil {
				return err
			}
			rng := rand.New(rand.NewChaCha8(seed))
			seq, err := knock.Generate(rng, length, udpRatio)
			if err != nil {
				return usageError{err}
			}
			parts := make([]string, len(seq))
			for i, k := range seq {
				parts[i] = k.String()
			}
			_, err = fmt.Fprintln(a.streams.Out, strings.Join(parts, ","))
			return err
		},
	}
	cmd.Flags().IntVar(&length, "length", 4, "number of knocks, 1-32")
	cmd.Flags().Float64Var(&udpRatio, "udp-ratio", 0, "share of UDP knocks, 0-1")
	return cmd
}

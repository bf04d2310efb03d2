//go:build !unix

package atomicfile

// oNoFollow: this system's open has no such flag; the Lstat check before
// the open stands alone.
const oNoFollow = 0

func isLoop(error) bool { return false }

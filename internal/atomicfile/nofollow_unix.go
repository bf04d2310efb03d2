//go:build unix

package atomicfile

import (
	"errors"
	"syscall"
)

// oNoFollow makes open fail on a symbolic link in the final component,
// closing the gap between the Lstat check and the open.
const oNoFollow = syscall.O_NOFOLLOW

func isLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }

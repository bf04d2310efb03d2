//go:build !unix

package server

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

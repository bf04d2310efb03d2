//go:build !windows

package main

const defaultEditor = "vi"

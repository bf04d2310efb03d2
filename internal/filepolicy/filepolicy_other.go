//go:build !unix

package filepolicy

import "io/fs"

// Where file modes do not say who may read or write (Windows: ACLs),
// the policy has nothing to check.
const modesMatter = false

func readableByOthers(fs.FileInfo) bool   { return false }
func changeable(fs.FileInfo, bool) string { return "" }
func linkOwner(string) string             { return "" }
func Sticky(fs.FileInfo) fs.FileMode      { return 0 }

// CheckWrite does nothing here: the directory's ACL decides who may put
// files there.
func CheckWrite(string) error { return nil }

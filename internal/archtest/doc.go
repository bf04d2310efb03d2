// Package archtest runs the release builds of knock and knockd for every
// Linux architecture we release under qemu-user (Debian's
// qemu-user-static; 386 runs natively), and holds their output to the
// amd64 build's: big-endian (mips, mips64, and their byte order in BPF
// programs and capture headers) and 32-bit builds (386, arm, mipsle) are
// where byte-order and alignment bugs hide. It has only tests.
package archtest

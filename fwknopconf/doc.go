// Package fwknopconf reads and writes the files of fwknop 2.6, the
// Single Packet Authorization client and server, knowing their syntax
// and fwknopd's rules for them, not what knock or knockd make of them:
//
//   - the client's ~/.fwknoprc (ParseRC; package transfer maps a stanza
//     onto a profile);
//   - the server's access.conf (ParseAccess, LoadAccess: stanzas with
//     %include, %include_folder and %include_keys, every error with its
//     file and line, and what this knockd does not serve, GnuPG, NAT and
//     command messages, refused rather than ignored), and stanzas of it
//     written from a profile (AccessStanza.Format);
//   - the server's fwknopd.conf (ParseServer: the keys honoured, fwknopd's
//     own plumbing accepted and listed, the keys that switch on what is not
//     served refused, an unknown key an error).
//
// No I/O but the included files LoadAccess reads.
package fwknopconf

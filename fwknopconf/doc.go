// Package fwknopconf reads and writes the files of fwknop 2.6, the
// Single Packet Authorization client and server: the client's
// ~/.fwknoprc (ParseRC) and stanzas of the server's access.conf
// (AccessStanza.Format). It knows their syntax, not what knock makes of
// them: package transfer maps a .fwknoprc stanza onto a profile and a
// profile onto an access.conf stanza. No I/O.
package fwknopconf

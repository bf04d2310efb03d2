// Package transfer turns profiles into other tools' formats and back:
// knockd.conf doors (ExportKnockd, FromKnockd, with close-door pairing),
// Knock on Ports exports (the Android app's, both versions), fwknop's
// ~/.fwknoprc (FromFwknoprc) and fwknopd's access.conf stanzas
// (ExportFwknopd). The formats' syntax lives in knockdconf and
// fwknopconf; this package knows what each item means as a profile.
//
// Every import follows one policy, Apply: what maps is saved, each item
// that does not is named with its file, line and why, and an import fails
// only when nothing was saved (or, Strict, when anything was not, and then
// nothing is saved).
package transfer

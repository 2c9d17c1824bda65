// Package keyword classifies inbound SMS: opt-out, opt-in, help, confirm,
// reschedule, or crisis language (PRODUCT.md invariants 2, 9 and 10).
//
// Classify is a pure function of the message text. Matching works on
// normalised words (see words in normalize.go), so case, punctuation,
// emoji, accents, fullwidth letters and invisible characters do not hide a
// keyword; and it is by whole words and phrases, so "stopwatch", "I'll stop
// by" and "see you at the end of the week" are not opt-outs.
//
// Crisis language is checked first and always reported, together with any
// opt-out in the same message (Result.AlsoOptOut): the caller answers with
// emergency help, alerts staff, and still honours the STOP. The rest of the
// precedence is documented on Classify and pinned by TestPrecedence.
//
// The word lists err on the side of the client: a false crisis match costs
// a kind message and a staff glance; a missed one costs more. Free-text
// opt-outs need a clear request about these messages ("stop texting me",
// "remove me from this list"), because a wrong opt-out silences reminders
// the client wanted; the confirmation they then receive tells them how to
// come back.
package keyword

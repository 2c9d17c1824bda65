package keyword

import (
	"strconv"
	"strings"
)

// Kind is what an inbound message asks for.
type Kind int

// Kinds. Crisis comes first; after it the lower value wins (OptOut over
// OptIn over Help over Confirm over Reschedule), and Unknown is what is left.
const (
	Unknown    Kind = iota // nothing nudge acts on; staff may read it
	OptOut                 // stop sending on this channel (invariant 2 in docs/invariants.md)
	OptIn                  // resubscribe
	Help                   // send the practice's help text
	Confirm                // confirm the pending appointment
	Reschedule             // ask to move the pending appointment
	Crisis                 // crisis language: reply with emergency help, alert staff (invariant 9 in docs/invariants.md)
)

var kindNames = [...]string{
	Unknown:    "unknown",
	OptOut:     "opt_out",
	OptIn:      "opt_in",
	Help:       "help",
	Confirm:    "confirm",
	Reschedule: "reschedule",
	Crisis:     "crisis",
}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Result is the classification of one inbound message.
type Result struct {
	Kind Kind
	// Keyword is the normalised word or phrase that decided Kind, in upper
	// case: "STOP", "C", "STOP TEXTING ME", "WANT TO DIE". Empty for
	// Unknown.
	Keyword string
	// AlsoOptOut is set on a Crisis result whose message also asked to stop
	// (OptOutKeyword says how). The caller sends the crisis reply and alerts
	// staff, and also records the opt-out: STOP still wins for every later
	// message.
	AlsoOptOut    bool
	OptOutKeyword string
}

// Classify decides what an inbound SMS asks for. It tolerates any case,
// white space, punctuation, emoji, accents and fullwidth letters around and
// inside the words.
//
// Precedence:
//
//  1. Crisis: crisis language (wanting to die, to kill or hurt oneself,
//     "can't go on", Spanish "quiero morir", "hacerme daño", ...) anywhere
//     in the message. Always reported, whatever else the message says; if
//     it also asks to stop, AlsoOptOut is set.
//  2. OptOut: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT
//     ("opt out", "opt-out"), Spanish PARA, PARAR, BASTA, ALTO, CANCELAR, as
//     the message (give or take "please", "thanks" and the like); or free
//     text plainly about these messages: "please stop texting me", "don't
//     text me anymore", "remove me from this list", "unsubscribe me", "no
//     more texts", "wrong number", "no me envíes más mensajes", "darme de
//     baja". A message that merely contains "stop" ("I'll stop by", "can't
//     stop thinking about our session") is not an opt-out.
//  3. OptIn: START, UNSTOP, or YES as the whole message, as Twilio treats
//     them. YES is OptIn even in reply to a reminder; a caller that knows
//     the client is subscribed and has a reminder pending may take it as a
//     confirmation.
//  4. Help: HELP, INFO, AYUDA ("help me", "more info").
//  5. Confirm: C, CONFIRM(ED), CONFIRMAR, CONFIRMO, SÍ, with "yes", "ok",
//     "thanks" and the like around them ("yes c", "C.", "c para
//     confirmar"). Spanish "sí" alone is Confirm, not OptIn: Twilio's
//     opt-in words are English only.
//  6. Reschedule: R, RESCHEDULE, REPROGRAMAR, CAMBIAR ("r please", "I need
//     to reschedule").
//
// When keywords of several kinds stand alone together ("help stop", "c r"),
// the higher kind wins.
func Classify(body string) Result {
	ws := words(body)
	optOut := findOptOut(body, ws)
	if crisis, ok := findCrisis(ws); ok {
		return Result{Kind: Crisis, Keyword: crisis, AlsoOptOut: optOut != "", OptOutKeyword: optOut}
	}
	if optOut != "" {
		return Result{Kind: OptOut, Keyword: optOut}
	}
	if kind, kw := wholeMessage(ws); kind != Unknown {
		return Result{Kind: kind, Keyword: kw}
	}
	return Result{Kind: Unknown}
}

// findOptOut returns the opt-out keyword or phrase in body, or "".
func findOptOut(body string, ws []string) string {
	if kind, kw := wholeMessage(ws); kind == OptOut {
		return kw
	}
	if m, ok := optOutPhrases.find(ws); ok {
		return strings.ToUpper(m)
	}
	// "STOP. I want to die": an unmistakable opt-out word as a sentence of
	// its own. Not CANCEL, END or QUIT, which people also use about
	// appointments and jobs ("Cancel. Can we do Friday instead?").
	for _, sentence := range strings.FieldsFunc(body, isSentenceEnd) {
		if kind, kw := wholeMessage(words(sentence)); kind == OptOut && sentenceOptOuts[kw] {
			return kw
		}
	}
	return ""
}

var sentenceOptOuts = set("STOP", "STOPALL", "UNSUBSCRIBE", "OPTOUT")

func isSentenceEnd(r rune) bool {
	switch r {
	case '.', '!', '?', ';', '\n', '\r', '。', '！', '？', '¡', '¿':
		return true
	}
	return false
}

// findCrisis returns the crisis phrase in ws, if any.
func findCrisis(ws []string) (string, bool) {
	if m, ok := crisisPhrases.find(ws); ok {
		return strings.ToUpper(m), true
	}
	return "", false
}

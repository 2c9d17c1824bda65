package keyword

import "strings"

// keyword is a word that decides a kind when it is (nearly) the whole
// message.
type keyword struct {
	kind Kind
	// weak keywords count only when no other keyword is present: Spanish
	// "para" alone means "stop", but in "C para confirmar" it is "to".
	weak bool
}

var keywords = map[string]keyword{
	"stop": {kind: OptOut}, "stopall": {kind: OptOut}, "unsubscribe": {kind: OptOut},
	"cancel": {kind: OptOut}, "end": {kind: OptOut}, "quit": {kind: OptOut},
	"revoke": {kind: OptOut}, "optout": {kind: OptOut},
	"para": {kind: OptOut, weak: true}, "parar": {kind: OptOut}, "basta": {kind: OptOut},
	"alto": {kind: OptOut}, "cancelar": {kind: OptOut},

	"start": {kind: OptIn}, "unstop": {kind: OptIn},

	"help": {kind: Help}, "info": {kind: Help}, "ayuda": {kind: Help},

	"c": {kind: Confirm}, "confirm": {kind: Confirm}, "confirmed": {kind: Confirm},
	"confirming": {kind: Confirm}, "confirmo": {kind: Confirm}, "confirmar": {kind: Confirm},
	"confirmado": {kind: Confirm}, "confirmada": {kind: Confirm}, "si": {kind: Confirm},

	"r": {kind: Reschedule}, "reschedule": {kind: Reschedule}, "rescheduling": {kind: Reschedule},
	"reprogramar": {kind: Reschedule}, "reprogramo": {kind: Reschedule}, "cambiar": {kind: Reschedule},
}

// filler words may surround any keyword without changing its meaning.
var filler = set("please", "pls", "plz", "thanks", "thank", "you", "thx", "ty", "ok", "okay", "now",
	"just", "yes", "por", "favor", "gracias", "ya")

// context words may surround the keywords of one kind only.
var context = map[Kind]map[string]bool{
	OptOut:     set("all"),
	OptIn:      set("again"),
	Help:       set("me", "i", "need", "more", "some"),
	Confirm:    set("para", "to", "i", "will", "be", "there", "see", "then", "my", "appointment", "mi", "la", "cita"),
	Reschedule: set("para", "to", "i", "need", "want", "would", "like", "can", "we", "could", "my", "the", "appointment", "necesito", "quiero", "mi", "la", "cita"),
}

// pairs are two-word spellings of one keyword.
var pairs = map[[2]string]string{
	{"opt", "out"}:  "optout",
	{"stop", "all"}: "stopall",
	{"un", "stop"}:  "unstop",
	{"stop", "it"}:  "stop", // but not "end it", which is too close to crisis language to read as an opt-out
}

// wholeMessage classifies a message made only of keywords, filler and the
// context words of the strongest keyword's kind. YES is OptIn only as the
// entire message.
func wholeMessage(ws []string) (Kind, string) {
	if len(ws) == 1 && ws[0] == "yes" {
		return OptIn, "YES"
	}
	ws = joinPairs(ws)
	var strong, weak []string
	var others []string
	for _, w := range ws {
		switch k, ok := keywords[w]; {
		case ok && k.weak:
			weak = append(weak, w)
		case ok:
			strong = append(strong, w)
		case filler[w]:
		default:
			others = append(others, w)
		}
	}
	candidates := strong
	if len(candidates) == 0 {
		candidates = weak
	} else {
		others = append(others, weak...)
	}
	best := ""
	for _, w := range candidates {
		if best == "" || keywords[w].kind < keywords[best].kind {
			best = w
		}
	}
	if best == "" {
		return Unknown, ""
	}
	kind := keywords[best].kind
	for _, w := range others {
		if !context[kind][w] {
			return Unknown, ""
		}
	}
	return kind, strings.ToUpper(best)
}

func joinPairs(ws []string) []string {
	out := make([]string, 0, len(ws))
	for i := 0; i < len(ws); i++ {
		if i+1 < len(ws) {
			if joined, ok := pairs[[2]string{ws[i], ws[i+1]}]; ok {
				out = append(out, joined)
				i++
				continue
			}
		}
		out = append(out, ws[i])
	}
	return out
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

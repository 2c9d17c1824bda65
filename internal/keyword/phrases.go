package keyword

import (
	"regexp"
	"slices"
	"strings"
)

// phrase is a word pattern found anywhere in a message. Patterns are
// regular expressions over normalised words joined by single spaces
// (see words); they match whole words only.
type phrase struct {
	re *regexp.Regexp
	// accept, when set, vets a match given the words before and after it
	// ("can't go on" is crisis language; "can't go on Friday" is not).
	accept func(before, after []string) bool
}

type group struct {
	patterns []string
	accept   func(before, after []string) bool
}

func phrases(accept func(before, after []string) bool, patterns ...string) group {
	return group{patterns: patterns, accept: accept}
}

func anchored(pattern string) *regexp.Regexp {
	return regexp.MustCompile(`^(?:` + pattern + `)(?: |$)`)
}

// phraseSet finds the first of its phrases in a message. One regular
// expression for the whole set rules out most word positions at once.
type phraseSet struct {
	any     *regexp.Regexp
	phrases []phrase
}

func newPhraseSet(groups ...group) phraseSet {
	var s phraseSet
	var all []string
	for _, g := range groups {
		for _, p := range g.patterns {
			s.phrases = append(s.phrases, phrase{re: anchored(p), accept: g.accept})
			all = append(all, p)
		}
	}
	s.any = anchored(strings.Join(all, "|"))
	return s
}

// maxPhraseWords bounds how far a phrase can reach from its first word;
// matching looks no further, which keeps Classify linear in the length of
// the message.
const maxPhraseWords = 12

// find returns the earliest acceptable match in ws.
func (s phraseSet) find(ws []string) (string, bool) {
	joined := strings.Join(ws, " ")
	starts := make([]int, len(ws)+1) // byte offset of each word, and one past the end
	for i, w := range ws {
		starts[i+1] = starts[i] + len(w) + 1
	}
	for i := range ws {
		window := joined[starts[i] : starts[min(len(ws), i+maxPhraseWords)]-1]
		if !s.any.MatchString(window) {
			continue
		}
		for _, p := range s.phrases {
			loc := p.re.FindStringIndex(window)
			if loc == nil {
				continue
			}
			m := strings.TrimSuffix(window[:loc[1]], " ")
			n := strings.Count(m, " ") + 1
			if p.accept == nil || p.accept(ws[:i], ws[i+n:]) {
				return m, true
			}
		}
	}
	return "", false
}

// Negations that turn an English opt-out phrase around: "don't stop
// texting me", "I do not want to unsubscribe".
var negations = set("dont", "not", "never", "cant", "cannot", "wont", "didnt", "doesnt", "shouldnt", "wouldnt", "isnt")

// Spanish negations; "no" is one only in Spanish ("No, stop texting me").
var negacionesES = set("no", "nunca", "jamas", "tampoco")

func negated(before []string, neg map[string]bool) bool {
	for _, w := range before[max(0, len(before)-3):] {
		if neg[w] {
			return true
		}
	}
	return false
}

func notNegated(before, _ []string) bool { return !negated(before, negations) }
func noNegadoES(before, _ []string) bool { return !negated(before, negacionesES) }
func anywhere(_, _ []string) bool        { return true }

// imperativeOnly accepts a phrase that opens the message or follows a
// politeness: "just leave me alone", not "I want everyone to leave me alone".
func imperativeOnly(before, _ []string) bool {
	return len(before) == 0 || imperativeLead[before[len(before)-1]]
}

// notWaitlist keeps "remove me from the waitlist" (a scheduling request)
// from reading as an opt-out.
func notWaitlist(before, after []string) bool {
	if negated(before, negations) {
		return false
	}
	for _, w := range after[:min(4, len(after))] {
		if w == "waitlist" || w == "waiting" || w == "wait" {
			return false
		}
	}
	return true
}

func notFollowedBy(words ...string) func(before, after []string) bool {
	stop := set(words...)
	return func(_, after []string) bool { return len(after) == 0 || !stop[after[0]] }
}

// imperative lets "stop texting" without an object count only when it reads
// as a request to us: at the start of the message or after a politeness
// ("please stop texting", "can you stop messaging"), not "I should stop
// texting" or "my friend told me to stop texting".
var imperativeLead = set("please", "pls", "plz", "just", "kindly", "can", "could", "would", "will", "you", "u",
	"ok", "okay", "hey", "hi", "hello", "so", "now", "and", "thanks", "thank", "seriously", "yes", "no")

// messageObjects are what "stop texting ..." may be followed by and still be
// about our messages.
var messageObjects = set("me", "us", "this", "these", "those", "them", "it", "all", "any", "anymore", "now",
	"please", "pls", "plz", "immediately", "again", "thanks", "thank", "messages", "texts", "msgs", "sms",
	"reminders", "here", "ever")

func stopVerbAccept(before, after []string) bool {
	if negated(before, negations) {
		return false
	}
	if len(after) > 0 {
		switch after[0] {
		case "me", "us":
			return true // plainly addressed to the sender: "I want you to stop texting me"
		case "my":
			return len(after) > 1 && slices.Contains([]string{"number", "phone", "cell", "mobile"}, after[1])
		}
		if !messageObjects[after[0]] {
			return false // "stop texting him", "stop messaging my ex"
		}
	}
	return len(before) == 0 || imperativeLead[before[len(before)-1]]
}

const (
	messageNouns = `(?:texts?|txts?|messages?|msgs?|sms|reminders?|notifications?|emails?|alerts?|notes?)`
	sendVerbsIng = `(?:texting|txting|messaging|msging|msg|contacting|emailing|sending|bothering|spamming)`
	sendVerbs    = `(?:text|txt|message|msg|contact|email|sms|send)`
)

// optOutPhrases are free-text opt-outs: clear requests to stop these
// messages, in English and Spanish.
var optOutPhrases = newPhraseSet(
	phrases(stopVerbAccept, `(?:stop|quit|cease) `+sendVerbsIng),
	phrases(notNegated,
		`(?:stop|quit|cease)(?: (?:sending|receiving|getting|with))?(?: (?:me|these|this|those|the|your|any|all|of|more))* `+messageNouns,
		`(?:dont|do not|never|no longer) `+sendVerbs+` (?:me|us|this number)`,
		`(?:take|get) (?:me|my number) off(?: of)?(?: (?:the|this|your|ur|that|these))? (?:list|mailing list|`+messageNouns+`)`,
		`unsubscribe`,
		`opt (?:me )?out`,
		`optout`,
		`no more `+messageNouns,
		`(?:i dont|i do not|dont) want (?:any more|anymore|more|these|your|any) `+messageNouns,
		`wrong (?:number|person)`,
	),
	phrases(notWaitlist, `(?:remove|delete|erase) (?:me|us|my number|my phone|my cell|this number|my info)`),
	phrases(imperativeOnly, `leave me alone`),
	phrases(anywhere,
		`no (?:me |nos )?(?:envies|envien|envie|mandes|manden|mande|escribas|escriban|escriba|contactes|contacten|contacte|molestes|molesten)`,
		`no (?:quiero|deseo) (?:recibir )?(?:mas )?(?:mensajes|textos|sms|recordatorios|correos)`,
		`no mas (?:mensajes|textos|sms|recordatorios)`,
	),
	phrases(noNegadoES,
		`(?:deja|dejen|deje|dejar|dejes) de (?:enviar|mandar|escribir|contactar|molestar)(?:me|nos)?`,
		`(?:deja|dejen|deje|dejar) de recibir`,
		`de baja`,
		`(?:borra|borren|borre|borrar|saca|saquen|saque|sacar|elimina|eliminen|elimine|eliminar|quita|quiten|quite|quitar)(?:me|nos)? de (?:la|esta|su|tu|sus|tus) (?:lista|mensajes)`,
		`(?:borra|borren|borre|elimina|eliminen|elimine) mi numero`,
		`numero equivocado`,
	),
)

// timeWords follow "can't go on" when it is about a day, not about life.
var timeWords = []string{
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
	"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
	"today", "tomorrow", "tonight", "the", "that", "this", "next", "a", "an", "at", "my", "our", "your",
	"vacation", "holiday", "leave", "trips", "trip", "time", "in", "on", "with", "to",
}

// crisisPhrases are crisis language in English and Spanish. They are
// matched anywhere and never negated ("I don't want to die" still earns the
// crisis reply: a false alarm costs a kind message, a miss costs more).
var crisisPhrases = newPhraseSet(
	phrases(anywhere,
		`(?:want|wanna|wish|ready|plan|planning|deserve) (?:to )?die`,
		`(?:want|wanna|wish i could|wish to) (?:be dead|disappear forever|not exist|not wake up|stop existing)`,
		`(?:kill|killing|unalive|unaliving|off|offing) myself`,
		`kms`,
		`suicid[a-z]*`,
		`(?:end|ending|take|taking) (?:my|my own) life`,
		`(?:hurt|hurting|harm|harming) myself`,
		`self harm(?:ing)?`,
		`selfharm(?:ing)?`,
		`no reason to (?:live|be alive|keep going|go on)`,
		`nothing (?:left )?to live for`,
		`not worth living`,
		`life (?:is not|isnt) worth (?:it|living)`,
		`(?:dont|do not) want to (?:live|be alive|be here anymore|exist|wake up)`,
		`(?:better off|be better) (?:dead|without me)`,
		`wish i (?:was|were) dead`,
		`wish i (?:wasnt|werent|was never|had never been) (?:alive|born|here)`,
		`overdos(?:e|ed|ing)`,
		`(?:cant|cannot|can not) (?:do this|take it|live like this) anymore`,
	),
	phrases(notFollowedBy("with"),
		`(?:end|ending|ended) (?:it all|everything)`,
		`end things`,
	),
	// Overdose in plain words, feeling unsafe, and plans or means.
	phrases(anywhere,
		`(?:took|take|taken|taking|swallowed|swallow|swallowing) (?:all|a bunch|a handful|the whole bottle|too many|way too many|all of) (?:of )?(?:my |the |these |those |his |her )?(?:pills|tablets|meds|medication|medicine|sleeping pills)`,
		`(?:took|take|taken|swallowed) (?:a|the) (?:whole )?bottle of (?:pills|tablets|meds)`,
		`(?:im|i am|i m) not safe`,
		`(?:dont|do not|no longer|dont really) feel safe`,
		`not safe (?:with|around) myself`,
		`(?:going|gonna|want|planning|plan) to (?:jump|hang myself|shoot myself|drown myself)`,
		`(?:jump|jumping) (?:off|from) (?:a|the|this) (?:bridge|building|roof)`,
		`(?:hang|hanging) myself`,
		`(?:wrote|writing|left) (?:a|my) (?:suicide |goodbye )?note`,
		`(?:saying|say) goodbye (?:to everyone|for good|forever)`,
		`(?:wont|will not) (?:be here|be around|wake up) tomorrow`,
	),
	phrases(notFollowedBy(timeWords...),
		`(?:cant|cannot|can not) (?:go on|keep going)`,
	),
	phrases(notFollowedBy("shaving", "cooking", "accidentally", "on", "while", "with", "by"),
		`(?:cut|cutting) myself`,
	),
	phrases(anywhere,
		`(?:me )?(?:quiero|quisiera|queria|deseo|ganas de|prefiero) morir(?:me)?`,
		`me (?:quiero|voy a) (?:morir|matar)`,
		`(?:quiero|voy a|pienso|pensando en|ganas de) matarme`,
		`(?:hacerme|me hago|me hice) dano`,
		`lastimarme`,
		`autolesion[a-z]*`,
		`cortarme (?:las venas|los brazos|las munecas|otra vez)`,
		`quitarme la vida`,
		`(?:acabar|terminar|acabando|terminando) con (?:mi vida|todo)`,
		`(?:me tome|tome|me trague|me tomo|tomarme) (?:todas|un monton de|muchas|el bote de|el frasco de) (?:mis |las )?(?:pastillas|pildoras|medicinas|pastis)`,
		`no estoy a salvo`,
		`no me siento (?:a salvo|segura|seguro)`,
		`(?:quiero|voy a) (?:desaparecer|tirarme|aventarme|colgarme|ahorcarme)`,
		`(?:tirarme|aventarme) (?:de|del|desde) (?:un|el|la|una) (?:puente|edificio|techo|azotea)`,
		`(?:deje|escribi) una carta de despedida`,
		`no quiero (?:vivir|seguir viviendo|existir|despertar)`,
		`(?:no tengo|sin) (?:ninguna )?razon(?:es)? para vivir`,
		`no vale la pena vivir`,
		`ya no puedo mas`,
		`mejor (?:muerto|muerta)`,
		`(?:estarian|estaria|estan|estarias) mejor sin mi`,
	),
	phrases(func(_, after []string) bool {
		return len(after) == 0 || slices.Contains([]string{"asi", "viviendo", "adelante", "mas", "ya"}, after[0])
	}, `no puedo seguir`),
)

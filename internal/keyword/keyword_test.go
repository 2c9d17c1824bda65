package keyword

import (
	"strings"
	"testing"
)

// variants returns the ways clients type a keyword: cases, white space,
// punctuation, emoji, fullwidth letters.
func variants(kw string) []string {
	lower, upper := strings.ToLower(kw), strings.ToUpper(kw)
	title := upper[:1] + lower[1:]
	return []string{
		kw, lower, upper, title,
		"  " + kw + "  ", "\t" + lower + "\n",
		upper + ".", upper + "!", lower + "!!!", title + "?", `"` + upper + `"`, "*" + lower + "*",
		upper + " 🙏", "🙂 " + lower,
		toFullwidth(upper),
	}
}

func toFullwidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7f {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestKeywordTable is the table behind PRODUCT.md invariants 2, 9 and 10:
// every keyword, in several cases and punctuations, gives its kind.
func TestKeywordTable(t *testing.T) {
	table := []struct {
		kind     Kind
		keyword  string // normalised Result.Keyword
		messages []string
	}{
		{OptOut, "STOP", []string{"stop", "stop please", "please stop", "STOP STOP STOP", "stop it", "Stop now", "stop thanks"}},
		{OptOut, "STOPALL", []string{"stopall", "stop all"}},
		{OptOut, "UNSUBSCRIBE", []string{"unsubscribe"}},
		{OptOut, "CANCEL", []string{"cancel", "cancel please"}},
		{OptOut, "END", []string{"end"}},
		{OptOut, "QUIT", []string{"quit"}},
		{OptOut, "REVOKE", []string{"revoke"}},
		{OptOut, "OPTOUT", []string{"optout", "opt out", "opt-out", "OPT_OUT"}},
		{OptOut, "PARA", []string{"para", "para por favor"}},
		{OptOut, "BASTA", []string{"basta", "basta ya"}},
		{OptOut, "CANCELAR", []string{"cancelar"}},
		{OptOut, "ALTO", []string{"alto"}},
		{OptIn, "START", []string{"start", "start again"}},
		{OptIn, "UNSTOP", []string{"unstop", "un-stop"}},
		{OptIn, "YES", []string{"yes"}},
		{Help, "HELP", []string{"help", "help me", "i need help", "help please"}},
		{Help, "INFO", []string{"info", "more info"}},
		{Help, "AYUDA", []string{"ayuda", "ayuda por favor"}},
		{Confirm, "C", []string{"c", "C.", "yes c", "c yes", "c thanks", "ok c", "c para confirmar", "c to confirm", "c see you then"}},
		{Confirm, "CONFIRM", []string{"confirm", "i confirm"}},
		{Confirm, "CONFIRMED", []string{"confirmed"}},
		{Confirm, "CONFIRMAR", []string{"confirmar"}},
		{Confirm, "CONFIRMO", []string{"confirmo"}},
		{Confirm, "SI", []string{"sí", "si", "Sí, gracias"}},
		{Reschedule, "R", []string{"r", "R.", "r please", "r por favor", "R para reprogramar"}},
		{Reschedule, "RESCHEDULE", []string{"reschedule", "i need to reschedule", "can we reschedule", "reschedule my appointment please"}},
		{Reschedule, "REPROGRAMAR", []string{"reprogramar", "quiero reprogramar la cita"}},
		{Reschedule, "CAMBIAR", []string{"cambiar", "necesito cambiar mi cita"}},
	}
	for _, row := range table {
		for _, msg := range row.messages {
			for _, v := range variants(msg) {
				got := Classify(v)
				if got.Kind != row.kind || got.Keyword != row.keyword {
					t.Errorf("Classify(%q) = %v %q, want %v %q", v, got.Kind, got.Keyword, row.kind, row.keyword)
				}
			}
		}
	}
}

func TestUnicodeTolerance(t *testing.T) {
	tests := []struct {
		body string
		kind Kind
	}{
		{"ＳＴＯＰ", OptOut},                  // fullwidth
		{"ｓｔｏｐ！", OptOut},                 // fullwidth lower case and punctuation
		{"ST\u200bOP", OptOut},            // zero-width space inside
		{"\ufeffSTOP", OptOut},            // byte-order mark
		{"S\u0301TOP", OptOut},            // combining accent
		{"stöp", OptOut},                  // accent
		{"STOP\u00a0", OptOut},            // no-break space
		{"Ｃ", Confirm},                    // fullwidth C
		{"ＨＥＬＰ", Help},                    // fullwidth
		{"Sí", Confirm},                   // precomposed
		{"Si\u0301", Confirm},             // decomposed
		{"don’t text me anymore", OptOut}, // curly apostrophe
		{"QUIERO MORIR", Crisis},
		{"no me envíes más mensajes", OptOut},
		{"no me envies mas mensajes", OptOut},
	}
	for _, tt := range tests {
		if got := Classify(tt.body); got.Kind != tt.kind {
			t.Errorf("Classify(%q) = %v, want %v", tt.body, got.Kind, tt.kind)
		}
	}
}

func TestFreeTextOptOut(t *testing.T) {
	for _, body := range []string{
		"please stop texting me",
		"Please stop texting me.",
		"stop messaging me",
		"Stop sending me these messages",
		"stop the texts",
		"can you stop texting me",
		"I want you to stop texting me",
		"please stop texting",
		"stop contacting me please",
		"stop texting my number",
		"Hi, this is Sam. Please stop texting me!",
		"don't text me anymore",
		"Do not contact me",
		"never text me again",
		"remove me from this list",
		"Remove me from your list please",
		"remove my number",
		"take me off your list",
		"take me off the texts",
		"unsubscribe me",
		"how do I unsubscribe?",
		"I want to opt out",
		"opt me out",
		"no more texts",
		"No more messages please",
		"no more reminders",
		"I don't want these messages",
		"just leave me alone",
		"wrong number",
		"You have the wrong person",
		"No, stop texting me",
		"stop receiving these texts",
		// Spanish
		"no me envíes más mensajes",
		"No me manden mensajes",
		"no me escribas",
		"dejen de enviarme mensajes",
		"deja de escribirme",
		"quiero dejar de recibir mensajes",
		"quiero darme de baja",
		"dame de baja",
		"no quiero recibir más mensajes",
		"no más mensajes",
		"bórrenme de la lista",
		"sácame de esta lista",
		"borren mi número",
		"número equivocado",
	} {
		if got := Classify(body); got.Kind != OptOut || got.Keyword == "" {
			t.Errorf("Classify(%q) = %+v, want OptOut", body, got)
		}
	}
}

// TestNoFalseOptOuts: messages that mention a keyword without asking us to
// stop must not silence a client.
func TestNoFalseOptOuts(t *testing.T) {
	for _, body := range []string{
		"can't stop thinking about our session",
		"I can't stop thinking about what you said",
		"I'll stop by",
		"I'll stop by the office tomorrow",
		"stopwatch",
		"bus stop",
		"see you at the end of the week",
		"the end",
		"end of the week works",
		"weekend",
		"I quit my job",
		"quitting coffee",
		"cancel my appointment",
		"I need to cancel",
		"cancellation policy?",
		"I should stop texting my ex",
		"I need to stop texting him",
		"my friend told me to stop texting",
		"please don't stop texting me",
		"Don't stop the messages, they help",
		"I do not want to unsubscribe",
		"I don't want to opt out",
		"remove me from the waitlist",
		"can you take me off the waitlist",
		"I want everyone to leave me alone",
		"stop reading your messages",
		"Para mañana está bien",
		"voy para allá",
		"C para confirmar",
		"no quiero dejar de recibir mensajes",
		"no dejes de escribirme",
		"get me off work early",
		"Cancel. Can we do Friday instead?",
		"The end. See you Tuesday",
		"start",
		"yes",
	} {
		if got := Classify(body); got.Kind == OptOut || got.AlsoOptOut {
			t.Errorf("Classify(%q) = %+v, want no opt-out", body, got)
		}
	}
}

func TestNotOtherKinds(t *testing.T) {
	tests := []struct {
		body string
		want Kind
	}{
		{"", Unknown},
		{"   ", Unknown},
		{"👍", Unknown},
		{"ok", Unknown},
		{"yes please", Unknown},    // YES is OptIn only alone
		{"yes yes", Unknown},       // likewise
		{"Plan C", Unknown},        // C inside a sentence
		{"r u there?", Unknown},    // R inside a sentence
		{"I'll be there", Unknown}, // intent, but no keyword: staff will read it
		{"helpful, thanks", Unknown},
		{"start time?", Unknown},
		{"info@example.com", Unknown},
		{"thanks!", Unknown},
		{"Can I bring my partner?", Unknown},
		{"see you then", Unknown},
	}
	for _, tt := range tests {
		if got := Classify(tt.body); got.Kind != tt.want {
			t.Errorf("Classify(%q) = %+v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestCrisis(t *testing.T) {
	for _, body := range []string{
		"I want to die",
		"i wanna die",
		"honestly I just want to die tonight",
		"I'm going to kill myself",
		"thinking about killing myself",
		"I want to end it all",
		"I want to end my life",
		"suicide",
		"I've been feeling suicidal",
		"I keep wanting to hurt myself",
		"I hurt myself again",
		"I cut myself last night",
		"self-harm",
		"there's no reason to live",
		"I have nothing left to live for",
		"I can't go on",
		"I can't go on like this",
		"i cant go on anymore",
		"I can't take it anymore",
		"I don't want to be here anymore",
		"I don't want to live",
		"everyone would be better off without me",
		"I wish I was dead",
		"kms",
		"I took an overdose",
		// Spanish
		"quiero morir",
		"Me quiero morir",
		"ya no quiero vivir",
		"pienso en suicidarme",
		"quiero hacerme daño",
		"me hice daño otra vez",
		"voy a quitarme la vida",
		"quiero acabar con todo",
		"no tengo razón para vivir",
		"ya no puedo más",
		"no puedo seguir así",
		"estarían mejor sin mí",
		// Broadened phrases: overdose in plain words, feeling unsafe,
		// plans and means, goodbyes.
		"I'm thinking about ending it all",
		"ending it all tonight",
		"I took all my pills",
		"took a bunch of pills an hour ago",
		"I swallowed a handful of sleeping pills",
		"took a whole bottle of pills",
		"I'm not safe",
		"im not safe right now",
		"I am not safe with myself tonight",
		"I don't feel safe",
		"I'm going to jump",
		"thinking of jumping off a bridge",
		"I want to hang myself",
		"I wrote a goodbye note",
		"I won't be here tomorrow",
		"me tomé todas las pastillas",
		"me tomé todas mis pastillas",
		"no estoy a salvo",
		"no me siento segura",
		"quiero desaparecer",
		"voy a tirarme de un puente",
		"estoy pensando en acabar con todo",
		"dejé una carta de despedida",
	} {
		got := Classify(body)
		if got.Kind != Crisis || got.Keyword == "" {
			t.Errorf("Classify(%q) = %+v, want Crisis", body, got)
		}
		if got.AlsoOptOut {
			t.Errorf("Classify(%q) = %+v, want no opt-out", body, got)
		}
	}
}

func TestNotCrisis(t *testing.T) {
	for _, body := range []string{
		"I can't go on Friday, can we move it?",
		"can't go on the 12th",
		"I can't keep going to these on Mondays",
		"I need to end things with him",
		"ending things with my partner was hard",
		"I cut myself shaving lol",
		"I feel safe here, thank you",
		"is the parking lot safe at night?",
		"we took all the chairs to room 4",
		"see you at the end",
		"dying to see you",
		"quiero cortarme el pelo",
		"no puedo seguir con la cita del martes",
	} {
		if got := Classify(body); got.Kind == Crisis {
			t.Errorf("Classify(%q) = %+v, want no crisis", body, got)
		}
	}
}

// TestPrecedence: Crisis first and always, with the opt-out carried along;
// then OptOut > OptIn > Help > Confirm > Reschedule.
func TestPrecedence(t *testing.T) {
	tests := []struct {
		body       string
		want       Kind
		keyword    string
		alsoOptOut bool
		optOutKw   string
	}{
		{"STOP. I want to die", Crisis, "WANT TO DIE", true, "STOP"},
		{"please stop texting me, I want to kill myself", Crisis, "KILL MYSELF", true, "STOP TEXTING"},
		{"suicide", Crisis, "SUICIDE", false, ""},
		{"no me envíes más mensajes, quiero morir", Crisis, "QUIERO MORIR", true, "NO ME ENVIES"},
		{"help I want to die", Crisis, "WANT TO DIE", false, ""},
		{"STOP HELP", OptOut, "STOP", false, ""},
		{"help stop", OptOut, "STOP", false, ""},
		{"Thanks for everything. STOP", OptOut, "STOP", false, ""},
		{"Got it!\nunsubscribe", OptOut, "UNSUBSCRIBE", false, ""},
		{"start stop", OptOut, "STOP", false, ""},
		{"c, and please stop texting me", OptOut, "STOP TEXTING", false, ""},
		{"confirm cancel", OptOut, "CANCEL", false, ""},
		{"start help", OptIn, "START", false, ""},
		{"help c", Help, "HELP", false, ""},
		{"c r", Confirm, "C", false, ""},
		{"r c", Confirm, "C", false, ""},
		{"yes c", Confirm, "C", false, ""},
		{"yes", OptIn, "YES", false, ""},
	}
	for _, tt := range tests {
		got := Classify(tt.body)
		want := Result{Kind: tt.want, Keyword: tt.keyword, AlsoOptOut: tt.alsoOptOut, OptOutKeyword: tt.optOutKw}
		if got != want {
			t.Errorf("Classify(%q) = %+v, want %+v", tt.body, got, want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Unknown: "unknown", OptOut: "opt_out", OptIn: "opt_in", Help: "help", Confirm: "confirm", Reschedule: "reschedule", Crisis: "crisis", Kind(42): "Kind(42)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}

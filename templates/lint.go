package templates

import (
	"fmt"
	"html"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Severities of a Finding. Error findings must be fixed before a Set is
// used; warnings are worth a look.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Lint rules.
const (
	RuleRender          = "render"           // the template fails with sample values
	RuleFallback        = "fallback-locale"  // a kind/format lacks the FallbackLocale version
	RuleHealthWord      = "health-word"      // a word reveals a diagnosis, modality or specialty
	RuleShamingWord     = "shaming-word"     // a gentle message counts, compares or scolds
	RuleKeywordTrap     = "keyword-trap"     // asks the client to send an opt-out (or opt-in) word
	RuleOptOutLine      = "opt-out-line"     // SMS lacks "Reply STOP to opt out"
	RuleUnsubscribe     = "unsubscribe-link" // email lacks the unsubscribe URL
	RulePostalAddress   = "postal-address"   // email lacks the practice's postal address
	RuleEmergencyFooter = "emergency-footer" // lacks "not monitored for emergencies"
	RuleCrisisLine      = "crisis-line"      // a crisis reply lacks the crisis line
	RuleSubject         = "email-subject"    // subject empty or more than one line
	RuleSMSEncoding     = "sms-encoding"     // SMS needs UCS-2
	RuleSMSSegments     = "sms-segments"     // SMS longer than LintConfig.MaxSMSSegments
)

// Finding is one problem Lint found in a file.
type Finding struct {
	File     string // file name, e.g. "reminder.es.sms.tmpl"; empty for LintBody
	Severity string // SeverityError or SeverityWarning
	Rule     string // one of the Rule constants
	Message  string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s [%s] %s", f.File, f.Severity, f.Rule, f.Message)
}

// Requirement says what messages of one kind must contain.
type Requirement struct {
	SMSOptOut          bool // SMS carries the opt-out line (OptOutLine or "Reply STOP to opt out")
	EmailUnsubscribe   bool // email text and HTML carry UnsubscribeURL
	EmailPostalAddress bool // email text and HTML carry PracticePostalAddress
	EmergencyFooter    bool // every format carries the "not monitored for emergencies" footer
	CrisisLine         bool // SMS carries the crisis line (CrisisLine)
	NoShaming          bool // no ShamingWords
	// AsksYES allows asking the client to reply YES: the double opt-in
	// request, where YES is exactly the opt-in it names.
	AsksYES bool
}

// LintConfig configures Lint. Start from DefaultLintConfig.
type LintConfig struct {
	// HealthWords must not appear in any message (whole words or phrases,
	// ignoring case and accents).
	HealthWords []string
	// ShamingWords must not appear in kinds whose Requirement has NoShaming.
	ShamingWords []string
	// Requirements by kind; kinds not listed (a practice's own kinds) use
	// OtherKinds.
	Requirements map[string]Requirement
	OtherKinds   Requirement
	// MaxSMSSegments is the segment count above which an SMS draws a
	// warning; zero means 2.
	MaxSMSSegments int
	// Vars replace Lint's sample values, for example with a practice's real
	// PracticeName, OptOutLine and EmergencyFooter, so that the lint sees
	// what clients will.
	Vars map[string]any
}

// DefaultLintConfig returns nudge's rules: the built-in health and shaming
// word lists; an opt-out line on encouragement, journal, announcement, help
// and resubscribe SMS (and on any kind nudge does not know); an unsubscribe
// link and postal address on every email; the emergency footer on
// encouragement, journal nudges and help; the crisis line on crisis replies;
// no shaming words in encouragement and journal nudges; a warning above two
// SMS segments.
func DefaultLintConfig() LintConfig {
	email := Requirement{EmailUnsubscribe: true, EmailPostalAddress: true}
	with := func(f func(*Requirement)) Requirement {
		r := email
		f(&r)
		return r
	}
	return LintConfig{
		HealthWords:  slices.Clone(defaultHealthWords),
		ShamingWords: slices.Clone(defaultShamingWords),
		Requirements: map[string]Requirement{
			KindReminder:            email,
			KindBooked:              email,
			KindConfirmed:           email,
			KindRescheduleRequested: email,
			KindOptedOut:            email,
			KindEncouragement: with(func(r *Requirement) {
				r.SMSOptOut, r.EmergencyFooter, r.NoShaming = true, true, true
			}),
			KindJournalNudge: with(func(r *Requirement) {
				r.SMSOptOut, r.EmergencyFooter, r.NoShaming = true, true, true
			}),
			KindAnnouncement: with(func(r *Requirement) { r.SMSOptOut = true }),
			KindHelp: with(func(r *Requirement) {
				r.SMSOptOut, r.EmergencyFooter = true, true
			}),
			KindResubscribed: with(func(r *Requirement) { r.SMSOptOut = true }),
			KindOptInRequest: with(func(r *Requirement) { r.SMSOptOut, r.AsksYES = true, true }),
			KindOptInWelcome: with(func(r *Requirement) { r.SMSOptOut, r.EmergencyFooter = true, true }),
			KindCrisis:       with(func(r *Requirement) { r.CrisisLine = true }),
			// Staff alerts go to the practice's own on-call people: no
			// opt-out line, unsubscribe link or postal address.
			KindCrisisAlert: {},
		},
		OtherKinds:     with(func(r *Requirement) { r.SMSOptOut = true }),
		MaxSMSSegments: 2,
	}
}

func (c LintConfig) requirement(kind string) Requirement {
	if r, ok := c.Requirements[kind]; ok {
		return r
	}
	return c.OtherKinds
}

// Lint renders every template in s with sample values, for every location
// kind and every line of its line library, and checks the output: what
// clients would actually read. Findings are sorted by file.
func Lint(s *Set, cfg LintConfig) []Finding {
	l := newLinter(cfg)
	for _, key := range sortedKeys(s.parts) {
		if key.locale != FallbackLocale {
			if _, ok := s.parts[partKey{key.kind, FallbackLocale, key.part}]; !ok {
				l.add(s.parts[key].file, SeverityError, RuleFallback, "no %s version to fall back to", FallbackLocale)
			}
		}
		l.lintPart(s, key)
	}
	for _, key := range slices.SortedFunc(maps.Keys(s.lines), func(a, b linesKey) int {
		return strings.Compare(a.kind+"."+a.locale, b.kind+"."+b.locale)
	}) {
		lf := s.lines[key]
		for i, line := range lf.lines {
			for _, f := range l.content(line, cfg.requirement(key.kind), "") {
				f.File = lf.file
				f.Message = fmt.Sprintf("line %d: %s", i+1, f.Message)
				l.findings = append(l.findings, f)
			}
		}
	}
	slices.SortStableFunc(l.findings, func(a, b Finding) int { return strings.Compare(a.File, b.File) })
	return l.findings
}

// LintBody checks text written at run time, such as a staff member's
// announcement body, for health words and keyword traps.
func LintBody(body string, cfg LintConfig) []Finding {
	return newLinter(cfg).content(body, Requirement{}, "")
}

type linter struct {
	cfg      LintConfig
	health   phraseMatcher
	shaming  phraseMatcher
	findings []Finding
}

func newLinter(cfg LintConfig) *linter {
	return &linter{cfg: cfg, health: newPhraseMatcher(cfg.HealthWords), shaming: newPhraseMatcher(cfg.ShamingWords)}
}

func (l *linter) add(file, severity, rule, format string, args ...any) {
	l.findings = append(l.findings, Finding{File: file, Severity: severity, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

func (k partKey) file() string { return k.kind + "." + k.locale + "." + k.part + ".tmpl" }

func sortedKeys(m map[partKey]*part) []partKey {
	return slices.SortedFunc(maps.Keys(m), func(a, b partKey) int { return strings.Compare(a.file(), b.file()) })
}

// sampleVars are the values Lint renders with: realistic lengths, neutral
// content.
func sampleVars(locale string) map[string]any {
	v := map[string]any{
		"FirstName":             "Alexandra",
		"PracticeName":          "Lakeside Counseling",
		"When":                  "Thu, Mar 12 at 3:30 PM",
		"Link":                  "",
		"LocationKind":          "in_person",
		"PracticePostalAddress": "123 Harbor St, Suite 4, Portland, OR 97201",
		"UnsubscribeURL":        "https://nudge.example.com/u/8f3k2j9q",
		"Body":                  "Next week the Thursday group meets at 6 PM in Room 2.",
		"Message":               "You're doing better than you think.",
		"PerWeek":               2,
	}
	if l := normalizeLocale(locale); l == "es" || strings.HasPrefix(l, "es-") {
		v["FirstName"] = "Alejandra"
		v["When"] = "jueves 12 de marzo a las 15:30"
		v["Body"] = "La semana que viene el grupo del jueves empieza a las 18:00 en la sala 2."
		v["Message"] = "Vas mejor de lo que crees."
	}
	maps.Copy(v, CommonVars(locale, "988"))
	return v
}

type variant struct {
	label string // what differs from the base sample, for messages
	vars  map[string]any
}

// variants are the renderings Lint checks for one template: each location
// kind, and for SMS length each line of the kind's line library.
func (l *linter) variants(s *Set, key partKey) (content, length []variant) {
	base := sampleVars(key.locale)
	maps.Copy(base, l.cfg.Vars)
	inPerson := maps.Clone(base)
	tele := maps.Clone(base)
	tele["LocationKind"], tele["Link"] = "telehealth", "https://meet.example.com/j/4821-7730"
	content = []variant{{"LocationKind in_person", inPerson}, {"LocationKind telehealth", tele}}
	length = content
	if p := s.parts[key]; slices.Contains(p.vars, "Message") {
		if lines := s.Lines(key.kind, key.locale); len(lines) > 0 {
			length = nil
			file := s.linesFile(key.kind, key.locale)
			for i, line := range lines {
				v := maps.Clone(inPerson)
				v["Message"] = line
				length = append(length, variant{fmt.Sprintf("%s line %d", file, i+1), v})
			}
		}
	}
	return content, length
}

func (s *Set) linesFile(kind, locale string) string {
	for _, l := range localeFallbacks(locale) {
		if lf, ok := s.lines[linesKey{kind, l}]; ok {
			return lf.file
		}
	}
	return ""
}

func (l *linter) lintPart(s *Set, key partKey) {
	p := s.parts[key]
	file := p.file
	req := l.cfg.requirement(key.kind)
	content, length := l.variants(s, key)
	sub := &linter{cfg: l.cfg, health: l.health, shaming: l.shaming}
	for _, v := range content {
		out, err := p.render(v.vars)
		if err != nil {
			l.add(file, SeverityError, RuleRender, "with %s: %v", v.label, err)
			return
		}
		for _, f := range sub.content(htmlText(key.part, out), req, optOutLine(v.vars)) {
			f.File = file
			sub.findings = append(sub.findings, f)
		}
		sub.required(file, key.part, out, req, v.vars)
	}
	// Both location kinds usually find the same things: keep one of each.
	seen := map[Finding]bool{}
	for _, f := range sub.findings {
		if !seen[f] {
			seen[f] = true
			l.findings = append(l.findings, f)
		}
	}
	if key.part == partSMS {
		l.smsLength(file, p, length)
	}
}

// htmlText returns what a reader sees of an HTML part: tags dropped,
// entities decoded. Other parts are returned as they are.
func htmlText(partName, out string) string {
	if partName != partEmailHTML {
		return out
	}
	return html.UnescapeString(tagPattern.ReplaceAllString(out, " "))
}

var tagPattern = regexp.MustCompile(`<[^>]*>`)

func optOutLine(vars map[string]any) string {
	s, _ := vars["OptOutLine"].(string)
	return s
}

// required checks what req says the rendered part must contain.
func (l *linter) required(file, partName, out string, req Requirement, vars map[string]any) {
	text := htmlText(partName, out)
	has := func(name string) bool {
		v, _ := vars[name].(string)
		return v != "" && strings.Contains(text, v)
	}
	switch partName {
	case partSMS:
		if req.SMSOptOut && !has("OptOutLine") && !optOutInstruction.MatchString(fold(text)) {
			l.add(file, SeverityError, RuleOptOutLine, "SMS must tell how to opt out: add {{.OptOutLine}}")
		}
		if req.CrisisLine && !has("CrisisLine") {
			l.add(file, SeverityError, RuleCrisisLine, "crisis reply must give the crisis line: add {{.CrisisLine}}")
		}
	case partEmailSubject:
		if text == "" || strings.ContainsAny(text, "\r\n") {
			l.add(file, SeverityError, RuleSubject, "subject must be one non-empty line")
		}
		return
	case partEmailText, partEmailHTML:
		url, _ := vars["UnsubscribeURL"].(string)
		if req.EmailUnsubscribe && (url == "" || !strings.Contains(html.UnescapeString(out), url)) {
			l.add(file, SeverityError, RuleUnsubscribe, "email must carry the unsubscribe link: add {{.UnsubscribeURL}}")
		}
		if req.EmailPostalAddress && !has("PracticePostalAddress") {
			l.add(file, SeverityError, RulePostalAddress, "email must carry the practice's postal address: add {{.PracticePostalAddress}}")
		}
	}
	if req.EmergencyFooter && !has("EmergencyFooter") && !notMonitored.MatchString(fold(text)) {
		l.add(file, SeverityError, RuleEmergencyFooter, "must say it is not monitored for emergencies: add {{.EmergencyFooter}}")
	}
}

// content checks text anyone might write: health words, shaming words
// (when req forbids them) and keyword traps. optOut is the dedicated
// opt-out line, where STOP is expected.
func (l *linter) content(text string, req Requirement, optOut string) []Finding {
	var out []Finding
	add := func(rule, format string, args ...any) {
		out = append(out, Finding{Severity: SeverityError, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	for _, w := range l.health.find(text) {
		add(RuleHealthWord, "%q reveals health details (minimum necessary: first name, time, practice name, link)", w)
	}
	if req.NoShaming {
		for _, w := range l.shaming.find(text) {
			add(RuleShamingWord, "%q counts or scolds; keep this message gentle", w)
		}
	}
	for _, trap := range keywordTraps(text, optOut, req.AsksYES) {
		add(RuleKeywordTrap, "%s", trap)
	}
	return out
}

var (
	// trapPattern finds an instruction to send a reserved keyword: a verb,
	// up to three filler words, then the keyword. Spanish "para" is a trap
	// only in capitals: lower case it is the preposition ("responde C para
	// confirmar").
	trapPattern = regexp.MustCompile(`(?i:\b(?:reply|respond|text|txt|send|type|write|answer|responde|responda|respondan|responder|contesta|conteste|contestar|envia|envie|enviar|envianos|manda|mande|mandar|escribe|escriba|escribir|escribenos)(?:\s+(?:with|back|us|the|word|con|la|palabra|nos|el|texto)){0,3})\s*[:"'“‘«]?\s*((?i:stopall|stop|cancel|cancelar|end|quit|unsubscribe|revoke|opt[\s-]?out|parar|basta|alto|baja|yes)|PARA)\b`)
	// optOutContext is what may follow "reply STOP": an opt-out purpose.
	optOutContext = regexp.MustCompile(`^\W*(?:\S+\s+){0,3}?(?:opt\s*-?\s*out|unsubscribe|stop\s+(?:receiving|getting)|no\s+more|de\s+baja|dejar\s+de\s+recibir|no\s+recibir|suscripcion)`)
	// optOutInstruction accepts a hand-written opt-out line.
	optOutInstruction = regexp.MustCompile(`\b(?:reply|text|send|responde|envia|escribe)\s+"?stop"?\b`)
	// notMonitored accepts a hand-written emergency footer.
	notMonitored = regexp.MustCompile(`\b(?:not|isn't|aren't|isnt|arent)\s+monitored\b|\bno\s+(?:se\s+)?(?:revisa|revisan|revisamos|monitorea|monitorean|atiende|atienden)\b`)
)

// keywordTraps lists instructions in text to send a keyword that does
// something else than the text says (invariant 10 in docs/invariants.md): CANCEL, END,
// QUIT and friends opt the client out; YES re-subscribes rather than
// confirms; STOP is fine only to opt out.
func keywordTraps(text, optOut string, asksYES bool) []string {
	if optOut != "" {
		text = strings.ReplaceAll(text, optOut, " ")
	}
	text = unaccent(text)
	var out []string
	for _, m := range trapPattern.FindAllStringSubmatchIndex(text, -1) {
		word := text[m[2]:m[3]]
		upper := strings.ToUpper(word)
		switch {
		case upper == "STOP" && optOutContext.MatchString(strings.ToLower(text[m[3]:])):
			continue
		case upper == "YES" && asksYES:
			continue
		case upper == "YES":
			out = append(out, fmt.Sprintf("%q: YES re-subscribes a client who opted out and is not a confirmation; ask for C to confirm", text[m[0]:m[1]]))
		default:
			out = append(out, fmt.Sprintf("%q asks the client to send an opt-out word; use C to confirm and R to reschedule, and STOP only in the opt-out line", text[m[0]:m[1]]))
		}
	}
	return out
}

// smsLength reports the worst encoding and segment count over the
// renderings.
func (l *linter) smsLength(file string, p *part, vs []variant) {
	worst, worstLabel, worstEnc := 0, "", ""
	var ucs []rune
	var ucsLabel string
	for _, v := range vs {
		out, err := p.render(v.vars)
		if err != nil {
			l.add(file, SeverityError, RuleRender, "with %s: %v", v.label, err)
			return
		}
		enc, n := SMSInfo(out)
		if n > worst {
			worst, worstLabel, worstEnc = n, v.label, enc
		}
		if enc == EncodingUCS2 {
			for _, r := range nonGSM(out) {
				if !slices.Contains(ucs, r) {
					ucs = append(ucs, r)
					if ucsLabel == "" {
						ucsLabel = v.label
					}
				}
			}
		}
	}
	if len(ucs) > 0 {
		l.add(file, SeverityWarning, RuleSMSEncoding, "UCS-2 (70 characters a segment, not 160) because of %s, e.g. with %s", quoteRunes(ucs), ucsLabel)
	}
	limit := l.cfg.MaxSMSSegments
	if limit <= 0 {
		limit = 2
	}
	if worst > limit {
		l.add(file, SeverityWarning, RuleSMSSegments, "%d %s segments with %s (keep to %d)", worst, worstEnc, worstLabel, limit)
	}
}

func quoteRunes(rs []rune) string {
	q := make([]string, len(rs))
	for i, r := range rs {
		q[i] = fmt.Sprintf("%q", r)
	}
	return strings.Join(q, " ")
}

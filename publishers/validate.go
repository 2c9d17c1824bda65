package publishers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	// Timezones are validated with time.LoadLocation; embedding the database
	// keeps validation identical on hosts and containers without zoneinfo.
	_ "time/tzdata"
)

// Limits. They are part of the contract with producers, hence exported.
const (
	MaxIDLength        = 200  // id and every *_id in data
	MaxSourceLength    = 1024 // source
	MaxSubjectLength   = 500  // subject
	MaxExtensions      = 20   // extension attributes per event
	MaxExtensionName   = 20   // CloudEvents recommends names of at most 20 characters
	MaxExtensionValue  = 1024 // characters of an extension's JSON value
	MaxFirstNameLength = 100
	MaxBodyLength      = 1600 // announcement body: ten concatenated SMS segments

	// MaxFutureTime is how far ahead of nudge's clock an event's time may
	// be. Events are ordered by time, so an event dated in the future would
	// outrank every real event that follows it (a grant dated 2099 would
	// make each later revocation look older); a few minutes allow for
	// producers' clock skew.
	MaxFutureTime = 5 * time.Minute
)

// now is the clock the future-time rule reads; tests replace it.
var now = time.Now

// envelopeAttributes are the CloudEvents attributes that map onto Event's
// fields; any other top-level member is an extension attribute.
var envelopeAttributes = map[string]struct{}{
	"specversion": {}, "id": {}, "source": {}, "type": {}, "time": {},
	"datacontenttype": {}, "subject": {}, "data": {},
}

// extensionName is the CloudEvents rule for extension attribute names.
var extensionName = regexp.MustCompile(`^[a-z0-9]+$`)

// Validate checks an event that a producer submits: the envelope, the type
// against the intake catalogue, and the data against that type's rules. It
// returns nil or a *ValidationError listing every problem found.
//
// Events that nudge emits (session.confirmed, ...) fail with code
// "not_accepted"; check those with [Event.ValidateEmitted].
func (e Event) Validate() error { return e.check(false, true).err() }

// ValidateEmitted is Validate for the events nudge itself emits: it accepts
// only the emitted catalogue (TypeSessionConfirmed ... TypeSafetyCrisisReply)
// and rejects intake types with code "not_accepted".
func (e Event) ValidateEmitted() error { return e.check(true, false).err() }

// check runs every rule and collects the failures; it never stops early,
// because producers should learn everything that is wrong in one attempt.
// intake adds the rules that depend on when the event arrives (its time may
// not be ahead of the clock); they are not re-checked once the event is on
// the bus, where a consumer on another machine reads it later.
func (e Event) check(emittedOnly, intake bool) problems {
	var p problems

	switch e.SpecVersion {
	case SpecVersion:
	case "":
		p.add("specversion", CodeRequired, `is required and must be "1.0"`)
	default:
		p.add("specversion", CodeInvalidValue, fmt.Sprintf(`%s is not supported; nudge accepts CloudEvents "1.0"`, quote(e.SpecVersion)))
	}

	checkID(&p, "id", e.ID, true)
	checkSource(&p, e.Source)
	entry := checkType(&p, e.Type, emittedOnly)

	switch {
	case e.Time.IsZero():
		p.add("time", CodeRequired, "is required: nudge orders events for the same client or session by it (RFC 3339, e.g. 2026-12-01T15:00:00Z)")
	case e.Time.Year() < 1 || e.Time.Year() > 9999:
		p.add("time", CodeInvalidValue, "must have a four-digit year")
	case intake && e.Time.After(now().Add(MaxFutureTime)):
		p.add("time", CodeInvalidValue, fmt.Sprintf("%s is more than %s ahead of nudge's clock (%s): set it to when the change happened, not when it takes effect",
			e.Time.Format(time.RFC3339), "5 minutes", now().UTC().Format(time.RFC3339)))
	}

	checkContentType(&p, e.DataContentType)
	if e.Subject != "" {
		checkText(&p, "subject", e.Subject, MaxSubjectLength, false)
	}
	checkExtensions(&p, e.Extensions)
	checkData(&p, e.Data, entry)
	return p
}

// checkID enforces the rule for the event id and every *_id in data: ids end
// up in NATS headers, database keys and URLs, where whitespace and control
// characters cause trouble.
func checkID(p *problems, field, id string, required bool) {
	switch {
	case id == "" && required:
		p.add(field, CodeRequired, "is required")
		return
	case id == "":
		p.add(field, CodeInvalidFormat, "must not be empty (omit the field instead)")
		return
	case !utf8.ValidString(id):
		p.add(field, CodeInvalidFormat, "is not valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(id); n > MaxIDLength {
		p.add(field, CodeTooLong, fmt.Sprintf("is %d characters; the limit is %d", n, MaxIDLength))
		return
	}
	for i, r := range []rune(id) {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			p.add(field, CodeInvalidFormat, fmt.Sprintf("must be printable with no whitespace; character %d is %U", i+1, r))
			return
		}
	}
}

// checkText enforces free text: valid UTF-8, no control characters (newlines
// only where multiline), at most max characters.
func checkText(p *problems, field, s string, max int, multiline bool) {
	if !utf8.ValidString(s) {
		p.add(field, CodeInvalidFormat, "is not valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		p.add(field, CodeTooLong, fmt.Sprintf("is %d characters; the limit is %d", n, max))
		return
	}
	for i, r := range []rune(s) {
		if !textRune(r, multiline) {
			p.add(field, CodeInvalidFormat, fmt.Sprintf("must not contain control characters; character %d is %U", i+1, r))
			return
		}
	}
}

// textRune reports whether r may appear in free text. Besides printable
// characters it allows the joiners that emoji sequences need, and line breaks
// and tabs only in multiline text; it rejects other invisible format
// characters such as bidi overrides, which can disguise a message.
func textRune(r rune, multiline bool) bool {
	switch {
	case r == '\n' || r == '\r' || r == '\t' || r == '\u2028' || r == '\u2029':
		return multiline
	case r == '\u200c' || r == '\u200d': // zero-width non-joiner / joiner
		return true
	case unicode.IsControl(r):
		return false
	}
	return unicode.IsPrint(r) || unicode.IsSpace(r)
}

func checkSource(p *problems, source string) {
	if source == "" {
		p.add("source", CodeRequired, `is required: a URI-reference naming the producer, e.g. "/booking" or "https://booking.example.com"`)
		return
	}
	if n := utf8.RuneCountInString(source); n > MaxSourceLength {
		p.add("source", CodeTooLong, fmt.Sprintf("is %d characters; the limit is %d", n, MaxSourceLength))
		return
	}
	bad := strings.IndexFunc(source, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) })
	if _, err := url.Parse(source); bad >= 0 || err != nil || !utf8.ValidString(source) {
		p.add("source", CodeInvalidFormat, fmt.Sprintf(`%s is not a URI-reference (expected like "/booking" or "urn:practice:booking")`, quote(source)))
	}
}

// checkType returns the catalogue entry when the type is acceptable here, so
// data is only checked against rules that apply.
func checkType(p *problems, typ string, emittedOnly bool) *catalogueEntry {
	if typ == "" {
		p.add("type", CodeRequired, "is required, e.g. "+quote(TypeSessionBooked))
		return nil
	}
	entry, ok := catalogue[typ]
	switch {
	case !ok:
		allowed := IntakeTypes()
		if emittedOnly {
			allowed = EmittedTypes()
		}
		p.add("type", CodeUnknownType, fmt.Sprintf("%s is not an event type nudge knows; expected one of %s", quote(typ), strings.Join(allowed, ", ")))
		return nil
	case entry.emitted && !emittedOnly:
		p.add("type", CodeNotAccepted, fmt.Sprintf("%s is emitted by nudge and cannot be submitted by producers", quote(typ)))
		return nil
	case !entry.emitted && emittedOnly:
		p.add("type", CodeNotAccepted, fmt.Sprintf("%s is an intake event, not one nudge emits", quote(typ)))
		return nil
	}
	return &entry
}

func checkContentType(p *problems, ct string) {
	if ct == "" {
		return // CloudEvents JSON format: absent means application/json
	}
	const want = `must be "application/json" (optionally with "; charset=utf-8")`
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil || mediaType != ContentTypeJSON {
		p.add("datacontenttype", CodeInvalidValue, fmt.Sprintf("%s is not supported; %s", quote(ct), want))
		return
	}
	for name, value := range params {
		if name != "charset" || !strings.EqualFold(value, "utf-8") {
			p.add("datacontenttype", CodeInvalidValue, fmt.Sprintf("%s is not supported; %s", quote(ct), want))
			return
		}
	}
}

func checkExtensions(p *problems, ext map[string]json.RawMessage) {
	if len(ext) > MaxExtensions {
		p.add("", CodeTooLong, fmt.Sprintf("the event has %d extension attributes; the limit is %d", len(ext), MaxExtensions))
	}
	for _, name := range sortedKeys(ext) {
		value := ext[name]
		switch {
		case name == "data_base64":
			p.add(name, CodeUnknownField, "nudge accepts JSON data only: send it as a JSON object in data")
		case isEnvelopeAttribute(name):
			p.add(name, CodeInvalidValue, "is a CloudEvents attribute, not an extension; set the Event field instead")
		case !extensionName.MatchString(name):
			msg := "is not a CloudEvents attribute, and extension names are lowercase letters and digits only"
			if s := suggest(name, envelopeNames()); s != "" {
				msg = fmt.Sprintf("is unknown (did you mean %s?)", s)
			}
			p.add(name, CodeUnknownField, msg)
		case len(name) > MaxExtensionName:
			p.add(name, CodeTooLong, fmt.Sprintf("extension names are at most %d characters", MaxExtensionName))
		case !json.Valid(value):
			p.add(name, CodeInvalidFormat, "value is not valid JSON")
		case len(value) > MaxExtensionValue:
			p.add(name, CodeTooLong, fmt.Sprintf("value is %d bytes; the limit is %d", len(value), MaxExtensionValue))
		default:
			if k := jsonKind(value); k != "string" && k != "number" && k != "boolean" {
				p.add(name, CodeInvalidType, "extension values must be a string, number or boolean, not "+k)
			}
		}
	}
}

func isEnvelopeAttribute(name string) bool {
	_, ok := envelopeAttributes[name]
	return ok
}

func envelopeNames() []string { return sortedKeys(envelopeAttributes) }

// checkData checks that data is a JSON object and, when the type is known,
// runs the type's rules and reports every member the rules did not ask for.
func checkData(p *problems, data json.RawMessage, entry *catalogueEntry) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0 || string(trimmed) == "null":
		p.add("data", CodeRequired, "is required: a JSON object with the fields of the event type")
		return
	case !json.Valid(trimmed):
		p.add("data", CodeInvalidFormat, "is not valid JSON")
		return
	case trimmed[0] != '{':
		p.add("data", CodeInvalidType, "must be a JSON object, not "+jsonKind(trimmed))
		return
	}
	members, dups, err := scanObject(trimmed)
	if err != nil { // unreachable after json.Valid, kept for safety
		p.add("data", CodeInvalidFormat, err.Error())
		return
	}
	for _, key := range dups {
		p.add("data."+key, CodeDuplicateField, "appears more than once")
	}
	if entry == nil {
		return // the type is already reported; its rules cannot apply
	}
	r := &dataReader{p: p, fields: members.values(), known: map[string]bool{}}
	entry.validate(r)
	known := sortedKeys(r.known)
	for _, m := range members {
		if r.known[m.key] {
			continue
		}
		r.known[m.key] = true // report a repeated unknown key once
		msg := "is not a field of this event type"
		if s := suggest(m.key, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		p.add("data."+m.key, CodeUnknownField, msg)
	}
}

// suggest returns the candidate that name most likely meant: same letters,
// ignoring case, '_' and '-' ("clientId" -> "client_id").
func suggest(name string, candidates []string) string {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s))
	}
	for _, c := range candidates {
		if norm(c) == norm(name) && c != name {
			return c
		}
	}
	return ""
}

// jsonKind names the JSON type of a valid value, for error messages.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// quote renders a producer-supplied value for a message: quoted, escaped and
// truncated so a hostile value cannot flood logs or forge lines.
func quote(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

package publishers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// MaxBatchEvents is the largest batch [ParseBatch] accepts.
const MaxBatchEvents = 1000

// Parse decodes one structured-mode CloudEvent and validates it with
// [Event.Validate]. It is strict where encoding/json is lenient: attribute
// names are case-sensitive ("Type" is not "type"), a key may appear only
// once, and attributes must have the right JSON type. Top-level members that
// are not CloudEvents attributes are kept in Event.Extensions when they are
// valid extension names (lowercase letters and digits) and rejected otherwise.
//
// Errors are *ValidationError; a body that is not JSON at all yields a single
// FieldError with Field "" and Code "malformed_json". On error the returned
// Event holds whatever could be decoded, which is useful for logging its id.
func Parse(raw []byte) (Event, error) { return parse(raw, false, true) }

// ParseAccepted is Parse for an event read back from the bus, which intake
// already accepted: the same rules except those about when the event
// arrives (its time may be ahead of the clock of the machine reading it
// when the clocks disagree). Consumers use it; intake never does.
func ParseAccepted(raw []byte) (Event, error) { return parse(raw, false, false) }

// ParseEmitted is Parse for the events nudge emits, validated with
// [Event.ValidateEmitted].
func ParseEmitted(raw []byte) (Event, error) { return parse(raw, true, false) }

func parse(raw []byte, emittedOnly, intake bool) (Event, error) {
	var e Event
	var p problems
	if err := syntaxCheck(raw); err != nil {
		p.add("", CodeMalformedJSON, err.Error())
		return e, p.err()
	}
	members, dups, err := scanObject(raw)
	if err != nil {
		p.add("", CodeInvalidType, err.Error())
		return e, p.err()
	}
	for _, key := range dups {
		p.add(key, CodeDuplicateField, "appears more than once")
	}

	// Decode each attribute on its own so one wrong type does not hide the
	// problems of the others.
	str := func(name string, dst *string) {
		raw, ok := members.get(name)
		if !ok || jsonKind(raw) == "null" {
			return // left empty; Validate reports it when it is required
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			p.add(name, CodeInvalidType, "must be a string, not "+jsonKind(raw))
		}
	}
	str("specversion", &e.SpecVersion)
	str("id", &e.ID)
	str("source", &e.Source)
	str("type", &e.Type)
	str("datacontenttype", &e.DataContentType)
	str("subject", &e.Subject)
	var timeText string
	str("time", &timeText)
	if timeText != "" {
		t, err := parseTimestamp(timeText)
		if err != nil {
			p.add("time", CodeInvalidFormat, err.Error())
		}
		e.Time = t
	}
	if data, ok := members.get("data"); ok {
		e.Data = data
	}
	for _, m := range members {
		if !isEnvelopeAttribute(m.key) {
			if e.Extensions == nil {
				e.Extensions = map[string]json.RawMessage{}
			}
			e.Extensions[m.key] = m.value
		}
	}

	// Decoding problems come first; validation adds the rest, skipping
	// fields already reported so a malformed time is not also "required".
	for _, f := range e.check(emittedOnly, intake) {
		if !p.has(f.Field) {
			p.add(f.Field, f.Code, f.Message)
		}
	}
	return e, p.err()
}

// ParseBatch accepts what POST /v1/events accepts: one event object, or a
// JSON array of up to MaxBatchEvents event objects. events and errs run
// parallel to the input, one entry per event; errs[i] is nil when events[i]
// is valid, so a caller can accept the good ones and report the rest by
// index. The final error is for the body as a whole (not JSON, neither an
// object nor an array, an empty or oversized array); it is a
// *ValidationError, so errors.Is(err, ErrInvalidEvent) holds.
func ParseBatch(raw []byte) ([]Event, []error, error) {
	var p problems
	if err := syntaxCheck(raw); err != nil {
		p.add("", CodeMalformedJSON, err.Error())
		return nil, nil, p.err()
	}
	trimmed := bytes.TrimSpace(raw)
	switch trimmed[0] {
	case '{':
		e, err := Parse(trimmed)
		return []Event{e}, []error{err}, nil
	case '[':
	default:
		p.add("", CodeInvalidType, "the body must be an event object or an array of event objects, not "+jsonKind(trimmed))
		return nil, nil, p.err()
	}
	var items []json.RawMessage
	if err := json.Unmarshal(trimmed, &items); err != nil {
		p.add("", CodeMalformedJSON, err.Error()) // unreachable after syntaxCheck
		return nil, nil, p.err()
	}
	switch {
	case len(items) == 0:
		p.add("", CodeRequired, "the batch contains no events")
		return nil, nil, p.err()
	case len(items) > MaxBatchEvents:
		p.add("", CodeTooLong, fmt.Sprintf("the batch has %d events; the limit is %d", len(items), MaxBatchEvents))
		return nil, nil, p.err()
	}
	events := make([]Event, len(items))
	errs := make([]error, len(items))
	for i, item := range items {
		events[i], errs[i] = Parse(item)
	}
	return events, errs, nil
}

// syntaxCheck reports malformed JSON with the byte offset of the problem.
// Invalid UTF-8 is malformed too: encoding/json would quietly replace it
// with U+FFFD, and nudge would store and send text the producer never
// wrote.
func syntaxCheck(raw []byte) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return errors.New("the body is empty")
	}
	if !utf8.Valid(raw) {
		return fmt.Errorf("not valid UTF-8 at byte %d: send JSON encoded as UTF-8", invalidUTF8At(raw))
	}
	if json.Valid(raw) {
		return nil
	}
	var v json.RawMessage
	err := json.Unmarshal(raw, &v)
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("not valid JSON at byte %d: %s", syntax.Offset, syntax.Error())
	}
	return errors.New("not valid JSON")
}

// invalidUTF8At returns the offset of the first byte that is not valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// member is one key/value of a JSON object, in document order.
type member struct {
	key   string
	value json.RawMessage
}

type members []member

// get returns the last value for key: the same choice encoding/json makes,
// though a duplicate key is reported as an error anyway.
func (ms members) get(key string) (json.RawMessage, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].key == key {
			return ms[i].value, true
		}
	}
	return nil, false
}

func (ms members) values() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(ms))
	for _, m := range ms {
		out[m.key] = m.value
	}
	return out
}

// scanObject splits a syntactically valid JSON object into its members and
// lists keys that occur more than once. encoding/json silently keeps the last
// duplicate; other parsers keep the first, so a duplicate could mean one
// thing to the producer's tooling and another to nudge.
func scanObject(raw []byte) (members, []string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, nil, fmt.Errorf("an event must be a JSON object, not %s", jsonKind(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil, nil, err
	}
	var ms members
	var dups []string
	seen := map[string]int{} // occurrences per key
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, nil, err
		}
		if seen[key]++; seen[key] == 2 {
			dups = append(dups, key)
		}
		ms = append(ms, member{key: key, value: value})
	}
	return ms, dups, nil
}

// sortedKeys returns a map's keys in order, for deterministic messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

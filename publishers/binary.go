package publishers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Media types of the CloudEvents HTTP binding.
const (
	// ContentTypeCloudEventsBatch marks a batched-mode body: a JSON array
	// of structured-mode events.
	ContentTypeCloudEventsBatch = "application/cloudevents-batch+json"
	// BinaryHeaderPrefix starts the headers that carry an event's
	// attributes in binary content mode ("ce-id", "ce-source" ...).
	BinaryHeaderPrefix = "ce-"
)

// IsBinary reports whether h carries an event in binary content mode: its
// attributes in ce-* headers (the CloudEvents SDKs' default over HTTP).
func IsBinary(h http.Header) bool {
	for name := range h {
		if isBinaryHeader(name) {
			return true
		}
	}
	return false
}

func isBinaryHeader(name string) bool {
	return len(name) > len(BinaryHeaderPrefix) && strings.EqualFold(name[:len(BinaryHeaderPrefix)], BinaryHeaderPrefix)
}

// ParseBinary reads one event in the CloudEvents HTTP binding's binary
// content mode — attributes in ce-* headers, datacontenttype in
// Content-Type, the data as the body — and validates it with the same
// rules, codes and field names as [Parse]. Header values are
// percent-decoded as the binding requires; ce-* headers other than the
// CloudEvents attributes are extension attributes, with string values.
func ParseBinary(h http.Header, body []byte) (Event, error) {
	var e Event
	var p problems
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic problem order
	for _, name := range names {
		if !isBinaryHeader(name) {
			continue
		}
		attr := strings.ToLower(name[len(BinaryHeaderPrefix):])
		values := h[name]
		if len(values) > 1 {
			p.add(attr, CodeDuplicateField, "header "+BinaryHeaderPrefix+attr+" appears more than once")
		}
		v, err := url.PathUnescape(values[0])
		if err != nil || !utf8.ValidString(v) {
			p.add(attr, CodeInvalidFormat, "header "+BinaryHeaderPrefix+attr+" is not validly percent-encoded UTF-8")
			continue
		}
		switch attr {
		case "specversion":
			e.SpecVersion = v
		case "id":
			e.ID = v
		case "source":
			e.Source = v
		case "type":
			e.Type = v
		case "subject":
			e.Subject = v
		case "time":
			t, err := parseTimestamp(v)
			if err != nil {
				p.add("time", CodeInvalidFormat, err.Error())
			}
			e.Time = t
		case "datacontenttype", "data", "data_base64":
			p.add(attr, CodeInvalidValue, "in binary content mode the data is the request body and its type the Content-Type header; do not send "+BinaryHeaderPrefix+attr)
		default:
			if e.Extensions == nil {
				e.Extensions = map[string]json.RawMessage{}
			}
			raw, _ := json.Marshal(v)
			e.Extensions[attr] = raw
		}
	}
	e.DataContentType = h.Get("Content-Type")
	if len(body) > 0 {
		if !utf8.Valid(body) {
			p.add("data", CodeInvalidFormat, "the body is not valid UTF-8")
		}
		e.Data = json.RawMessage(body)
	}
	for _, f := range e.check(false, true) {
		if !p.has(f.Field) {
			p.add(f.Field, f.Code, f.Message)
		}
	}
	return e, p.err()
}

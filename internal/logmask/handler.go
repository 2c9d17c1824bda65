package logmask

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
)

// Handler masks phone numbers and email addresses in everything a record
// carries before passing it to the wrapped handler. It is safe for
// concurrent use when the wrapped handler is.
//
// Values logged with slog.Any are checked in every form a handler might
// print them in (%+v, MarshalText, json.Marshal, Error); if any form holds
// something to mask, the value is replaced by the masked string, so a
// struct or a pointer to one cannot carry a phone number past the mask.
// A record with nothing to mask is passed on unchanged.
type Handler struct {
	next slog.Handler
}

// New wraps next.
func New(next slog.Handler) *Handler {
	if h, ok := next.(*Handler); ok {
		return h
	}
	return &Handler{next: next}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	msg := String(r.Message)
	changed := msg != r.Message
	if !changed {
		r.Attrs(func(a slog.Attr) bool {
			_, c := maskAttr(a)
			changed = c
			return !c
		})
	}
	if !changed {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		a, _ = maskAttr(a)
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i], _ = maskAttr(a)
	}
	return &Handler{next: h.next.WithAttrs(masked)}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(String(name))}
}

// Attr returns a with phone numbers and email addresses masked, and
// whether anything changed.
func Attr(a slog.Attr) (slog.Attr, bool) { return maskAttr(a) }

func maskAttr(a slog.Attr) (slog.Attr, bool) {
	key := String(a.Key)
	v, changed := maskValue(a.Value)
	if key == a.Key && !changed {
		return a, false
	}
	return slog.Attr{Key: key, Value: v}, true
}

func maskValue(v slog.Value) (slog.Value, bool) {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		if m := String(s); m != s {
			return slog.StringValue(m), true
		}
	case slog.KindGroup:
		attrs := v.Group()
		var out []slog.Attr
		for i, a := range attrs {
			m, c := maskAttr(a)
			if c && out == nil {
				out = make([]slog.Attr, len(attrs))
				copy(out, attrs[:i])
			}
			if out != nil {
				out[i] = m
			}
		}
		if out != nil {
			return slog.GroupValue(out...), true
		}
	case slog.KindAny:
		if m, ok := maskAny(v.Any()); ok {
			return slog.StringValue(m), true
		}
	}
	// Numbers, booleans, times and durations are left alone: a phone
	// number is a string everywhere in nudge.
	return v, false
}

// maskAny renders x the ways slog's handlers would and, if one of them
// holds something to mask, returns that rendering masked.
func maskAny(x any) (masked string, ok bool) {
	if x == nil {
		return "", false
	}
	if _, isSource := x.(*slog.Source); isSource {
		return "", false
	}
	try := func(s string) bool {
		m := String(s)
		if m != s {
			masked, ok = m, true
		}
		return ok
	}
	// Text and JSON handlers print an error with Error(); %+v adds what a
	// fmt.Formatter (stack traces) prints.
	err, isErr := x.(error)
	if isErr && try(safeString(err.Error)) {
		return masked, true
	}
	if tm, isTM := x.(encoding.TextMarshaler); isTM {
		if b, merr := safeMarshal(tm.MarshalText); merr == nil && try(string(b)) {
			return masked, true
		}
	}
	if rv := reflect.ValueOf(x); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		if try(string(rv.Bytes())) {
			return masked, true
		}
	}
	if _, isFmt := x.(fmt.Formatter); !isErr || isFmt {
		if try(fmt.Sprintf("%+v", x)) {
			return masked, true
		}
	}
	_, isJM := x.(json.Marshaler)
	if !isErr || isJM {
		// JSON shows what %+v hides: the targets of pointer fields, and
		// whatever a MarshalJSON method computes.
		if b, merr := safeMarshal(func() ([]byte, error) { return json.Marshal(x) }); merr == nil && try(string(b)) {
			return masked, true
		}
	}
	return "", false
}

// safeString and safeMarshal contain a panicking method: logging must not
// crash the process (slog's handlers recover too).
func safeString(f func() string) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("!PANIC: %v", r)
		}
	}()
	return f()
}

func safeMarshal(f func() ([]byte, error)) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

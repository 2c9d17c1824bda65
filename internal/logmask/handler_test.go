package logmask

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

const (
	phone       = "+14155550123"
	maskedPhone = "+1415*****23"
	email       = "jane.doe@example.com"
	maskedEmail = "j***@example.com"
)

type client struct {
	ID    string
	Phone string
}

type envelope struct {
	C *client
}

type recipient string

func (r recipient) String() string { return "recipient " + string(r) }

type number string

func (n number) MarshalText() ([]byte, error) { return []byte("tel:" + n), nil }

type contactCard struct{ phone, email string }

func (c contactCard) LogValue() slog.Value {
	return slog.GroupValue(slog.String("phone", c.phone), slog.String("email", c.email))
}

// newLoggers returns a text and a JSON logger behind the mask, writing
// without the time so outputs compare exactly.
func newLoggers(text, js io.Writer) (*slog.Logger, *slog.Logger) {
	opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}
	return slog.New(New(slog.NewTextHandler(text, opts))), slog.New(New(slog.NewJSONHandler(js, opts)))
}

func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		name     string
		log      func(l *slog.Logger)
		text, js string
	}{{
		name: "message",
		log:  func(l *slog.Logger) { l.Info("sending to " + phone) },
		text: `level=INFO msg="sending to +1415*****23"`,
		js:   `{"level":"INFO","msg":"sending to +1415*****23"}`,
	}, {
		name: "string attrs",
		log:  func(l *slog.Logger) { l.Info("sent", "to", phone, "email", email, "n", 3) },
		text: `level=INFO msg=sent to=+1415*****23 email=j***@example.com n=3`,
		js:   `{"level":"INFO","msg":"sent","to":"+1415*****23","email":"j***@example.com","n":3}`,
	}, {
		name: "formatted phone",
		log:  func(l *slog.Logger) { l.Info("sent", "to", "(415) 555-0123") },
		text: `level=INFO msg=sent to=415*****23`,
		js:   `{"level":"INFO","msg":"sent","to":"415*****23"}`,
	}, {
		name: "wrapped error",
		log: func(l *slog.Logger) {
			l.Warn("failed", "err", fmt.Errorf("sending d1: %w", errors.New("The 'To' number "+phone+" is not valid")))
		},
		text: `level=WARN msg=failed err="sending d1: The 'To' number +1415*****23 is not valid"`,
		js:   `{"level":"WARN","msg":"failed","err":"sending d1: The 'To' number +1415*****23 is not valid"}`,
	}, {
		name: "nested groups",
		log: func(l *slog.Logger) {
			l.Info("x", slog.Group("client", "id", "c1", "phone", phone, slog.Group("contact", "email", email)))
		},
		text: `level=INFO msg=x client.id=c1 client.phone=+1415*****23 client.contact.email=j***@example.com`,
		js:   `{"level":"INFO","msg":"x","client":{"id":"c1","phone":"+1415*****23","contact":{"email":"j***@example.com"}}}`,
	}, {
		name: "With",
		log:  func(l *slog.Logger) { l.With("to", phone).Info("x", "k", "v") },
		text: `level=INFO msg=x to=+1415*****23 k=v`,
		js:   `{"level":"INFO","msg":"x","to":"+1415*****23","k":"v"}`,
	}, {
		name: "WithGroup and With",
		log: func(l *slog.Logger) {
			l.WithGroup("req").With("email", email).Info("x", "phone", phone)
		},
		text: `level=INFO msg=x req.email=j***@example.com req.phone=+1415*****23`,
		js:   `{"level":"INFO","msg":"x","req":{"email":"j***@example.com","phone":"+1415*****23"}}`,
	}, {
		name: "With a group",
		log:  func(l *slog.Logger) { l.With(slog.Group("c", "email", email)).Info("x") },
		text: `level=INFO msg=x c.email=j***@example.com`,
		js:   `{"level":"INFO","msg":"x","c":{"email":"j***@example.com"}}`,
	}, {
		name: "struct",
		log:  func(l *slog.Logger) { l.Info("x", "client", client{ID: "c1", Phone: phone}) },
		text: `level=INFO msg=x client="{ID:c1 Phone:+1415*****23}"`,
		js:   `{"level":"INFO","msg":"x","client":"{ID:c1 Phone:+1415*****23}"}`,
	}, {
		name: "pointer field only JSON would follow",
		log:  func(l *slog.Logger) { l.Info("x", "env", envelope{C: &client{ID: "c1", Phone: phone}}) },
		text: `level=INFO msg=x env="{\"C\":{\"ID\":\"c1\",\"Phone\":\"+1415*****23\"}}"`,
		js:   `{"level":"INFO","msg":"x","env":"{\"C\":{\"ID\":\"c1\",\"Phone\":\"+1415*****23\"}}"}`,
	}, {
		name: "clean struct keeps its shape",
		log:  func(l *slog.Logger) { l.Info("x", "client", client{ID: "c1"}) },
		text: `level=INFO msg=x client="{ID:c1 Phone:}"`,
		js:   `{"level":"INFO","msg":"x","client":{"ID":"c1","Phone":""}}`,
	}, {
		name: "map and slice",
		log: func(l *slog.Logger) {
			l.Info("x", "m", map[string]string{"to": phone}, "s", []string{email})
		},
		text: `level=INFO msg=x m=map[to:+1415*****23] s=[j***@example.com]`,
		js:   `{"level":"INFO","msg":"x","m":"map[to:+1415*****23]","s":"[j***@example.com]"}`,
	}, {
		name: "Stringer",
		log:  func(l *slog.Logger) { l.Info("x", "to", recipient(phone)) },
		text: `level=INFO msg=x to="recipient +1415*****23"`,
		js:   `{"level":"INFO","msg":"x","to":"recipient +1415*****23"}`,
	}, {
		name: "TextMarshaler",
		log:  func(l *slog.Logger) { l.Info("x", "to", number(phone)) },
		text: `level=INFO msg=x to=tel:+1415*****23`,
		js:   `{"level":"INFO","msg":"x","to":"tel:+1415*****23"}`,
	}, {
		name: "LogValuer",
		log:  func(l *slog.Logger) { l.Info("x", "card", contactCard{phone, email}) },
		text: `level=INFO msg=x card.phone=+1415*****23 card.email=j***@example.com`,
		js:   `{"level":"INFO","msg":"x","card":{"phone":"+1415*****23","email":"j***@example.com"}}`,
	}, {
		name: "bytes",
		log:  func(l *slog.Logger) { l.Info("x", "body", []byte("To=%2B14155550123&Body=hi")) },
		text: `level=INFO msg=x body="To=%2B1415*****23&Body=hi"`,
		js:   `{"level":"INFO","msg":"x","body":"To=%2B1415*****23&Body=hi"}`,
	}, {
		name: "nothing to mask",
		log: func(l *slog.Logger) {
			l.Info("deferred", "key", "rem:s1:v2:48h:sms", "until", "2024-01-15T08:00:00-08:00")
		},
		text: `level=INFO msg=deferred key=rem:s1:v2:48h:sms until=2024-01-15T08:00:00-08:00`,
		js:   `{"level":"INFO","msg":"deferred","key":"rem:s1:v2:48h:sms","until":"2024-01-15T08:00:00-08:00"}`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var text, js bytes.Buffer
			tl, jl := newLoggers(&text, &js)
			tc.log(tl)
			tc.log(jl)
			if got := strings.TrimSpace(text.String()); got != tc.text {
				t.Errorf("text:\n got %s\nwant %s", got, tc.text)
			}
			if got := strings.TrimSpace(js.String()); got != tc.js {
				t.Errorf("json:\n got %s\nwant %s", got, tc.js)
			}
		})
	}
}

type providerError struct {
	Code string
	To   string
}

func (e *providerError) Error() string { return "twilio " + e.Code + ": cannot send to " + e.To }

type stackError struct{ msg string }

func (e stackError) Error() string { return "failed" }
func (e stackError) Format(f fmt.State, verb rune) {
	_, _ = io.WriteString(f, "failed")
	if f.Flag('+') {
		_, _ = io.WriteString(f, "\n  stack: "+e.msg)
	}
}

// TestPhoneInErrorNeverLogged is invariant 8 in docs/invariants.md for the commonest leak: a
// provider or driver error quoting the recipient, however it is wrapped
// and however it is logged.
func TestPhoneInErrorNeverLogged(t *testing.T) {
	base := errors.New("The 'To' number " + phone + " is not a valid phone number")
	errs := map[string]error{
		"plain":        base,
		"wrapped":      fmt.Errorf("sending d1: %w", base),
		"twice":        fmt.Errorf("delivery: %w", fmt.Errorf("sending: %w", base)),
		"joined":       errors.Join(errors.New("first"), base),
		"custom":       &providerError{Code: "21211", To: phone},
		"custom email": &providerError{Code: "400", To: email},
		"formatter":    stackError{msg: "to=" + phone},
		"formatted":    fmt.Errorf("to %s / %s: %w", "(415) 555-0123", "4155550123", base),
	}
	for name, err := range errs {
		var text, js bytes.Buffer
		tl, jl := newLoggers(&text, &js)
		for _, l := range []*slog.Logger{tl, jl} {
			l.Error("send failed: "+err.Error(), "err", err)
			l.Error("send failed", slog.Any("err", err))
			l.With("err", err).Warn("x")
			l.Info("x", slog.Group("g", "err", err))
			l.Info("x", "errs", []error{err})
		}
		for _, out := range []string{text.String(), js.String()} {
			for _, leak := range []string{"4155550123", "555-0123", "jane.doe", "5550123"} {
				if strings.Contains(out, leak) {
					t.Errorf("%s: output contains %q:\n%s", name, leak, out)
				}
			}
		}
	}
}

type nopHandler struct{ n int }

func (h *nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h *nopHandler) Handle(context.Context, slog.Record) error { h.n++; return nil }
func (h *nopHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h *nopHandler) WithGroup(string) slog.Handler             { return h }

func TestHandlerNoAllocWhenClean(t *testing.T) {
	l := slog.New(New(&nopHandler{}))
	group := slog.Group("g", slog.String("k", "v"))
	allocs := testing.AllocsPerRun(100, func() {
		l.LogAttrs(context.Background(), slog.LevelInfo, "message will be retried",
			slog.String("consumer", "deliver"), slog.String("subject", "nudge.notify.sms"),
			slog.Uint64("delivery", 3), group)
	})
	// slog.Logger itself allocates nothing for up to five attrs; the mask
	// must not add any.
	if allocs != 0 {
		t.Errorf("logging a clean record allocated %v times, want 0", allocs)
	}
}

func BenchmarkHandler(b *testing.B) {
	l := slog.New(New(slog.NewJSONHandler(io.Discard, nil)))
	raw := slog.New(slog.NewJSONHandler(io.Discard, nil))
	args := []any{"consumer", "deliver", "subject", "nudge.notify.sms", "delivery", 3, "err", errors.New("sending d1: twilio: transient error 20429")}
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			raw.Warn("message will be retried", args...)
		}
	})
	b.Run("masked", func(b *testing.B) {
		for b.Loop() {
			l.Warn("message will be retried", args...)
		}
	})
}

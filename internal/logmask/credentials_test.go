package logmask_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/nudgehq/nudge/internal/logmask"
)

func TestCredentials(t *testing.T) {
	for in, want := range map[string]string{
		`invalid URL "http://u:pw@h:4222"`:                                `invalid URL "http://u:xxxxx@h:4222"`,
		"nats://nudge:s3cret@nats-1:4222,nats://nudge:s3cret@nats-2:4222": "nats://nudge:xxxxx@nats-1:4222,nats://nudge:xxxxx@nats-2:4222",
		"nats://mytoken@nats-1:4222":                                      "nats://xxxxx@nats-1:4222",
		"postgres://nudge:p@ss:w0rd@db:5432/nudge?sslmode=off":            "postgres://nudge:xxxxx@db:5432/nudge?sslmode=off",
		"host=db user=nudge password=hunter2 dbname=nudge":                "host=db user=nudge password=xxxxx dbname=nudge",
		"https://example.com/cb?token=abc123&x=1":                         "https://example.com/cb?token=xxxxx&x=1",
		"http://127.0.0.1:8080/v1/events":                                 "http://127.0.0.1:8080/v1/events",
		"nothing here":                                                    "nothing here",
	} {
		if got := logmask.Credentials(in); got != want {
			t.Errorf("Credentials(%q)\n = %q\nwant %q", in, got, want)
		}
		if got := logmask.Credentials(want); got != want {
			t.Errorf("Credentials is not idempotent on %q: %q", want, got)
		}
	}
}

// Every log line goes through the handler: a URL error from net/url (which
// quotes the URL whole) loses its password there too.
func TestHandlerRedactsURLCredentials(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logmask.New(slog.NewTextHandler(&buf, nil)))
	_, err := url.Parse("http://u:pw@h:4222:bad")
	log.Error("connecting to nats://nudge:s3cret@nats-1:4222", "err", err, "url", "postgres://nudge:hunter2@db/nudge",
		"wrapped", errors.Join(errors.New("dial postgres://a:b@c/d")))
	out := buf.String()
	for _, secret := range []string{"s3cret", "hunter2", ":pw@", ":b@"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line leaks %q: %s", secret, out)
		}
	}
	if strings.Count(out, logmask.Redacted) < 4 {
		t.Errorf("log line %s: want four redactions", out)
	}
}

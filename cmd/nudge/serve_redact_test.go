package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/bus"
)

// The configuration check and the NATS connection error quote the URL an
// operator gave, never its password or token.
func TestServeErrorsRedactCredentials(t *testing.T) {
	s := serveCmd{HTTP: ":8080", Replicas: 3, NATSURL: "http://u:pw@h:4222,nats://tok3n@h:4222,nats://u:pw@:bad",
		DatabaseURL: "postgres://nudge:hunter2@db/nudge", APIToken: strings.Repeat("x", 32)}
	err := s.validate()
	if err == nil || !strings.Contains(err.Error(), `invalid URL "http://u:xxxxx@h:4222"`) {
		t.Fatalf("validate = %v, want the invalid URL quoted with its password redacted", err)
	}
	for _, secret := range []string{":pw@", "hunter2"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("validate leaks %q:\n%v", secret, err)
		}
	}

	// Nothing listens there: Connect waits (start timeout) and then says why.
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err = bus.Connect(ctx, bus.ExternalConfig{URL: "nats://nudge:s3cret@127.0.0.1:1"})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "nats://nudge:xxxxx@127.0.0.1:1") {
		t.Errorf("Connect error = %v, want the URL with its password redacted", err)
	}
}

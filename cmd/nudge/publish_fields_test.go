package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Validation problems name their field on every path — one event, and each
// line of --file — and the examples in them are printed as they are, not
// masked like a client's number would be in a log.
func TestPublishProblemsNameTheField(t *testing.T) {
	var stdout, stderr bytes.Buffer
	g := &globals{ctx: context.Background(), stdout: &stdout, stderr: &stderr}
	target := apiTarget{Server: "http://127.0.0.1:1", Token: "t"}

	one := publishCmd{Type: "client.upserted", Data: `{"client_id":"c1","first_name":"Ann","timezone":"Europe/Paris","phone":"555-1234"}`, Batch: 100, apiTarget: target}
	err := one.Run(g)
	if err == nil || strings.Contains(err.Error(), "555") {
		t.Fatalf("Run = %v, want a short error", err)
	}
	if out := stderr.String(); !strings.Contains(out, "data.phone: ") || !strings.Contains(out, "+14155550123") {
		t.Errorf("stderr %q: want the field named and the example number whole", out)
	}

	file := filepath.Join(t.TempDir(), "events.jsonl")
	line := `{"specversion":"1.0","id":"e1","source":"/x","type":"client.upserted","time":"2026-01-01T00:00:00Z","data":{"client_id":"c1","first_name":"Ann","timezone":"Mars/Base"}}`
	if err := os.WriteFile(file, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	batch := publishCmd{File: file, Batch: 100, apiTarget: target}
	if err := batch.Run(g); err == nil {
		t.Fatal("a file of invalid events published without error")
	}
	if out := stdout.String(); !strings.Contains(out, "line 1: data.timezone: ") {
		t.Errorf("stdout %q: want line 1 with its field", out)
	}
}

package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testGlobals() (*globals, *bytes.Buffer) {
	var out bytes.Buffer
	return &globals{ctx: context.Background(), stdout: &out, stderr: &out, logger: slog.New(slog.DiscardHandler)}, &out
}

// `nudge templates lint` passes every shipped template and fails, naming
// the rule, on a practice override that breaks one.
func TestTemplatesLintCommand(t *testing.T) {
	g, out := testGlobals()
	if err := (&templatesLintCmd{CrisisLine: "988"}).Run(g); err != nil {
		t.Fatalf("shipped templates fail lint: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "0 errors") {
		t.Errorf("lint output:\n%s", out)
	}

	dir := t.TempDir()
	bad := "Hi {{.FirstName}}, your CBT session with {{.PracticeName}} is {{.When}}. Reply CANCEL to cancel.{{if .Link}} {{.Link}}{{end}}{{.LocationKind}}"
	if err := os.WriteFile(filepath.Join(dir, "reminder.en.sms.tmpl"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	g, out = testGlobals()
	err := (&templatesLintCmd{Dir: dir, CrisisLine: "988"}).Run(g)
	if err == nil {
		t.Fatalf("a template with a health word and a keyword trap passed lint:\n%s", out)
	}
	for _, rule := range []string{"health-word", "keyword-trap"} {
		if !strings.Contains(out.String(), rule) {
			t.Errorf("lint output does not report %s:\n%s", rule, out)
		}
	}
}

func TestTemplatesRenderCommand(t *testing.T) {
	g, out := testGlobals()
	if err := (&templatesRenderCmd{Kind: "reminder", Channel: "sms", Locale: "en", Var: []string{"FirstName=Bea"}}).Run(g); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Bea") || !strings.Contains(out.String(), "GSM-7") {
		t.Errorf("render output:\n%s", out)
	}
}

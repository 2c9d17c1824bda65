package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nudgehq/nudge/consumers"
)

func TestTemplateOverridesAreLintedAtStart(t *testing.T) {
	dir := t.TempDir()
	d := Delivery{TemplatesDir: dir, Practice: consumers.Practice{Name: "Harbor Practice", CrisisLine: "988"}}
	good := "# theme: patience\nOne small step at a time is still a step.\n"
	if err := os.WriteFile(filepath.Join(dir, "encouragement.en.lines.txt"), []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.templates(); err != nil {
		t.Fatalf("a clean override: %v", err)
	}
	bad := good + "Your anxiety will ease with time.\n"
	if err := os.WriteFile(filepath.Join(dir, "encouragement.en.lines.txt"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := d.templates()
	if err == nil || !strings.Contains(err.Error(), "encouragement.en.lines.txt") || !strings.Contains(err.Error(), "health-word") {
		t.Fatalf("an override with a health word: %v, want an error naming the file and the rule", err)
	}
}

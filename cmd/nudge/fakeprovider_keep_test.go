package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestFakeProviderKeep: `nudge fakeprovider` remembers as many messages by
// default as the dev fakes do, and refuses a negative --keep.
func TestFakeProviderKeep(t *testing.T) {
	parse := func(args ...string) cli {
		var c cli
		parser, err := kong.New(&c, kong.Name("nudge"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.Parse(append([]string{"fakeprovider"}, args...)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := parse(); c.FakeProvider.Keep != devFakeKeep {
		t.Fatalf("fakeprovider keeps %d by default, dev %d", c.FakeProvider.Keep, devFakeKeep)
	}
	c := parse("--keep=-1", "--listen", "127.0.0.1:0")
	err := c.FakeProvider.Run(&globals{ctx: t.Context(), logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "--keep") {
		t.Fatalf("--keep=-1: %v, want a refusal naming --keep", err)
	}
}

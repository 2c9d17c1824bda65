package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/nudgehq/nudge/internal/logmask"
)

// globals is what every subcommand's Run receives.
type globals struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	logger *slog.Logger
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	// Every line the binary logs goes through the mask: phone numbers and
	// emails never reach the log (invariant 8 in docs/invariants.md).
	return slog.New(logmask.New(h))
}

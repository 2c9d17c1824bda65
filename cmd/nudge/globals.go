package main

import (
	"context"
	"io"
	"log/slog"
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
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

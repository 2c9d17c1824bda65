// Command nudge runs the nudge notification platform.
//
//	nudge dev       everything in one process, zero setup
//	nudge serve     production: external NATS, Postgres, real providers
//	nudge publish   send events (one, or a JSONL file)
//	nudge migrate   apply or inspect database migrations
//	nudge fakeprovider   fake Twilio and SendGrid APIs for tests and staging
//	nudge staff     add, list, disable console accounts; reset passwords
//	nudge bench-reminders   measure reminder scheduling (rate, memory, lateness)
//	nudge bench-announce    measure an announcement's fan-out (enqueue time, drain rate)
//
// Every flag can also be set through an environment variable: --api-token
// is NUDGE_API_TOKEN, --database-url is NUDGE_DATABASE_URL, and so on.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/nudgehq/nudge/internal/logmask"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type cli struct {
	Dev       devCmd       `cmd:"" help:"Run everything in one process: embedded NATS JetStream, SQLite, fake Twilio/SendGrid."`
	Serve     serveCmd     `cmd:"" help:"Run against an external NATS cluster, Postgres and the real providers."`
	Publish   publishCmd   `cmd:"" help:"Publish events to a running nudge over its HTTP API."`
	Migrate   migrateCmd   `cmd:"" help:"Apply or inspect database migrations."`
	DLQ       dlqCmd       `cmd:"" name:"dlq" help:"List, show and replay dead letters."`
	Staff     staffCmd     `cmd:"" help:"Add, list, disable staff accounts and reset their passwords."`
	Templates templatesCmd `cmd:"" help:"Lint and preview message templates."`
	Version   versionCmd   `cmd:"" help:"Print the version."`

	Probe        probeCmd        `cmd:"" help:"GET a health URL and exit 0 on 2xx (a healthcheck for the shell-less image)."`
	FakeProvider fakeProviderCmd `cmd:"" name:"fakeprovider" help:"Run the fake Twilio and SendGrid APIs as their own process (point serve at them with NUDGE_TWILIO_API_URL / NUDGE_SENDGRID_API_URL)."`

	BenchAnnounce  benchAnnounceCmd  `cmd:"" name:"bench-announce" help:"Measure an announcement to a large group: time to enqueue every member, drain rate against the pacing limit."`
	BenchReminders benchRemindersCmd `cmd:"" name:"bench-reminders" help:"Measure reminder scheduling on an embedded JetStream: rate, memory, firing lateness."`
	Bench          benchCmd          `cmd:"" help:"Measure the delivery pipeline (embedded NATS, SQLite or Postgres, fake providers) beside the raw JetStream rate."`

	LogLevel  string `help:"Log level: debug, info, warn, error." default:"info" enum:"debug,info,warn,error"`
	LogFormat string `help:"Log format: text or json." default:"text" enum:"text,json"`
}

type versionCmd struct{}

func (versionCmd) Run(g *globals) error {
	fmt.Fprintln(g.stdout, "nudge", version)
	return nil
}

func main() {
	var c cli
	kctx := kong.Parse(&c,
		kong.Name("nudge"),
		kong.Description("Kind, careful notifications and reminders for therapy practices."),
		kong.DefaultEnvars("NUDGE"),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &globals{ctx: ctx, stdout: os.Stdout, stderr: os.Stderr, logger: newLogger(os.Stderr, c.LogLevel, c.LogFormat)}
	// Libraries that log through the standard logger go through the same
	// masking handler as nudge's own logs.
	slog.SetDefault(g.logger)
	err := kctx.Run(g)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nudge:", logmask.String(err.Error()))
		if ec, ok := err.(interface{ ExitCode() int }); ok {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

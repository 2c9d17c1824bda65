package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/nudgehq/nudge/internal/bench"
)

// benchCmd measures the delivery pipeline in one process beside the raw
// JetStream rate of the same server (see package bench). It is a program,
// not a test: figures depend on the machine.
type benchCmd struct {
	Store           string        `help:"Store: sqlite (a temp file) or postgres (a fresh schema, dropped afterwards)." default:"sqlite" enum:"sqlite,postgres"`
	DatabaseURL     string        `name:"database-url" help:"Postgres server for --store postgres." default:"postgres://postgres@127.0.0.1:5432/test?sslmode=disable"`
	ProviderLatency time.Duration `name:"provider-latency" help:"Latency of every fake Twilio and SendGrid request." default:"20ms"`
	SMSRate         float64       `name:"sms-rate" help:"Pace SMS at this many per second through the shared pacer; 0 is no pacing." default:"0"`
	Channels        []string      `help:"Channels the notifications alternate between." default:"sms,email" enum:"sms,email"`
	Clients         int           `help:"Clients with consent, set up directly in the store." default:"100"`
	Workers         int           `help:"Notifications the deliver consumer handles at once (Runner.Concurrency)." default:"128"`
	Publishers      int           `help:"Concurrent publishers, each waiting for its PubAck." default:"16"`
	MaxBacklog      int           `name:"max-backlog" help:"Published but unfinished messages at most, in the raw and max-load phases." default:"1000"`
	Count           int           `help:"Messages at most in the raw and max-load phases." default:"20000"`
	Duration        time.Duration `help:"Publishing time at most in the raw and max-load phases." default:"15s"`
	HalfDuration    time.Duration `name:"half-duration" help:"Publishing time of the half-load phase." default:"10s"`
	SyncAlways      bool          `name:"sync-always" help:"Flush the JetStream file store on every write, as production and dev mode do." default:"true" negatable:""`
	JSON            bool          `name:"json" help:"Print the result as JSON."`
	CPUProfile      string        `name:"cpuprofile" help:"Write a CPU profile of the max-load phase (or --cpuprofile-phase) to this file." type:"path" placeholder:"FILE"`
	CPUProfilePhase string        `name:"cpuprofile-phase" help:"The phase --cpuprofile profiles: max or half." enum:"max,half" default:"max"`
}

func (b *benchCmd) Run(g *globals) error {
	cfg := bench.Config{
		Store: b.Store, DatabaseURL: b.DatabaseURL, ProviderLatency: b.ProviderLatency, SMSRate: b.SMSRate,
		Channels: b.Channels, Clients: b.Clients, Workers: b.Workers, Publishers: b.Publishers,
		MaxBacklog: b.MaxBacklog, Count: b.Count, Duration: b.Duration, HalfDuration: b.HalfDuration,
		SyncAlways: b.SyncAlways, Logger: g.logger, Progress: g.stderr,
	}
	if b.CPUProfile != "" {
		f, err := os.Create(b.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.CPUProfile, cfg.CPUProfilePhase = f, b.CPUProfilePhase
	}
	res, err := bench.Run(g.ctx, cfg)
	if err != nil {
		return err
	}
	if b.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	res.WriteTable(g.stdout)
	if !res.Check.OK() {
		return fmt.Errorf("bench: the audit found notifications not sent exactly once: %+v", res.Check)
	}
	return nil
}

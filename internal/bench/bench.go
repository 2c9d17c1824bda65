// Package bench measures nudge's delivery pipeline in one process: an
// embedded JetStream, the store (SQLite or Postgres), fake Twilio and
// SendGrid APIs with a configurable latency, and the real Deliverer behind
// the real Runner on the "deliver" consumer.
//
// A run has three measured phases, all on the same server:
//
//  1. raw: JetStream alone, measured before and after the pipeline (the
//     spread shows how steady the machine was). Messages the size of a notification go to a
//     stream configured like NUDGE_NOTIFY, through the same publish call
//     (PubAck, Nats-Msg-Id), and a durable pull consumer configured like
//     "deliver" double-acks each with as many goroutines as the deliverer
//     has workers. Their mean is the ceiling the pipeline is compared with.
//  2. max: notifications published as fast as the pipeline takes them
//     (publishers stop when the backlog reaches MaxBacklog), timed from
//     the first publish to the last ledger outcome.
//  3. half: a paced publisher at half the max phase's rate, where the
//     latency target applies.
//
// Latency is event to provider: from the moment a notification is handed
// to BusDispatcher.Notify to the moment the fake provider receives the
// HTTP request carrying it (before the fake's simulated latency).
package bench

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// Config is one bench run.
type Config struct {
	// Store is "sqlite" (a file in a temp dir) or "postgres".
	Store string
	// DatabaseURL is the Postgres server; the run uses a fresh schema on
	// it and drops it afterwards.
	DatabaseURL string
	// ProviderLatency delays every request the fake providers answer.
	ProviderLatency time.Duration
	// SMSRate paces SMS per second through the shared pacer; 0 is no pacing.
	SMSRate float64
	// Channels the notifications alternate between: "sms", "email".
	Channels []string
	// Clients with consent that notifications are spread over.
	Clients int
	// Workers is the deliver runner's Concurrency.
	Workers int
	// Publishers publish concurrently, each waiting for its PubAck.
	Publishers int
	// MaxBacklog bounds published but not yet finished messages in the raw
	// and max phases, so a phase drains in seconds and latency at max load
	// measures a bounded queue (JetStream allows the deliver consumer 1000
	// unacknowledged messages).
	MaxBacklog int
	// Count bounds the raw and max phases' messages, Duration their
	// publishing time; whichever comes first ends the phase.
	Count    int
	Duration time.Duration
	// HalfDuration is how long the half-load phase publishes.
	HalfDuration time.Duration
	// SyncAlways flushes JetStream's file store on every write, as dev
	// mode and production (sync_interval: always) do.
	SyncAlways bool

	Logger *slog.Logger
	// Progress, when set, gets a line as each phase starts and ends.
	Progress io.Writer
	// CPUProfile, when set, receives a CPU profile of the phase
	// CPUProfilePhase names: "max" (the default) or "half".
	CPUProfile      io.Writer
	CPUProfilePhase string

	// prefetch is the deliver runner's Prefetch (0: the library's).
	prefetch int
}

// Defaults fills zero fields.
func (c *Config) Defaults() {
	if c.Store == "" {
		c.Store = "sqlite"
	}
	if len(c.Channels) == 0 {
		c.Channels = []string{string(vocab.SMS), string(vocab.Email)}
	}
	if c.Clients == 0 {
		c.Clients = 100
	}
	if c.Workers == 0 {
		c.Workers = 32
	}
	if c.Publishers == 0 {
		c.Publishers = 16
	}
	if c.MaxBacklog == 0 {
		c.MaxBacklog = 1000
	}
	if c.Count == 0 {
		c.Count = 20000
	}
	if c.Duration == 0 {
		c.Duration = 15 * time.Second
	}
	if c.HalfDuration == 0 {
		c.HalfDuration = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	var errs []error
	switch c.Store {
	case "sqlite":
	case "postgres":
		if c.DatabaseURL == "" {
			errs = append(errs, errors.New("DatabaseURL is required with Store postgres"))
		}
	default:
		errs = append(errs, fmt.Errorf("Store %q is not sqlite or postgres", c.Store))
	}
	for _, ch := range c.Channels {
		if !vocab.Channel(ch).Valid() {
			errs = append(errs, fmt.Errorf("Channels: %q is not sms or email", ch))
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"Clients", c.Clients}, {"Workers", c.Workers}, {"Publishers", c.Publishers}, {"MaxBacklog", c.MaxBacklog}, {"Count", c.Count}} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, got %d", f.name, f.v))
		}
	}
	if c.Clients > 9000 {
		errs = append(errs, fmt.Errorf("Clients must be at most 9000, got %d", c.Clients))
	}
	if c.MaxBacklog < c.Workers {
		errs = append(errs, fmt.Errorf("MaxBacklog (%d) must be at least Workers (%d)", c.MaxBacklog, c.Workers))
	}
	if c.Duration <= 0 || c.HalfDuration <= 0 {
		errs = append(errs, errors.New("Duration and HalfDuration must be positive"))
	}
	if c.ProviderLatency < 0 || c.SMSRate < 0 {
		errs = append(errs, errors.New("ProviderLatency and SMSRate must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// Result is what a run measured. Rates are messages per second; latencies
// are event to provider.
type Result struct {
	Store           string        `json:"store"`
	ProviderLatency time.Duration `json:"provider_latency_ns"`
	SMSRate         float64       `json:"sms_rate,omitempty"`
	Channels        []string      `json:"channels"`
	Clients         int           `json:"clients"`
	Workers         int           `json:"workers"`
	Publishers      int           `json:"publishers"`
	MaxBacklog      int           `json:"max_backlog"`
	SyncAlways      bool          `json:"sync_always"`
	MessageBytes    int           `json:"message_bytes"`
	GoVersion       string        `json:"go_version"`
	CPUs            int           `json:"cpus"`

	Raw      Phase `json:"raw"`
	Max      Phase `json:"max"`
	Half     Phase `json:"half"`
	RawAfter Phase `json:"raw_after"`

	// RawRate is the mean of the two raw phases' rates; Ratio is the max
	// phase's rate over it.
	RawRate float64 `json:"raw_rate"`
	Ratio   float64 `json:"ratio"`
	// Check counts what the ledger and the fake providers saw over the
	// max and half phases.
	Check Check `json:"check"`
}

// Phase is one measured phase.
type Phase struct {
	Messages int `json:"messages"`
	// Rate is Messages over the time from the first publish to the last
	// message finished (acked for raw, ledger outcome for the pipeline).
	Rate float64 `json:"rate"`
	// SteadyRate is the finishing rate between the 10th and 90th
	// percentile of finish times: the sustained rate without ramp-up and
	// drain.
	SteadyRate float64 `json:"steady_rate"`
	// Offered is the publishing rate: the pacer's target in the half phase.
	Offered    float64        `json:"offered_rate,omitempty"`
	Published  float64        `json:"published_rate"`
	Elapsed    time.Duration  `json:"elapsed_ns"`
	LatencyP50 time.Duration  `json:"latency_p50_ns,omitempty"`
	LatencyP99 time.Duration  `json:"latency_p99_ns,omitempty"`
	LatencyMax time.Duration  `json:"latency_max_ns,omitempty"`
	Outcomes   map[string]int `json:"outcomes,omitempty"`
	// PublishP50 and PublishP99: how long a publish waited for its PubAck.
	// The publishers are few (--publishers) and wait for each PubAck, so
	// a slower PubAck alone lowers a phase's rate.
	PublishP50 time.Duration `json:"publish_p50_ns,omitempty"`
	PublishP99 time.Duration `json:"publish_p99_ns,omitempty"`
	// CPUPerMessage is this process's CPU time (embedded NATS server,
	// deliverer, fake providers; not the Postgres server) during the
	// phase over its messages.
	CPUPerMessage time.Duration `json:"cpu_per_message_ns,omitempty"`
	// SchedP50 and SchedP99: how long this process's goroutines waited
	// for a CPU once runnable (the Go runtime's /sched/latencies).
	SchedP50 time.Duration `json:"sched_p50_ns,omitempty"`
	SchedP99 time.Duration `json:"sched_p99_ns,omitempty"`
	// Time is where a notification's time in the deliverer went, on
	// average (pipeline phases).
	Time *Breakdown `json:"time,omitempty"`
}

// Breakdown splits the deliverer's time per notification.
type Breakdown struct {
	// Handler is the Deliverer's whole Handle call.
	Handler time.Duration `json:"handler_ns"`
	// Provider is the Twilio or SendGrid call, simulated latency included.
	Provider time.Duration `json:"provider_ns"`
	// StoreWait is time spent waiting for a database connection: the
	// single SQLite writer, or the Postgres pool.
	StoreWait time.Duration `json:"store_wait_ns"`
}

// Check is the end-of-run audit: every notification in the ledger once,
// sent, and at the provider exactly once.
type Check struct {
	Notifications int `json:"notifications"`
	LedgerSent    int `json:"ledger_sent"`
	LedgerOther   int `json:"ledger_other"`
	AtProvider    int `json:"at_provider"`
	// ExtraRequests counts provider requests beyond the first for one
	// notification (a resend would be a duplicate message).
	ExtraRequests int `json:"extra_requests"`
}

// OK reports whether the audit found every notification sent exactly once.
func (c Check) OK() bool {
	return c.LedgerSent == c.Notifications && c.LedgerOther == 0 && c.AtProvider == c.Notifications && c.ExtraRequests == 0
}

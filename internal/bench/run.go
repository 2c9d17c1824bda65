package bench

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"time"
)

// Run measures the raw baseline and the pipeline at max and half load.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.Defaults()
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	res := Result{
		Store: cfg.Store, ProviderLatency: cfg.ProviderLatency, SMSRate: cfg.SMSRate, Channels: cfg.Channels,
		Clients: cfg.Clients, Workers: cfg.Workers, Publishers: cfg.Publishers, MaxBacklog: cfg.MaxBacklog,
		SyncAlways: cfg.SyncAlways, GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
	}
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "bench: "+format+"\n", args...)
		}
	}
	progress("starting embedded NATS, %s store, fake providers, %d clients", cfg.Store, cfg.Clients)
	e, err := start(ctx, cfg, markerID)
	if err != nil {
		return res, err
	}
	defer e.close()

	// The baseline's messages are the pipeline's, byte for byte.
	payload := func(i int) []byte {
		b, _ := e.notification(int64(i)).Marshal()
		return b
	}
	res.MessageBytes = len(payload(cfg.Count / 2))

	progress("raw JetStream publish+consume: up to %d messages or %s", cfg.Count, cfg.Duration)
	if res.Raw, err = e.raw(ctx, payload); err != nil {
		return res, err
	}
	progress("raw: %d messages, %.0f/s", res.Raw.Messages, res.Raw.Rate)

	var next int64
	warm := min(cfg.Count, 4*cfg.Workers+100)
	progress("warm-up: %d notifications", warm)
	w, err := e.pipeline(ctx, next, warm, 0, cfg.Duration)
	if err != nil {
		return res, err
	}
	next += int64(w.Messages)

	progress("max load: up to %d notifications or %s, backlog ≤ %d", cfg.Count, cfg.Duration, cfg.MaxBacklog)
	stop, err := profile(cfg, "max")
	if err != nil {
		return res, err
	}
	res.Max, err = e.pipeline(ctx, next, cfg.Count, 0, cfg.Duration)
	stop()
	if err != nil {
		return res, err
	}
	next += int64(res.Max.Messages)
	progress("max: %d notifications, %.0f/s, p50 %s p99 %s", res.Max.Messages, res.Max.Rate, ms(res.Max.LatencyP50), ms(res.Max.LatencyP99))

	half := res.Max.Rate / 2
	count := max(1, int(half*cfg.HalfDuration.Seconds()))
	progress("half load: %.0f/s for %s", half, cfg.HalfDuration)
	if stop, err = profile(cfg, "half"); err != nil {
		return res, err
	}
	res.Half, err = e.pipeline(ctx, next, count, half, cfg.HalfDuration)
	stop()
	if err != nil {
		return res, err
	}
	res.Half.Offered = half
	next += int64(res.Half.Messages)
	progress("half: %d notifications, p50 %s p99 %s", res.Half.Messages, ms(res.Half.LatencyP50), ms(res.Half.LatencyP99))

	progress("raw again: up to %d messages or %s", cfg.Count, cfg.Duration)
	if res.RawAfter, err = e.raw(ctx, payload); err != nil {
		return res, err
	}
	res.RawRate = (res.Raw.Rate + res.RawAfter.Rate) / 2
	res.Ratio = res.Max.Rate / res.RawRate
	progress("raw again: %d messages, %.0f/s; pipeline at max load is %.0f%% of their mean", res.RawAfter.Messages, res.RawAfter.Rate, 100*res.Ratio)

	if res.Check, err = e.audit(ctx, next); err != nil {
		return res, err
	}
	return res, nil
}

// profile starts the CPU profile if cfg asks for one of phase, and
// returns what stops it.
func profile(cfg Config, phase string) (stop func(), err error) {
	if cfg.CPUProfile == nil || cmp.Or(cfg.CPUProfilePhase, "max") != phase {
		return func() {}, nil
	}
	if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
		return nil, fmt.Errorf("bench: starting the CPU profile: %w", err)
	}
	return pprof.StopCPUProfile, nil
}

// ms formats d in milliseconds with one decimal.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

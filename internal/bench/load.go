package bench

import (
	"context"
	"runtime/metrics"
	"slices"
	"sync"
	"syscall"
	"time"
)

// load drives one phase's publishers: Publishers goroutines each take the
// next index and publish it, waiting for the PubAck.
type load struct {
	publishers int
	count      int
	// rate paces publishing (messages per second); 0 publishes as fast as
	// the backlog allows, for at most duration.
	rate     float64
	duration time.Duration
	backlog  int
	done     func() int // messages of this phase finished so far
	publish  func(ctx context.Context, i int) error
}

// published is what a load run measured: when each message started
// publishing and how long each publish waited for its PubAck, with the
// process's CPU time and scheduling latencies when the run began (the
// phase's baselines).
type published struct {
	starts []time.Time
	acks   []time.Duration
	cpu0   time.Duration
	sched0 *metrics.Float64Histogram
}

// run publishes and returns when each message started publishing and how
// long its publish took.
func (l load) run(ctx context.Context) (published, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	starts := make([]time.Time, l.count)
	acks := make([]time.Duration, l.count)
	cpu0, sched0 := processCPU(), schedLatency()
	tickets := make(chan int)
	var (
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	for range l.publishers {
		wg.Go(func() {
			for i := range tickets {
				starts[i] = time.Now()
				if err := l.publish(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
				acks[i] = time.Since(starts[i])
			}
		})
	}
	begin := time.Now()
	n := 0
feed:
	for ; n < l.count; n++ {
		if l.rate > 0 {
			due := begin.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
			if !sleepUntil(ctx, due) {
				break
			}
		} else {
			if time.Since(begin) > l.duration {
				break
			}
			for n-l.done() >= l.backlog {
				if !sleepUntil(ctx, time.Now().Add(200*time.Microsecond)) {
					break feed
				}
			}
		}
		select {
		case tickets <- n:
		case <-ctx.Done():
			break feed
		}
	}
	close(tickets)
	wg.Wait()
	if firstErr != nil {
		return published{}, firstErr
	}
	return published{starts[:n], acks[:n], cpu0, sched0}, ctx.Err()
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// waitDone polls until done reports n or the timeout passes.
func waitDone(ctx context.Context, done func() int, n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for done() < n {
		if time.Now().After(deadline) || !sleepUntil(ctx, time.Now().Add(2*time.Millisecond)) {
			return false
		}
	}
	return true
}

// summarize computes a phase's rates from its publishes and its finish
// times (in order), and what the process's CPU and scheduler did since
// the publishing began.
func summarize(pub published, finished []time.Time) Phase {
	starts := pub.starts
	p := Phase{Messages: len(starts)}
	if pub.sched0 != nil {
		p.SchedP50, p.SchedP99 = schedQuantiles(pub.sched0, schedLatency())
	}
	if len(starts) > 0 {
		p.CPUPerMessage = (processCPU() - pub.cpu0) / time.Duration(len(starts))
		acks := slices.Clone(pub.acks)
		slices.Sort(acks)
		p.PublishP50, p.PublishP99 = percentile(acks, 50), percentile(acks, 99)
	}
	if len(starts) == 0 || len(finished) == 0 {
		return p
	}
	first, lastStart := starts[0], starts[0]
	for _, s := range starts {
		if s.Before(first) {
			first = s
		}
		if s.After(lastStart) {
			lastStart = s
		}
	}
	last := slices.MaxFunc(finished, func(a, b time.Time) int { return a.Compare(b) })
	p.Elapsed = last.Sub(first)
	p.Rate = perSecond(len(starts), p.Elapsed)
	p.Published = perSecond(len(starts)-1, lastStart.Sub(first))
	if n := len(finished); n >= 10 {
		lo, hi := n/10, n*9/10
		p.SteadyRate = perSecond(hi-lo, finished[hi].Sub(finished[lo]))
	}
	return p
}

// processCPU is the CPU time this process (the embedded NATS server, the
// deliverer and the fake providers) has used so far, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// latencies fills p's percentiles.
func (p *Phase) latencies(l []time.Duration) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	p.LatencyP50, p.LatencyP99, p.LatencyMax = percentile(l, 50), percentile(l, 99), l[len(l)-1]
}

// percentile is the nearest-rank p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

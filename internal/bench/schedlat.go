package bench

import (
	"runtime/metrics"
	"time"
)

// schedLatency reads the runtime's histogram of how long goroutines waited
// to run after becoming runnable.
func schedLatency() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64Histogram()
}

// schedQuantiles is the p50 and p99 of the waits between two readings.
func schedQuantiles(a, b *metrics.Float64Histogram) (p50, p99 time.Duration) {
	var total uint64
	counts := make([]uint64, len(b.Counts))
	for i := range b.Counts {
		counts[i] = b.Counts[i] - a.Counts[i]
		total += counts[i]
	}
	q := func(f float64) time.Duration {
		want := uint64(f * float64(total))
		var run uint64
		for i, c := range counts {
			run += c
			if run >= want && c > 0 {
				return time.Duration(b.Buckets[i+1] * float64(time.Second))
			}
		}
		return 0
	}
	return q(0.5), q(0.99)
}

package metrics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nudgehq/nudge/internal/bus"
)

// ConsumerRef names one durable consumer.
type ConsumerRef struct {
	Stream   string
	Consumer string
}

// ConsumerBacklog is one durable consumer's backlog: messages not yet
// delivered (NumPending) and delivered but not yet acknowledged
// (NumAckPending).
type ConsumerBacklog struct {
	ConsumerRef
	Pending    uint64
	AckPending uint64
	// Err is why the backlog could not be read; the counts are then unset.
	Err error
}

// PendingFunc reports the backlog of nudge's durable consumers. It is
// called at scrape time and must return by ctx's deadline.
type PendingFunc func(ctx context.Context) []ConsumerBacklog

// TopologyConsumers lists the durable consumers Provision creates for t,
// ordered by stream and name.
func TopologyConsumers(t bus.Topology) []ConsumerRef {
	var refs []ConsumerRef
	for stream, ccs := range t.ConsumerConfigs() {
		for _, cc := range ccs {
			refs = append(refs, ConsumerRef{Stream: stream, Consumer: cc.Durable})
		}
	}
	slices.SortFunc(refs, func(a, b ConsumerRef) int {
		return cmp.Or(cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.Consumer, b.Consumer))
	})
	return refs
}

// JetStreamPending asks JetStream for each consumer's info, one request
// per consumer, all under the scrape's deadline.
func JetStreamPending(js jetstream.JetStream, refs ...ConsumerRef) PendingFunc {
	return func(ctx context.Context) []ConsumerBacklog {
		out := make([]ConsumerBacklog, len(refs))
		for i, ref := range refs {
			out[i].ConsumerRef = ref
			c, err := js.Consumer(ctx, ref.Stream, ref.Consumer)
			if err != nil {
				out[i].Err = err
				continue
			}
			// js.Consumer fetched the info just now.
			info := c.CachedInfo()
			out[i].Pending = info.NumPending
			if info.NumAckPending > 0 {
				out[i].AckPending = uint64(info.NumAckPending)
			}
		}
		return out
	}
}

var pendingDesc = prometheus.NewDesc(
	"nudge_consumer_pending",
	"Backlog of a durable consumer at scrape time: state=pending is not yet delivered (NumPending), state=ack_pending is delivered and awaiting ack (NumAckPending).",
	[]string{"stream", "consumer", "state"}, nil,
)

// pendingCollector reads the backlog when Prometheus scrapes, so the gauge
// is never stale and costs nothing between scrapes.
type pendingCollector struct {
	fn      PendingFunc
	timeout time.Duration
}

func (c *pendingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- pendingDesc }

func (c *pendingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	for _, b := range c.fn(ctx) {
		stream, consumer := oneOf(b.Stream, streamNames), oneOf(b.Consumer, consumerNames)
		if b.Err != nil {
			// Left out of this scrape; the handler logs it and serves the rest.
			ch <- prometheus.NewInvalidMetric(pendingDesc, fmt.Errorf("reading backlog of consumer %s/%s: %w", b.Stream, b.Consumer, b.Err))
			continue
		}
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(b.Pending), stream, consumer, "pending")
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(b.AckPending), stream, consumer, "ack_pending")
	}
}

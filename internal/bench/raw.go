package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/bus"
)

const (
	rawStream   = "BENCH_RAW"
	rawSubject  = "bench.raw.msg"
	rawConsumer = "bench_raw"
)

// raw measures JetStream alone on the run's server: a stream configured
// like NUDGE_NOTIFY, a consumer configured like "deliver", the same
// publish call as BusDispatcher.Notify (PubAck, Nats-Msg-Id) and the same
// ack as the Runner (DoubleAck), with as many acking goroutines as the
// deliverer has workers. The stream is deleted afterwards.
func (e *env) raw(ctx context.Context, payload func(i int) []byte) (Phase, error) {
	topo := bus.DefaultTopology(1)
	var sc jetstream.StreamConfig
	for _, s := range topo.StreamConfigs() {
		if s.Name == bus.StreamNotify {
			sc = s
		}
	}
	sc.Name, sc.Subjects, sc.Description = rawStream, []string{"bench.raw.>"}, "nudge bench: raw JetStream baseline"
	if _, err := e.js.CreateStream(ctx, sc); err != nil {
		return Phase{}, fmt.Errorf("bench: creating %s: %w", rawStream, err)
	}
	defer func() { _ = e.js.DeleteStream(context.WithoutCancel(ctx), rawStream) }()
	cc := topo.ConsumerConfigs()[bus.StreamNotify][0]
	cc.Durable, cc.FilterSubject, cc.Description = rawConsumer, "bench.raw.>", "nudge bench: raw baseline"
	cons, err := e.js.CreateOrUpdateConsumer(ctx, rawStream, cc)
	if err != nil {
		return Phase{}, fmt.Errorf("bench: creating consumer %s: %w", rawConsumer, err)
	}

	var (
		mu       sync.Mutex
		finished []time.Time
		ackErrs  int
		inFlight sync.WaitGroup
	)
	done := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(finished)
	}
	slots := make(chan struct{}, e.cfg.Workers)
	consuming, err := cons.Consume(func(m jetstream.Msg) {
		slots <- struct{}{}
		inFlight.Go(func() {
			defer func() { <-slots }()
			actx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			err := m.DoubleAck(actx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ackErrs++
				return
			}
			finished = append(finished, time.Now())
		})
	})
	if err != nil {
		return Phase{}, fmt.Errorf("bench: consuming %s: %w", rawStream, err)
	}
	defer func() { consuming.Stop(); inFlight.Wait() }()

	pub, err := load{
		publishers: e.cfg.Publishers, count: e.cfg.Count, duration: e.cfg.Duration, backlog: e.cfg.MaxBacklog, done: done,
		publish: func(ctx context.Context, i int) error {
			_, err := e.js.Publish(ctx, rawSubject, payload(i), jetstream.WithMsgID("raw:"+strconv.Itoa(i)))
			return err
		},
	}.run(ctx)
	if err != nil {
		return Phase{}, fmt.Errorf("bench: raw publish: %w", err)
	}
	if !waitDone(ctx, done, len(pub.starts), 60*time.Second) {
		return Phase{}, fmt.Errorf("bench: raw: %d of %d messages acked within 60s (%d ack errors)", done(), len(pub.starts), ackErrs)
	}
	mu.Lock()
	defer mu.Unlock()
	return summarize(pub, finished), nil
}

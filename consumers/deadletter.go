package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/store"
)

// ReasonDeadLettered is written on a delivery whose notification was
// dead-lettered, so the ledger says why nothing was sent.
const ReasonDeadLettered = "dead_lettered"

// maxDeliveriesAdvisory is JetStream's io.nats.jetstream.advisory.v1.max_deliver.
type maxDeliveriesAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// DeadLetters moves messages JetStream gave up on (after MaxDeliver
// attempts) into the store, where staff can see and replay them. Nothing
// accepted is lost: a dead letter is an explicit, queryable outcome.
type DeadLetters struct {
	Store  store.Store
	JS     jetstream.JetStream
	Logger *slog.Logger
	// Counted is called once per new dead letter (metrics); may be nil.
	Counted func(stream string)
}

// Handle is a Handler for the NUDGE_ADVISORIES deadletter consumer.
func (h *DeadLetters) Handle(ctx context.Context, msg jetstream.Msg) error {
	var adv maxDeliveriesAdvisory
	if err := json.Unmarshal(msg.Data(), &adv); err != nil || adv.Stream == "" || adv.StreamSeq == 0 {
		return Permanent(fmt.Errorf("unreadable MAX_DELIVERIES advisory: %q", msg.Data()))
	}
	d := store.DeadLetter{Stream: adv.Stream, StreamSeq: adv.StreamSeq, Consumer: adv.Consumer, Deliveries: adv.Deliveries}
	raw, err := h.original(ctx, adv)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		d.Reason = "the message is no longer on the stream"
		d.Data = []byte{}
	case err != nil:
		return err
	default:
		d.Subject, d.Data = raw.Subject, raw.Data
	}
	d.Key = h.keyOf(ctx, d)
	got, created, err := h.Store.AddDeadLetter(ctx, d)
	if err != nil {
		return err
	}
	if created {
		if h.Counted != nil {
			h.Counted(d.Stream)
		}
		if h.Logger != nil {
			h.Logger.Error("message dead-lettered", "id", got.ID, "stream", d.Stream, "seq", d.StreamSeq, "consumer", d.Consumer, "key", d.Key, "deliveries", d.Deliveries)
		}
	}
	return nil
}

func (h *DeadLetters) original(ctx context.Context, adv maxDeliveriesAdvisory) (*jetstream.RawStreamMsg, error) {
	st, err := h.JS.Stream(ctx, adv.Stream)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", adv.Stream, err)
	}
	return st.GetMsg(ctx, adv.StreamSeq)
}

// keyOf finds what staff search by: the notification key (and marks its
// ledger row) or the event id.
func (h *DeadLetters) keyOf(ctx context.Context, d store.DeadLetter) string {
	switch d.Stream {
	case bus.StreamNotify:
		n, err := DecodeNotification(d.Data)
		if err != nil {
			return ""
		}
		if row, err := h.Store.GetDeliveryByKey(ctx, n.Key); err == nil {
			if _, err := h.Store.UpdateDelivery(ctx, row.ID, store.DeliveryUpdate{Reason: ReasonDeadLettered}); err != nil && h.Logger != nil {
				h.Logger.Warn("marking dead-lettered delivery", "key", n.Key, "err", err)
			}
		}
		return n.Key
	case bus.StreamEvents:
		var ev struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(d.Data, &ev)
		return ev.ID
	}
	return ""
}

// Replay puts a dead letter back on its original subject, once. The
// consumers are idempotent, so a replayed message that partly succeeded
// before changes only what is still missing.
func (h *DeadLetters) Replay(ctx context.Context, id int64, by string) (store.DeadLetter, error) {
	d, err := h.Store.GetDeadLetter(ctx, id)
	if err != nil {
		return store.DeadLetter{}, err
	}
	if !d.ReplayedAt.IsZero() {
		return d, fmt.Errorf("dead letter %d was replayed at %s by %s: %w", id, d.ReplayedAt.Format("2006-01-02 15:04:05Z07:00"), d.ReplayedBy, store.ErrConflict)
	}
	if d.Subject == "" || len(d.Data) == 0 {
		return d, fmt.Errorf("dead letter %d has no message to replay: %w", id, store.ErrInvalid)
	}
	// A msg id of its own: the original id is still in the duplicate
	// window, and the same replay published twice must count once.
	if _, err := h.JS.Publish(ctx, d.Subject, d.Data, jetstream.WithMsgID(fmt.Sprintf("replay:%s:%d", d.Stream, d.StreamSeq))); err != nil {
		return d, fmt.Errorf("replaying dead letter %d: %w", id, err)
	}
	return h.Store.MarkDeadLetterReplayed(ctx, id, by)
}

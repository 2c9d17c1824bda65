package encouragement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/cron"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/subject"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
	"github.com/nudgehq/nudge/templates"
)

// DefaultSchedule is the practice's default when a client opts in without
// choosing: Monday and Thursday at 10:00 on the client's clock
// (NUDGE_ENCOURAGEMENT_SCHEDULE).
const DefaultSchedule = "mon,thu 10:00"

// FireTTL bounds how long an unconsumed fire stays on the stream: a fire
// older than that is not worth a text.
const FireTTL = 12 * time.Hour

// Reasons recorded in the deliveries ledger for fires that send nothing.
const (
	// ReasonSameDay: the schedule fired again on a client-local day that
	// already has its encouragement (a cadence skip).
	ReasonSameDay = vocab.SkipReason(quiethours.ReasonDailyCap)
)

// Bus keeps the clients' recurring schedules; consumers.JetStreamSchedules
// is the JetStream one. Implementations must be safe for concurrent use.
type Bus interface {
	ScheduleCron(ctx context.Context, subject, target string, payload []byte, cron, zone string, ttl time.Duration) error
	Unschedule(ctx context.Context, subject string) error
}

// Config configures a Job. Store, Bus and Dispatcher are required.
type Config struct {
	Store      store.Store
	Bus        Bus
	Dispatcher consumers.Dispatcher
	// DefaultSchedule is started by a consent for encouragement, as
	// "days HH:MM"; empty means DefaultSchedule.
	DefaultSchedule string
	Now             func() time.Time
	Logger          *slog.Logger
}

// Job schedules encouragement and turns fires into notifications. Create it
// with New; it is safe for concurrent use.
type Job struct {
	cfg         Config
	defaultCron string
	days, at    string
}

// New validates cfg; errors name the field.
func New(cfg Config) (*Job, error) {
	if cfg.Store == nil || cfg.Bus == nil || cfg.Dispatcher == nil {
		return nil, errors.New("encouragement: Store, Bus and Dispatcher are required")
	}
	if cfg.DefaultSchedule == "" {
		cfg.DefaultSchedule = DefaultSchedule
	}
	days, at, err := cron.ParseDaysAt(cfg.DefaultSchedule)
	if err != nil {
		return nil, fmt.Errorf("encouragement: DefaultSchedule: %w", err)
	}
	expr, err := cron.FromDaysAt(days, at)
	if err != nil {
		return nil, fmt.Errorf("encouragement: DefaultSchedule: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Job{cfg: cfg, defaultCron: expr, days: strings.Join(days, ","), at: at}, nil
}

// SubjectSchedule is the subject of a client's cron schedule. Client ids
// come from outside and may hold dots or wildcards: the subject carries a
// hash of the id.
func SubjectSchedule(clientID string) string { return subject.Encouragement(clientID) }

// SubjectFired is where every client's schedule delivers its fires.
var SubjectFired = consumers.SubjectFired("encouragement")

// Key is the idempotency key of a client's encouragement on a local day.
func Key(clientID, localDate string) string {
	return "encouragement:" + clientID + ":" + localDate
}

// fire is the payload of every fire of a client's schedule.
type fire struct {
	ClientID string `json:"client_id"`
}

// EventApplied implements consumers.EventHook.
func (j *Job) EventApplied(ctx context.Context, ev publishers.Event, res store.Result) error {
	switch ev.Type {
	case publishers.TypeConsentGranted, publishers.TypeConsentRevoked:
		d, err := publishers.DataAs[publishers.ConsentChanged](ev)
		if err != nil || d.Purpose != publishers.PurposeEncouragement {
			return nil
		}
		if ev.Type == publishers.TypeConsentGranted {
			if err := j.ensureDefault(ctx, d.ClientID); err != nil {
				return err
			}
		}
		return j.Sync(ctx, d.ClientID)
	case publishers.TypeEncouragementScheduleSet:
		d, err := publishers.DataAs[publishers.EncouragementScheduleSet](ev)
		if err != nil {
			return nil
		}
		return j.Sync(ctx, d.ClientID)
	case publishers.TypeClientUpserted:
		d, err := publishers.DataAs[publishers.ClientUpserted](ev)
		if err != nil {
			return nil
		}
		return j.Sync(ctx, d.ClientID)
	}
	return nil
}

// Joined starts encouragement for a client who just consented outside
// ingest (a double opt-in by SMS): the default schedule unless they have
// one, placed on JetStream.
func (j *Job) Joined(ctx context.Context, clientID string) error {
	if err := j.ensureDefault(ctx, clientID); err != nil {
		return err
	}
	return j.Sync(ctx, clientID)
}

// PerWeek is how many messages a week the default schedule sends: what
// the opt-in messages promise ("about 2 messages a week").
func (j *Job) PerWeek() int { return len(strings.Split(j.days, ",")) }

// ensureDefault gives a client who consented the practice's default
// schedule unless they have one.
func (j *Job) ensureDefault(ctx context.Context, clientID string) error {
	_, created, err := j.cfg.Store.EnsureEncouragementSchedule(ctx, store.EncouragementSchedule{
		ClientID: clientID, Cron: j.defaultCron, Days: j.days, At: j.at, Source: store.ScheduleSourceDefault,
	})
	if err != nil {
		return fmt.Errorf("starting the default encouragement schedule of %s: %w", clientID, err)
	}
	if created {
		j.cfg.Logger.Info("default encouragement schedule started", "client", clientID, "schedule", j.days+" "+j.at)
	}
	return nil
}

// Sync makes the client's schedule on JetStream match the store: placed in
// the client's zone when the client has a schedule and a channel with
// consent for encouragement, purged otherwise. It derives everything from
// stored state, so running it again changes nothing.
func (j *Job) Sync(ctx context.Context, clientID string) error {
	live, sch, c, err := j.wanted(ctx, clientID)
	if err != nil {
		return err
	}
	subject := SubjectSchedule(clientID)
	if !live {
		return j.cfg.Bus.Unschedule(ctx, subject)
	}
	payload, err := json.Marshal(fire{ClientID: clientID})
	if err != nil {
		return err
	}
	if err := j.cfg.Bus.ScheduleCron(ctx, subject, SubjectFired, payload, sch.Cron, zoneOf(c), FireTTL); err != nil {
		return err
	}
	j.cfg.Logger.Debug("encouragement schedule placed", "client", clientID, "cron", sch.Cron, "zone", zoneOf(c))
	return nil
}

// wanted reports whether the client's schedule should be live, with the
// schedule and client it read.
func (j *Job) wanted(ctx context.Context, clientID string) (bool, store.EncouragementSchedule, store.Client, error) {
	sch, err := j.cfg.Store.GetEncouragementSchedule(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return false, sch, store.Client{}, nil
	}
	if err != nil {
		return false, sch, store.Client{}, fmt.Errorf("reading encouragement schedule of %s: %w", clientID, err)
	}
	c, err := j.cfg.Store.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return false, sch, c, nil // placed when the profile arrives (client.upserted)
	}
	if err != nil {
		return false, sch, c, fmt.Errorf("reading client %s: %w", clientID, err)
	}
	_, ok, err := consumers.ChooseChannel(ctx, j.cfg.Store, c, vocab.Encouragement)
	if err != nil {
		return false, sch, c, err
	}
	return ok, sch, c, nil
}

// Next is when the client's schedule fires next, as the server computes
// it; zero when the schedule is not live (no schedule, no consent).
func (j *Job) Next(ctx context.Context, clientID string) (store.EncouragementSchedule, string, time.Time, error) {
	live, sch, c, err := j.wanted(ctx, clientID)
	if err != nil || !live {
		return sch, "", time.Time{}, err
	}
	zone := zoneOf(c)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return sch, zone, time.Time{}, nil
	}
	next, err := cron.Next(sch.Cron, loc, j.cfg.Now())
	if err != nil {
		return sch, zone, time.Time{}, nil
	}
	return sch, zone, next, nil
}

// zoneOf is the client's IANA zone, UTC when unknown.
func zoneOf(c store.Client) string {
	if c.Timezone == "" {
		return "UTC"
	}
	return c.Timezone
}

// Handle is the Handler of the "encouragement" consumer: one fire of one
// client's schedule.
func (j *Job) Handle(ctx context.Context, msg jetstream.Msg) error {
	var f fire
	if err := json.Unmarshal(msg.Data(), &f); err != nil || f.ClientID == "" {
		return consumers.Permanent(fmt.Errorf("encouragement fire on %s: bad payload", msg.Subject()))
	}
	at := j.cfg.Now()
	redelivered := false
	if md, err := msg.Metadata(); err == nil {
		at, redelivered = md.Timestamp, md.NumDelivered > 1
	}
	return j.Fire(ctx, f.ClientID, at, redelivered)
}

// Fire turns one fire at at into the client's encouragement for that local
// day, or records why there is none.
func (j *Job) Fire(ctx context.Context, clientID string, at time.Time, redelivered bool) error {
	c, err := j.cfg.Store.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return j.cfg.Bus.Unschedule(ctx, SubjectSchedule(clientID))
	}
	if err != nil {
		return fmt.Errorf("reading client %s: %w", clientID, err)
	}
	loc := clientLocation(c)
	local := at.In(loc)
	key := Key(clientID, local.Format(time.DateOnly))

	ch, ok, err := consumers.ChooseChannel(ctx, j.cfg.Store, c, vocab.Encouragement)
	if err != nil {
		return err
	}
	if !ok {
		// Revoked by some path (STOP, a carrier opt-out, consent.revoked):
		// the schedule goes, and the ledger says why this fire sent nothing.
		if err := j.cfg.Bus.Unschedule(ctx, SubjectSchedule(clientID)); err != nil {
			return err
		}
		return j.record(ctx, c, key, vocab.SMS, "", consumers.NoChannelReason(c))
	}
	to := c.Phone
	if ch == vocab.Email {
		to = c.Email
	}
	row, created, err := j.cfg.Store.CreateDelivery(ctx, store.Delivery{
		ID: store.NewDeliveryID(), IdempotencyKey: key, ClientID: clientID, Channel: ch, Purpose: vocab.Encouragement,
		Template: templates.KindEncouragement, To: to, State: store.DeliveryPending,
	})
	if err != nil {
		return fmt.Errorf("recording encouragement %s: %w", key, err)
	}
	if !created && !redelivered {
		// This local day has its encouragement already.
		if err := j.record(ctx, c, key+":again:"+local.Format("150405"), row.Channel, row.To, ReasonSameDay); err != nil {
			return err
		}
	}
	if row.State != store.DeliveryPending {
		return nil
	}
	n := consumers.Notification{
		Key: key, ClientID: clientID, Channel: row.Channel, Purpose: vocab.Encouragement, Kind: templates.KindEncouragement,
		NotAfter: at.Add(24 * time.Hour),
	}
	if err := j.cfg.Dispatcher.Notify(ctx, n); err != nil {
		return fmt.Errorf("queueing encouragement %s: %w", key, err)
	}
	return nil
}

// record writes a fire that sends nothing into the ledger.
func (j *Job) record(ctx context.Context, c store.Client, key string, ch vocab.Channel, to string, reason vocab.SkipReason) error {
	_, _, err := j.cfg.Store.CreateDelivery(ctx, store.Delivery{
		ID: store.NewDeliveryID(), IdempotencyKey: key, ClientID: c.ID, Channel: ch, Purpose: vocab.Encouragement,
		Template: templates.KindEncouragement, To: to, State: store.DeliverySkipped, Reason: string(reason),
	})
	if err != nil {
		return fmt.Errorf("recording skipped encouragement %s: %w", key, err)
	}
	return nil
}

func clientLocation(c store.Client) *time.Location {
	if loc, err := time.LoadLocation(c.Timezone); err == nil && c.Timezone != "" {
		return loc
	}
	return time.UTC
}

// HandleOptOut is the Handler of the "encouragement-optouts" consumer: a
// client.opted_out from any path (an SMS STOP, Twilio 21610, a SendGrid
// unsubscribe, the unsubscribe link) re-syncs the client's schedule at
// once, which purges it when no channel with consent is left.
func (j *Job) HandleOptOut(ctx context.Context, msg jetstream.Msg) error {
	ev, err := publishers.ParseEmitted(msg.Data())
	if err != nil {
		return consumers.Permanent(fmt.Errorf("client.opted_out on %s: %w", msg.Subject(), err))
	}
	d, err := publishers.DataAs[publishers.ClientOptedOut](ev)
	if err != nil {
		return consumers.Permanent(err)
	}
	return j.Sync(ctx, d.ClientID)
}

package announcement

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/failpoint"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/publishers"
)

// PlanBatch is how many members are decided and recorded per store write.
const PlanBatch = 1000

// Planner handles announcement.requested: it records the announcement
// once and every member's decision (see the package documentation).
type Planner struct {
	Store    store.Store
	Audience Audience
	Content  Content
	Logger   *slog.Logger
	// Batch is the members decided per store write; 0 means PlanBatch.
	Batch int
}

// Handle is a consumers.Handler for the announce consumer.
func (p *Planner) Handle(ctx context.Context, msg jetstream.Msg) error {
	ev, err := publishers.ParseAccepted(msg.Data()) // accepted at intake: no clock rule on the bus
	if err != nil {
		return consumers.Permanent(fmt.Errorf("invalid event on %s: %w", msg.Subject(), err))
	}
	data, err := ev.DecodeData()
	if err != nil {
		return consumers.Permanent(err)
	}
	d, ok := data.(publishers.AnnouncementRequested)
	if !ok {
		return consumers.Permanent(fmt.Errorf("event %s is %s, not %s", ev.ID, ev.Type, publishers.TypeAnnouncementRequested))
	}
	return p.Plan(ctx, ev.ID, d, func() { _ = msg.InProgress() })
}

// FromEvent is the announcement an announcement.requested event asks for.
func FromEvent(eventID string, d publishers.AnnouncementRequested) store.Announcement {
	return store.Announcement{
		ID: d.AnnouncementID, GroupID: d.GroupID, Template: d.Template, Body: d.Body, Channels: d.Channels,
		Urgent: d.Urgent, UrgentReason: d.UrgentReason, LintOverrideReason: d.LintOverrideReason,
		RequestedBy: d.RequestedBy, EventID: eventID,
	}
}

// Plan records the announcement and its recipients. It is idempotent: an
// announcement already planned or cancelled is left as it is, and a plan
// interrupted by a crash resumes after the last member recorded. progress,
// when set, is called after each batch (to keep a long plan's message
// from being redelivered meanwhile).
func (p *Planner) Plan(ctx context.Context, eventID string, d publishers.AnnouncementRequested, progress func()) error {
	a, created, err := p.Store.CreateAnnouncement(ctx, FromEvent(eventID, d))
	if err != nil {
		return err
	}
	if a.Planned || a.State == store.AnnouncementCancelled {
		p.log().Info("announcement already planned", "announcement_id", a.ID, "state", a.State)
		return nil // a repeated announcement_id sends nothing new
	}
	if created {
		// Came as an event (the HTTP route audits its own requests).
		p.auditChoices(ctx, a)
	}
	if refusal := p.refusal(ctx, a); refusal != "" {
		_, _, err := p.Store.CancelAnnouncement(ctx, a.ID, "system", refusal)
		p.log().Warn("announcement refused", "announcement_id", a.ID, "reason", refusal)
		return err
	}
	after, err := p.Store.LastRecipient(ctx, a.ID)
	if err != nil {
		return err
	}
	batch := p.Batch
	if batch <= 0 {
		batch = PlanBatch
	}
	for {
		ids, err := p.Store.GroupMembersAfter(ctx, a.GroupID, after, batch)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		reach, err := p.Audience.Reach(ctx, ids, a.Channels)
		if err != nil {
			return err
		}
		rs := make([]store.Recipient, len(reach))
		for i, r := range reach {
			rs[i] = store.Recipient{AnnouncementID: a.ID, ClientID: r.ClientID, State: store.RecipientSkipped, Reason: r.Reason}
			if r.Reachable {
				rs[i] = store.Recipient{AnnouncementID: a.ID, ClientID: r.ClientID, Channel: r.Channel,
					Key: Key(a.ID, r.ClientID, r.Channel), State: store.RecipientReady}
			}
		}
		if err := p.Store.AddRecipients(ctx, rs); err != nil {
			return err
		}
		failpoint.Hit("announce.after_plan_batch")
		after = ids[len(ids)-1]
		if progress != nil {
			progress()
		}
	}
	a, err = p.Store.FinishPlanning(ctx, a.ID)
	if err != nil {
		return err
	}
	p.log().Info("announcement planned", "announcement_id", a.ID, "group_id", a.GroupID, "members", a.Total)
	return nil
}

// refusal says why a can never be sent, or "".
func (p *Planner) refusal(ctx context.Context, a store.Announcement) string {
	if _, err := p.Store.GetGroup(ctx, a.GroupID); errors.Is(err, store.ErrNotFound) {
		return "unknown_group"
	}
	if err := p.Content.Refusal(Message{Template: a.Template, Body: a.Body, Channels: a.Channels}, a.LintOverrideReason); err != nil {
		if errors.Is(err, ErrLint) {
			return "lint"
		}
		return "unknown_template"
	}
	return ""
}

// auditChoices records the decisions a person answers for: sending at
// night (urgent) and past the lint.
func (p *Planner) auditChoices(ctx context.Context, a store.Announcement) {
	for _, e := range AuditEntries(a) {
		if err := p.Store.AppendAudit(ctx, e); err != nil {
			p.log().Warn("writing audit log", "action", e.Action, "err", err)
		}
	}
}

// AuditEntries are the audit rows an announcement's choices need: urgent
// with its reason, a lint override with its reason.
func AuditEntries(a store.Announcement) []store.AuditEntry {
	var out []store.AuditEntry
	if a.Urgent {
		out = append(out, store.AuditEntry{Actor: a.RequestedBy, Action: "announcement.urgent", Target: a.ID, Detail: a.UrgentReason})
	}
	if a.LintOverrideReason != "" {
		out = append(out, store.AuditEntry{Actor: a.RequestedBy, Action: "announcement.lint_override", Target: a.ID, Detail: a.LintOverrideReason})
	}
	return out
}

func (p *Planner) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

const announcementColumns = `id, group_id, template, body, channels, urgent, urgent_reason, lint_override_reason,
	requested_by, event_id, state, reason, cancelled_by, total, planned, created_at, updated_at`

func scanAnnouncement(row scanner) (store.Announcement, error) {
	var a store.Announcement
	var channels, state string
	err := row.Scan(&a.ID, &a.GroupID, &a.Template, &a.Body, &channels, &a.Urgent, &a.UrgentReason, &a.LintOverrideReason,
		&a.RequestedBy, &a.EventID, &state, &a.Reason, &a.CancelledBy, &a.Total, &a.Planned,
		scanTime(&a.CreatedAt), scanTime(&a.UpdatedAt))
	if channels != "" {
		for _, ch := range strings.Split(channels, ",") {
			a.Channels = append(a.Channels, vocab.Channel(ch))
		}
	}
	a.State = store.AnnouncementState(state)
	return a, err
}

// CreateAnnouncement inserts a queued announcement unless its id exists:
// the announcement id is the idempotency key of the whole fan-out.
func (s *Store) CreateAnnouncement(ctx context.Context, a store.Announcement) (store.Announcement, bool, error) {
	if err := required("announcement id", a.ID, "group id", a.GroupID); err != nil {
		return store.Announcement{}, false, err
	}
	if (a.Template == "") == (a.Body == "") {
		return store.Announcement{}, false, invalid("announcement %s needs exactly one of template and body", a.ID)
	}
	for _, ch := range a.Channels {
		if err := validChannel(ch); err != nil {
			return store.Announcement{}, false, err
		}
	}
	channels := make([]string, len(a.Channels))
	for i, ch := range a.Channels {
		channels[i] = string(ch)
	}
	now := s.bindTime(s.nowUTC())
	res, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO announcements (id, group_id, template, body, channels, urgent, urgent_reason, lint_override_reason,
			requested_by, event_id, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`),
		a.ID, a.GroupID, a.Template, a.Body, strings.Join(channels, ","), a.Urgent, a.UrgentReason, a.LintOverrideReason,
		a.RequestedBy, a.EventID, string(store.AnnouncementQueued), now, now)
	if err != nil {
		return store.Announcement{}, false, fmt.Errorf("creating announcement %s: %w", a.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return store.Announcement{}, false, fmt.Errorf("creating announcement %s: %w", a.ID, err)
	}
	got, err := s.GetAnnouncement(ctx, a.ID)
	return got, n == 1, err
}

// GetAnnouncement returns ErrNotFound for unknown ids.
func (s *Store) GetAnnouncement(ctx context.Context, id string) (store.Announcement, error) {
	a, err := scanAnnouncement(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+announcementColumns+` FROM announcements WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Announcement{}, fmt.Errorf("getting announcement %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Announcement{}, fmt.Errorf("getting announcement %q: %w", id, err)
	}
	return a, nil
}

func (s *Store) queryAnnouncements(ctx context.Context, db querier, where string, args ...any) ([]store.Announcement, error) {
	rows, err := db.QueryContext(ctx, s.rebind(`SELECT `+announcementColumns+` FROM announcements `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Announcement
	for rows.Next() {
		a, err := scanAnnouncement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ListAnnouncements returns matching announcements, newest first.
func (s *Store) ListAnnouncements(ctx context.Context, f store.AnnouncementFilter) ([]store.Announcement, error) {
	var conds []string
	var args []any
	if f.GroupID != "" {
		conds, args = append(conds, "group_id = ?"), append(args, f.GroupID)
	}
	if f.State != "" {
		conds, args = append(conds, "state = ?"), append(args, string(f.State))
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	out, err := s.queryAnnouncements(ctx, s.read, where+" ORDER BY seq DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing announcements: %w", err)
	}
	return out, nil
}

// ActiveAnnouncements returns the announcements not yet settled, oldest first.
func (s *Store) ActiveAnnouncements(ctx context.Context) ([]store.Announcement, error) {
	out, err := s.queryAnnouncements(ctx, s.db, "WHERE settled = ? ORDER BY seq", false)
	if err != nil {
		return nil, fmt.Errorf("listing active announcements: %w", err)
	}
	return out, nil
}

// AddRecipients inserts decided recipients in one transaction; a client
// already recorded keeps its first row.
func (s *Store) AddRecipients(ctx context.Context, rs []store.Recipient) error {
	if len(rs) == 0 {
		return nil
	}
	const batch = 200 // rows per INSERT: well under both databases' parameter limits
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(rs); start += batch {
			part := rs[start:min(start+batch, len(rs))]
			var q strings.Builder
			q.WriteString(`INSERT INTO announcement_recipients (announcement_id, client_id, channel, msg_key, state, reason) VALUES `)
			args := make([]any, 0, 6*len(part))
			for i, r := range part {
				if r.AnnouncementID == "" || r.ClientID == "" {
					return invalid("recipient needs an announcement id and a client id")
				}
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?)")
				args = append(args, r.AnnouncementID, r.ClientID, string(r.Channel), r.Key, string(r.State), string(r.Reason))
			}
			q.WriteString(` ON CONFLICT (announcement_id, client_id) DO NOTHING`)
			if _, err := tx.ExecContext(ctx, s.rebind(q.String()), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording %d recipients of announcement %s: %w", len(rs), rs[0].AnnouncementID, err)
	}
	return nil
}

// LastRecipient returns the greatest client id recorded for the announcement.
func (s *Store) LastRecipient(ctx context.Context, announcementID string) (string, error) {
	var last sql.NullString
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT max(client_id) FROM announcement_recipients WHERE announcement_id = ?`),
		announcementID).Scan(&last)
	if err != nil {
		return "", fmt.Errorf("reading last recipient of announcement %s: %w", announcementID, err)
	}
	return last.String, nil
}

// FinishPlanning marks the announcement's recipients decided.
func (s *Store) FinishPlanning(ctx context.Context, id string) (store.Announcement, error) {
	_, err := s.db.ExecContext(ctx, s.rebind(`
		UPDATE announcements SET
			planned = ?,
			total = (SELECT count(*) FROM announcement_recipients WHERE announcement_id = ?),
			state = CASE WHEN state = ? THEN ? ELSE state END,
			updated_at = ?
		WHERE id = ?`),
		true, id, string(store.AnnouncementQueued), string(store.AnnouncementSending), s.bindTime(s.nowUTC()), id)
	if err != nil {
		return store.Announcement{}, fmt.Errorf("finishing the plan of announcement %s: %w", id, err)
	}
	return s.GetAnnouncement(ctx, id)
}

func (s *Store) scanRecipients(rows *sql.Rows, withLedger bool) ([]store.Recipient, error) {
	defer rows.Close()
	var out []store.Recipient
	for rows.Next() {
		var r store.Recipient
		var state string
		dest := []any{&r.AnnouncementID, &r.ClientID, &r.Channel, &r.Key, &state, &r.Reason}
		var ls, lr sql.NullString
		if withLedger {
			dest = append(dest, &ls, &lr)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r.State, r.LedgerState, r.LedgerReason = store.RecipientState(state), store.DeliveryState(ls.String), lr.String
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReadyRecipients returns recipients waiting to be queued, by client id.
func (s *Store) ReadyRecipients(ctx context.Context, id string, limit int) ([]store.Recipient, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`
		SELECT announcement_id, client_id, channel, msg_key, state, reason FROM announcement_recipients
		WHERE announcement_id = ? AND state = ? ORDER BY client_id LIMIT ?`), id, string(store.RecipientReady), limit)
	if err != nil {
		return nil, fmt.Errorf("reading ready recipients of announcement %s: %w", id, err)
	}
	out, err := s.scanRecipients(rows, false)
	if err != nil {
		return nil, fmt.Errorf("reading ready recipients of announcement %s: %w", id, err)
	}
	return out, nil
}

// PendingRecipients returns queued or deferred recipients with the state of
// their ledger row.
func (s *Store) PendingRecipients(ctx context.Context, id string, state store.RecipientState, limit int) ([]store.Recipient, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`
		SELECT r.announcement_id, r.client_id, r.channel, r.msg_key, r.state, r.reason, d.state, d.reason
		FROM announcement_recipients r LEFT JOIN deliveries d ON d.idempotency_key = r.msg_key
		WHERE r.announcement_id = ? AND r.state = ? ORDER BY r.client_id LIMIT ?`), id, string(state), limit)
	if err != nil {
		return nil, fmt.Errorf("reading %s recipients of announcement %s: %w", state, id, err)
	}
	out, err := s.scanRecipients(rows, true)
	if err != nil {
		return nil, fmt.Errorf("reading %s recipients of announcement %s: %w", state, id, err)
	}
	return out, nil
}

// SetRecipientState moves recipients to state.
func (s *Store) SetRecipientState(ctx context.Context, id string, clientIDs []string, state store.RecipientState) error {
	const batch = 500
	for start := 0; start < len(clientIDs); start += batch {
		part := clientIDs[start:min(start+batch, len(clientIDs))]
		_, err := s.db.ExecContext(ctx, s.rebind(`
			UPDATE announcement_recipients SET state = ?
			WHERE announcement_id = ? AND client_id IN (`+placeholders(len(part))+`)`),
			append([]any{string(state), id}, anySlice(part)...)...)
		if err != nil {
			return fmt.Errorf("moving %d recipients of announcement %s to %s: %w", len(part), id, state, err)
		}
	}
	return nil
}

// CancelAnnouncement stops an announcement in one transaction.
func (s *Store) CancelAnnouncement(ctx context.Context, id, by, reason string) (store.Announcement, bool, error) {
	var changed bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.bindTime(s.nowUTC())
		res, err := tx.ExecContext(ctx, s.rebind(`
			UPDATE announcements SET state = ?, reason = ?, cancelled_by = ?, updated_at = ?
			WHERE id = ? AND state IN (?, ?)`),
			string(store.AnnouncementCancelled), reason, by, now, id,
			string(store.AnnouncementQueued), string(store.AnnouncementSending))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		changed = true
		if _, err := tx.ExecContext(ctx, s.rebind(`
			UPDATE announcement_recipients SET state = ? WHERE announcement_id = ? AND state = ?`),
			string(store.RecipientCancelled), id, string(store.RecipientReady)); err != nil {
			return err
		}
		// Deferred notifications wait in the ledger as pending: settle
		// them now, so the schedule that fires later finds them final.
		_, err = tx.ExecContext(ctx, s.rebind(`
			UPDATE deliveries SET state = ?, reason = ?, updated_at = ?
			WHERE state = ? AND idempotency_key IN (
				SELECT msg_key FROM announcement_recipients
				WHERE announcement_id = ? AND state IN (?, ?))`),
			string(store.DeliverySkipped), string(vocab.SkipAnnouncementCancelled), now, string(store.DeliveryPending),
			id, string(store.RecipientQueued), string(store.RecipientDeferred))
		return err
	})
	if err != nil {
		return store.Announcement{}, false, fmt.Errorf("cancelling announcement %s: %w", id, err)
	}
	a, err := s.GetAnnouncement(ctx, id)
	return a, changed, err
}

// CompleteAnnouncement settles an announcement whose recipients are all final.
func (s *Store) CompleteAnnouncement(ctx context.Context, id string) (store.Announcement, error) {
	_, err := s.db.ExecContext(ctx, s.rebind(`
		UPDATE announcements SET
			settled = ?,
			state = CASE WHEN state = ? THEN ? ELSE state END,
			lease_owner = '',
			updated_at = ?
		WHERE id = ?`),
		true, string(store.AnnouncementSending), string(store.AnnouncementDone), s.bindTime(s.nowUTC()), id)
	if err != nil {
		return store.Announcement{}, fmt.Errorf("completing announcement %s: %w", id, err)
	}
	return s.GetAnnouncement(ctx, id)
}

// LeaseAnnouncement takes or renews the right to feed an announcement.
func (s *Store) LeaseAnnouncement(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`
		UPDATE announcements SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_owner = ? OR lease_owner = '' OR lease_until < ?)`),
		owner, s.bindTime(until), id, owner, s.bindTime(now))
	if err != nil {
		return false, fmt.Errorf("leasing announcement %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("leasing announcement %s: %w", id, err)
	}
	return n == 1, nil
}

// TallyAnnouncement counts recipients by outcome: the recipients table for
// what never reached the ledger, the ledger for the rest.
func (s *Store) TallyAnnouncement(ctx context.Context, id string) (store.AnnouncementTally, error) {
	t := store.AnnouncementTally{SkippedBy: map[vocab.SkipReason]int{}, ByChannel: map[vocab.Channel]int{}}
	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT r.state, r.reason, r.channel, d.state, d.reason, count(*)
		FROM announcement_recipients r LEFT JOIN deliveries d ON d.idempotency_key = r.msg_key AND r.msg_key <> ''
		WHERE r.announcement_id = ?
		GROUP BY r.state, r.reason, r.channel, d.state, d.reason`), id)
	if err != nil {
		return t, fmt.Errorf("counting recipients of announcement %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var rstate string
		var rreason vocab.SkipReason
		var channel vocab.Channel
		var dstate, dreason sql.NullString
		var n int
		if err := rows.Scan(&rstate, &rreason, &channel, &dstate, &dreason, &n); err != nil {
			return t, fmt.Errorf("counting recipients of announcement %s: %w", id, err)
		}
		t.Total += n
		switch store.RecipientState(rstate) {
		case store.RecipientSkipped:
			t.Skipped += n
			t.SkippedBy[rreason] += n
			continue
		case store.RecipientCancelled:
			t.Cancelled += n
			continue
		case store.RecipientReady:
			t.Queued += n
			continue
		}
		t.ByChannel[channel] += n
		switch store.DeliveryState(dstate.String) {
		case store.DeliverySent, store.DeliveryDelivered:
			t.Sent += n
		case store.DeliveryFailed, store.DeliveryUndelivered:
			t.Failed += n
		case store.DeliverySkipped:
			if vocab.SkipReason(dreason.String) == vocab.SkipAnnouncementCancelled {
				t.Cancelled += n
			} else {
				t.Skipped += n
				t.SkippedBy[vocab.SkipReason(dreason.String)] += n
			}
		case store.DeliveryPending:
			t.Deferred += n
		default: // no ledger row yet, or sending
			t.Queued += n
		}
	}
	if err := rows.Err(); err != nil {
		return t, fmt.Errorf("counting recipients of announcement %s: %w", id, err)
	}
	return t, nil
}

package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// AppendConsent appends one ledger entry; nothing in nudge updates or
// deletes ledger rows, and the database refuses to (triggers).
//
// The entry's EventID defaults to ev.ID. It is unique per channel and
// purpose rather than globally, because one inbound STOP (one message id)
// revokes every purpose on its channel. A replayed EventID is
// ReasonDuplicate even when ev.ID is empty (the delivery engine records
// inbound replies that way). Entries with neither id are always appended.
//
// Applied reports whether the entry became the current state of its client,
// channel and purpose; an entry older than the current one is still
// appended, for the record, and reported as ReasonStale.
func (s *Store) AppendConsent(ctx context.Context, ev store.EventRef, e store.ConsentEntry) (store.Result, error) {
	if err := validConsent(e); err != nil {
		return store.Result{}, err
	}
	if e.EventID == "" {
		e.EventID = ev.ID
	}
	var (
		res store.Result
		err error
	)
	if ev.ID == "" {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			res, err = s.appendConsent(ctx, tx, e, s.eventTime(ev))
			return err
		})
	} else {
		res, err = s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
			return s.appendConsent(ctx, tx, e, at)
		})
	}
	if err != nil {
		return store.Result{}, fmt.Errorf("appending consent %s %s/%s for %s: %w", e.Action, e.Channel, e.Purpose, e.ClientID, err)
	}
	return res, nil
}

func validConsent(e store.ConsentEntry) error {
	if err := required("client id", e.ClientID); err != nil {
		return err
	}
	if err := validChannel(e.Channel); err != nil {
		return err
	}
	if err := validPurpose(e.Purpose); err != nil {
		return err
	}
	if e.Action != store.ConsentGranted && e.Action != store.ConsentRevoked {
		return invalid("unknown consent action %q", e.Action)
	}
	return nil
}

// appendConsent inserts the entry and reports whether it is now current.
// eventTime stands in for a missing OccurredAt.
func (s *Store) appendConsent(ctx context.Context, tx *sql.Tx, e store.ConsentEntry, eventTime time.Time) (store.Result, error) {
	occurred := eventTime
	if !e.OccurredAt.IsZero() {
		occurred = normTime(e.OccurredAt)
	}
	var seq int64
	err := tx.QueryRowContext(ctx, s.rebind(`
		INSERT INTO consent_ledger (client_id, channel, purpose, action, source, wording_version, event_id, occurred_at, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (event_id, channel, purpose) DO NOTHING
		RETURNING seq`),
		e.ClientID, e.Channel, e.Purpose, string(e.Action), e.Source, e.WordingVersion,
		sql.NullString{String: e.EventID, Valid: e.EventID != ""}, s.bindTime(occurred), s.bindTime(s.nowUTC())).
		Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Result{Reason: store.ReasonDuplicate}, nil
	}
	if err != nil {
		return store.Result{}, err
	}
	var newest int64
	err = tx.QueryRowContext(ctx, s.rebind(`
		SELECT seq FROM consent_ledger
		WHERE client_id = ? AND channel = ? AND purpose = ?
		ORDER BY occurred_at DESC, seq DESC LIMIT 1`),
		e.ClientID, e.Channel, e.Purpose).Scan(&newest)
	if err != nil {
		return store.Result{}, err
	}
	if newest != seq {
		return store.Result{Reason: store.ReasonStale}, nil
	}
	return store.Result{Applied: true}, nil
}

// ConsentLedger returns the client's entries in the order that decides the
// current state: by OccurredAt, ties by Seq.
func (s *Store) ConsentLedger(ctx context.Context, clientID string) ([]store.ConsentEntry, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT seq, client_id, channel, purpose, action, source, wording_version, event_id, occurred_at, recorded_at
		FROM consent_ledger WHERE client_id = ?
		ORDER BY occurred_at, seq`), clientID)
	if err != nil {
		return nil, fmt.Errorf("reading consent ledger of %s: %w", clientID, err)
	}
	defer rows.Close()
	var out []store.ConsentEntry
	for rows.Next() {
		var (
			e       store.ConsentEntry
			action  string
			eventID sql.NullString
		)
		err := rows.Scan(&e.Seq, &e.ClientID, &e.Channel, &e.Purpose, &action, &e.Source, &e.WordingVersion,
			&eventID, scanTime(&e.OccurredAt), scanTime(&e.RecordedAt))
		if err != nil {
			return nil, fmt.Errorf("reading consent ledger of %s: %w", clientID, err)
		}
		e.Action, e.EventID = store.ConsentAction(action), eventID.String
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading consent ledger of %s: %w", clientID, err)
	}
	return out, nil
}

// Consents folds the ledger into the current state per channel and purpose.
// Ledgers are short (a handful of entries per client), so folding in Go
// keeps the rule in one readable place.
func (s *Store) Consents(ctx context.Context, clientID string) ([]store.ConsentState, error) {
	ledger, err := s.ConsentLedger(ctx, clientID)
	if err != nil {
		return nil, err
	}
	type key struct {
		channel vocab.Channel
		purpose vocab.Purpose
	}
	current := map[key]store.ConsentEntry{}
	for _, e := range ledger { // ordered, so the last one per key wins
		current[key{e.Channel, e.Purpose}] = e
	}
	out := make([]store.ConsentState, 0, len(current))
	for _, e := range current {
		out = append(out, store.ConsentState{
			Channel:        e.Channel,
			Purpose:        e.Purpose,
			Active:         e.Action == store.ConsentGranted,
			Source:         e.Source,
			WordingVersion: e.WordingVersion,
			Since:          e.OccurredAt,
		})
	}
	slices.SortFunc(out, func(a, b store.ConsentState) int {
		return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Purpose, b.Purpose))
	})
	return out, nil
}

// HasConsent reports whether the newest entry for the triple is a grant.
func (s *Store) HasConsent(ctx context.Context, clientID string, channel vocab.Channel, purpose vocab.Purpose) (bool, error) {
	if err := required("client id", clientID, "channel", string(channel), "purpose", string(purpose)); err != nil {
		return false, err
	}
	var action string
	err := s.read.QueryRowContext(ctx, s.rebind(`
		SELECT action FROM consent_ledger
		WHERE client_id = ? AND channel = ? AND purpose = ?
		ORDER BY occurred_at DESC, seq DESC LIMIT 1`),
		clientID, channel, purpose).Scan(&action)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking %s/%s consent of %s: %w", channel, purpose, clientID, err)
	}
	return store.ConsentAction(action) == store.ConsentGranted, nil
}

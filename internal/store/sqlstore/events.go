package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

// eventChange is an event's effect, run inside the transaction that records
// the event. at is the event's normalised time.
type eventChange func(tx *sql.Tx, at time.Time) (store.Result, error)

// applyEvent records ev and runs change in one transaction. The events
// primary key (source, id) is the idempotency check: when the pair exists
// the event is a replay and change does not run; the same id from another
// source is another event. Declined events (stale, unknown, ...) are
// recorded with their reason so that "why was nothing sent?" has an answer.
func (s *Store) applyEvent(ctx context.Context, ev store.EventRef, change eventChange) (store.Result, error) {
	if ev.ID == "" {
		return store.Result{}, fmt.Errorf("%w: event id is empty", store.ErrInvalid)
	}
	at := s.eventTime(ev)
	var res store.Result
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		inserted, err := tx.ExecContext(ctx, s.rebind(`
			INSERT INTO events (id, type, source, event_time, applied, reason, applied_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source, id) DO NOTHING`),
			ev.ID, ev.Type, ev.Source, s.bindTime(at), false, "", s.bindTime(s.nowUTC()))
		if err != nil {
			return fmt.Errorf("recording event %s: %w", ev.ID, err)
		}
		if n, err := inserted.RowsAffected(); err != nil {
			return fmt.Errorf("recording event %s: %w", ev.ID, err)
		} else if n == 0 {
			res = store.Result{Reason: store.ReasonDuplicate}
			return nil
		}
		if res, err = change(tx, at); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.rebind(`UPDATE events SET applied = ?, reason = ? WHERE source = ? AND id = ?`),
			res.Applied, res.Reason, ev.Source, ev.ID)
		if err != nil {
			return fmt.Errorf("recording outcome of event %s: %w", ev.ID, err)
		}
		return nil
	})
	return res, err
}

// RecordEvent records an event that changes nothing in the store (another
// consumer acts on it, or it was declined before reaching the store) so
// that GetEvent can still say what became of it.
func (s *Store) RecordEvent(ctx context.Context, ev store.EventRef, reason string) (store.Result, error) {
	if err := required("reason", reason); err != nil {
		return store.Result{}, err
	}
	res, err := s.applyEvent(ctx, ev, func(*sql.Tx, time.Time) (store.Result, error) {
		return store.Result{Reason: reason}, nil
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("recording event %s: %w", ev.ID, err)
	}
	return res, nil
}

// eventTime orders events for the same entity. CloudEvents makes time
// optional; an event without one is ordered by when the store received it.
func (s *Store) eventTime(ev store.EventRef) time.Time {
	if ev.Time.IsZero() {
		return s.nowUTC()
	}
	return normTime(ev.Time)
}

// GetEvent returns the record of an applied or declined event; when
// several sources used the id it is ErrConflict (see EventsByID).
func (s *Store) GetEvent(ctx context.Context, id string) (store.EventRecord, error) {
	recs, err := s.EventsByID(ctx, id)
	switch {
	case err != nil:
		return store.EventRecord{}, err
	case len(recs) == 0:
		return store.EventRecord{}, fmt.Errorf("getting event %q: %w", id, store.ErrNotFound)
	case len(recs) > 1:
		return store.EventRecord{}, fmt.Errorf("getting event %q: %d sources sent this id: %w", id, len(recs), store.ErrConflict)
	}
	return recs[0], nil
}

// EventsByID returns every source's record of the id, sorted by source.
func (s *Store) EventsByID(ctx context.Context, id string) ([]store.EventRecord, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT id, type, source, event_time, applied, reason, applied_at
		FROM events WHERE id = ? ORDER BY source`), id)
	if err != nil {
		return nil, fmt.Errorf("getting event %q: %w", id, err)
	}
	defer rows.Close()
	out := []store.EventRecord{}
	for rows.Next() {
		var r store.EventRecord
		if err := rows.Scan(&r.ID, &r.Type, &r.Source, scanTime(&r.Time), &r.Applied, &r.Reason, scanTime(&r.AppliedAt)); err != nil {
			return nil, fmt.Errorf("getting event %q: %w", id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("getting event %q: %w", id, err)
	}
	return out, nil
}

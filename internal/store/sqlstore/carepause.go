package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

const carePauseColumns = `client_id, scope, until, requested_by, since, active, resumed_by, updated_at`

// ApplyCarePause starts or replaces the client's pause unless a newer
// event already changed it.
func (s *Store) ApplyCarePause(ctx context.Context, ev store.EventRef, p store.CarePause) (store.Result, error) {
	if err := required("client id", p.ClientID, "requested by", p.RequestedBy); err != nil {
		return store.Result{}, err
	}
	if p.Scope == "" {
		p.Scope = store.CareScopeNonEssential
	}
	if p.Scope != store.CareScopeNonEssential && p.Scope != store.CareScopeAll {
		return store.Result{}, invalid("unknown care pause scope %q", p.Scope)
	}
	res, err := s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
		upserted, err := tx.ExecContext(ctx, s.rebind(`
			INSERT INTO care_pauses (`+carePauseColumns+`, created_at)
			VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)
			ON CONFLICT (client_id) DO UPDATE SET
				scope = excluded.scope, until = excluded.until, requested_by = excluded.requested_by,
				since = excluded.since, active = excluded.active, resumed_by = '', updated_at = excluded.updated_at
			WHERE care_pauses.updated_at < excluded.updated_at`),
			p.ClientID, p.Scope, s.bindOptionalTime(p.Until), p.RequestedBy, s.bindTime(at), true,
			s.bindTime(at), s.bindTime(s.nowUTC()))
		if err != nil {
			return store.Result{}, err
		}
		if n, err := upserted.RowsAffected(); err != nil {
			return store.Result{}, err
		} else if n == 0 {
			return store.Result{Reason: store.ReasonStale}, nil
		}
		return store.Result{Applied: true}, nil
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("applying care pause %s of %s: %w", ev.ID, p.ClientID, err)
	}
	return res, nil
}

// ApplyCareResume ends the client's pause unless a newer event already
// changed it.
func (s *Store) ApplyCareResume(ctx context.Context, ev store.EventRef, clientID, requestedBy string) (store.Result, error) {
	if err := required("client id", clientID, "requested by", requestedBy); err != nil {
		return store.Result{}, err
	}
	res, err := s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
		var updated time.Time
		var active bool
		err := tx.QueryRowContext(ctx, s.rebind(`SELECT updated_at, active FROM care_pauses WHERE client_id = ?`+s.dialect.ForUpdate), clientID).
			Scan(scanTime(&updated), &active)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return store.Result{Reason: store.ReasonNoChange}, nil
		case err != nil:
			return store.Result{}, err
		case !at.After(updated):
			return store.Result{Reason: store.ReasonStale}, nil
		case !active:
			return store.Result{Reason: store.ReasonNoChange}, nil
		}
		_, err = tx.ExecContext(ctx, s.rebind(`
			UPDATE care_pauses SET active = ?, resumed_by = ?, updated_at = ? WHERE client_id = ?`),
			false, requestedBy, s.bindTime(at), clientID)
		return store.Result{Applied: true}, err
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("applying care resume %s of %s: %w", ev.ID, clientID, err)
	}
	return res, nil
}

// GetCarePause returns the client's latest pause.
func (s *Store) GetCarePause(ctx context.Context, clientID string) (store.CarePause, error) {
	if snap := s.fromSnapshot(ctx, s.read, clientID); snap != nil {
		if !snap.Paused {
			return store.CarePause{}, fmt.Errorf("getting care pause of %q: %w", clientID, store.ErrNotFound)
		}
		return snap.Pause, nil
	}
	var p store.CarePause
	err := s.read.QueryRowContext(ctx, s.rebind(`SELECT `+carePauseColumns+` FROM care_pauses WHERE client_id = ?`), clientID).
		Scan(&p.ClientID, &p.Scope, scanTime(&p.Until), &p.RequestedBy, scanTime(&p.Since), &p.Active, &p.ResumedBy, scanTime(&p.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return store.CarePause{}, fmt.Errorf("getting care pause of %q: %w", clientID, store.ErrNotFound)
	}
	if err != nil {
		return store.CarePause{}, fmt.Errorf("getting care pause of %q: %w", clientID, err)
	}
	return p, nil
}

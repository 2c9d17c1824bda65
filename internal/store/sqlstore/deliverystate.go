package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/nudgehq/nudge/internal/store"
)

// UpdateDelivery moves a delivery forward inside one transaction that locks
// the row, so a provider callback racing the sender cannot move it back
// (a late "sent" after "delivered" is ignored). See [advance] for the rules.
func (s *Store) UpdateDelivery(ctx context.Context, id string, u store.DeliveryUpdate) (store.Delivery, error) {
	if err := required("delivery id", id); err != nil {
		return store.Delivery{}, err
	}
	if u.State != "" && store.DeliveryStateRank(u.State) < 0 {
		return store.Delivery{}, invalid("unknown delivery state %q", u.State)
	}
	if u.State != "" {
		if got, ok, err := s.moveForward(ctx, id, u); err != nil || ok {
			return got, err
		}
	}
	var out store.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.deliveryBy(ctx, tx, "id", id, s.dialect.ForUpdate)
		if err != nil {
			return err
		}
		next, changed := advance(cur, u)
		if !changed {
			out = cur
			return nil
		}
		next.UpdatedAt = s.nowUTC()
		_, err = tx.ExecContext(ctx, s.rebind(`
			UPDATE deliveries SET state = ?, reason = ?, provider_id = ?, attempts = ?, updated_at = ?
			WHERE id = ?`),
			string(next.State), next.Reason, next.ProviderID, next.Attempts, s.bindTime(next.UpdatedAt), id)
		if err != nil {
			return fmt.Errorf("writing delivery %s: %w", id, err)
		}
		out = next
		return nil
	})
	if err != nil {
		return store.Delivery{}, fmt.Errorf("updating delivery %s to %q: %w", id, u.State, err)
	}
	return out, nil
}

// advance applies u to cur and reports whether anything changed.
//
//   - A higher-ranked state moves the delivery and overwrites Reason and
//     ProviderID with the update's non-empty values.
//   - The same state (or no state) only fills Reason and ProviderID that
//     are still empty: a repeated "sent" callback may carry the provider id
//     the crashed sender never stored, but must not rewrite history.
//   - A lower-ranked state, or a different state of the same rank (one
//     terminal state after another), changes nothing at all.
//
// Attempt increments Attempts whenever the update is not refused.
func advance(cur store.Delivery, u store.DeliveryUpdate) (store.Delivery, bool) {
	next := cur
	switch {
	case u.State == "" || u.State == cur.State:
		if next.Reason == "" {
			next.Reason = u.Reason
		}
		if next.ProviderID == "" {
			next.ProviderID = u.ProviderID
		}
	case store.DeliveryStateRank(u.State) > store.DeliveryStateRank(cur.State):
		next.State = u.State
		if u.Reason != "" {
			next.Reason = u.Reason
		}
		if u.ProviderID != "" {
			next.ProviderID = u.ProviderID
		}
	default:
		return cur, false
	}
	if u.Attempt {
		next.Attempts++
	}
	return next, next != cur
}

// ClaimDelivery is the compare-and-set that lets exactly one worker call
// the provider for an attempt: it moves a pending or sending delivery to
// sending with Attempts+1, but only while Attempts still equals attempts
// (what the caller read). A caller that loses the race gets claimed=false
// and the row as it now is.
func (s *Store) ClaimDelivery(ctx context.Context, id string, attempts int) (store.Delivery, bool, error) {
	if err := required("delivery id", id); err != nil {
		return store.Delivery{}, false, err
	}
	got, err := scanDelivery(s.db.QueryRowContext(ctx, s.rebind(`
		UPDATE deliveries SET state = ?, attempts = attempts + 1, updated_at = ?
		WHERE id = ? AND attempts = ? AND state IN (?, ?)
		RETURNING `+deliveryColumns),
		string(store.DeliverySending), s.bindTime(s.nowUTC()), id, attempts,
		string(store.DeliveryPending), string(store.DeliverySending)))
	switch {
	case err == nil:
		return got, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return store.Delivery{}, false, fmt.Errorf("claiming delivery %s: %w", id, err)
	}
	cur, err := s.deliveryBy(ctx, s.db, "id", id, "")
	if err != nil {
		return store.Delivery{}, false, err
	}
	return cur, false, nil
}

// moveForward is UpdateDelivery's one-statement fast path for the common
// case, a move to a higher-ranked state (sending → sent, sent →
// delivered): the WHERE clause is the state machine's guard. ok is false
// when the row was not in a lower-ranked state; the caller then takes the
// locking path, which handles every other case.
func (s *Store) moveForward(ctx context.Context, id string, u store.DeliveryUpdate) (store.Delivery, bool, error) {
	if len(lowerStates(u.State)) == 0 {
		return store.Delivery{}, false, nil
	}
	it := &moveItem{id: id, u: u}
	if err := s.moves.do(ctx, it); err != nil {
		return store.Delivery{}, false, fmt.Errorf("updating delivery %s to %q: %w", id, u.State, err)
	}
	return it.out, it.ok, it.err
}

// lowerStates are the states a move to state may start from.
func lowerStates(state store.DeliveryState) []any {
	rank := store.DeliveryStateRank(state)
	var lower []any
	for _, st := range []store.DeliveryState{store.DeliveryPending, store.DeliverySending, store.DeliverySent} {
		if store.DeliveryStateRank(st) < rank {
			lower = append(lower, string(st))
		}
	}
	return lower
}

// moveOne is moveForward for one row.
func (s *Store) moveOne(ctx context.Context, id string, u store.DeliveryUpdate) (store.Delivery, bool, error) {
	lower := lowerStates(u.State)
	attempt := 0
	if u.Attempt {
		attempt = 1
	}
	args := []any{string(u.State), u.Reason, u.Reason, u.ProviderID, u.ProviderID, attempt, s.bindTime(s.nowUTC()), id}
	args = append(args, lower...)
	got, err := scanDelivery(s.db.QueryRowContext(ctx, s.rebind(`
		UPDATE deliveries SET state = ?,
			reason = CASE WHEN ? <> '' THEN ? ELSE reason END,
			provider_id = CASE WHEN ? <> '' THEN ? ELSE provider_id END,
			attempts = attempts + ?, updated_at = ?
		WHERE id = ? AND state IN (?`+strings.Repeat(", ?", len(lower)-1)+`)
		RETURNING `+deliveryColumns), args...))
	switch {
	case err == nil:
		return got, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return store.Delivery{}, false, nil
	default:
		return store.Delivery{}, false, fmt.Errorf("updating delivery %s to %q: %w", id, u.State, err)
	}
}

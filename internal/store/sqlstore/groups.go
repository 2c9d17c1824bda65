package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

// ApplyGroupMembership adds or removes a member with one conditional
// upsert, ordered by event time like client upserts: a late "added" does
// not undo a newer "removed".
func (s *Store) ApplyGroupMembership(ctx context.Context, ev store.EventRef, groupID, clientID string, active bool) (store.Result, error) {
	if err := required("group id", groupID, "client id", clientID); err != nil {
		return store.Result{}, err
	}
	res, err := s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
		upserted, err := tx.ExecContext(ctx, s.rebind(`
			INSERT INTO group_memberships (group_id, client_id, active, updated_at)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (group_id, client_id) DO UPDATE SET
				active = excluded.active,
				updated_at = excluded.updated_at
			WHERE group_memberships.updated_at < excluded.updated_at`),
			groupID, clientID, active, s.bindTime(at))
		if err != nil {
			return store.Result{}, err
		}
		n, err := upserted.RowsAffected()
		if err != nil {
			return store.Result{}, err
		}
		if n == 0 {
			return store.Result{Reason: store.ReasonStale}, nil
		}
		return store.Result{Applied: true}, nil
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("applying membership event %s for %s in group %s: %w", ev.ID, clientID, groupID, err)
	}
	return res, nil
}

// GroupMembers returns the active members' client ids, sorted.
func (s *Store) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	return s.memberIDs(ctx, groupID, `
		SELECT client_id FROM group_memberships
		WHERE group_id = ? AND active = ?
		ORDER BY client_id`, groupID, true)
}

// memberIDs runs a query that selects client ids of groupID's members.
func (s *Store) memberIDs(ctx context.Context, groupID, query string, args ...any) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing members of group %s: %w", groupID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("listing members of group %s: %w", groupID, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing members of group %s: %w", groupID, err)
	}
	return out, nil
}

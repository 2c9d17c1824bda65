package sqlstore

import (
	"context"
	"fmt"

	"github.com/nudgehq/nudge/internal/store"
)

// AppendAudit records an API or staff action. A zero At means now.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if err := required("audit action", e.Action); err != nil {
		return err
	}
	at := e.At
	if at.IsZero() {
		at = s.nowUTC()
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)`),
		s.bindTime(at), e.Actor, e.Action, e.Target, e.Detail)
	if err != nil {
		return fmt.Errorf("appending audit entry %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit returns up to limit entries (100 when limit <= 0), newest
// first. "Newest" is the order of recording, which a caller-supplied At
// cannot reorder.
func (s *Store) ListAudit(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT seq, at, actor, action, target, detail FROM audit_log
		ORDER BY seq DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("listing audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		if err := rows.Scan(&e.Seq, scanTime(&e.At), &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("listing audit log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing audit log: %w", err)
	}
	return out, nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/nudgehq/nudge/internal/store"
)

const deliveryColumns = `id, idempotency_key, client_id, channel, purpose, template, to_addr, state, reason,
	provider_id, session_id, session_version, attempts, created_at, updated_at`

// CreateDelivery records a logical notification once. The unique
// idempotency key, not a read-then-write check, decides which of several
// concurrent callers creates the row: the others get the stored row and
// created=false. An empty ID is generated; a caller-chosen ID that belongs
// to another key is store.ErrConflict.
func (s *Store) CreateDelivery(ctx context.Context, d store.Delivery) (store.Delivery, bool, error) {
	if err := validNewDelivery(&d); err != nil {
		return store.Delivery{}, false, err
	}
	if d.ID == "" {
		d.ID = store.NewDeliveryID()
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.nowUTC()
	}
	d.UpdatedAt = d.CreatedAt
	it := &createItem{d: d}
	if err := s.creates.do(ctx, it); err != nil {
		return store.Delivery{}, false, fmt.Errorf("creating delivery %s: %w", d.IdempotencyKey, err)
	}
	return it.out, it.created, it.err
}

// createOne inserts one delivery row. One round trip when the row is new:
// RETURNING hands it back. On a conflict nothing is returned and the
// stored row is read instead.
func (s *Store) createOne(ctx context.Context, d store.Delivery) (store.Delivery, bool, error) {
	created, err := scanDelivery(s.db.QueryRowContext(ctx, s.rebind(`
		INSERT INTO deliveries (`+deliveryColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING `+deliveryColumns),
		d.ID, d.IdempotencyKey, d.ClientID, d.Channel, d.Purpose, d.Template, d.To, string(d.State), d.Reason,
		d.ProviderID, d.SessionID, d.SessionVersion, d.Attempts, s.bindTime(d.CreatedAt), s.bindTime(d.UpdatedAt)))
	switch {
	case err == nil:
		return created, true, nil
	case errors.Is(err, sql.ErrNoRows):
	case s.dialect.IsUniqueViolation(err):
		return store.Delivery{}, false, fmt.Errorf("creating delivery %s: id taken by another idempotency key: %w", d.ID, store.ErrConflict)
	default:
		return store.Delivery{}, false, fmt.Errorf("creating delivery %s: %w", d.IdempotencyKey, err)
	}
	// Read back through the write handle: on conflict the row was
	// committed by another caller, and this is the freshest view of it.
	stored, err := s.deliveryBy(ctx, s.db, "idempotency_key", d.IdempotencyKey, "")
	if err != nil {
		return store.Delivery{}, false, fmt.Errorf("creating delivery %s: %w", d.IdempotencyKey, err)
	}
	return stored, false, nil
}

// validNewDelivery checks d and defaults its state to pending.
func validNewDelivery(d *store.Delivery) error {
	// ClientID may be empty: a reply to a number no client has (STOP or
	// HELP from a stranger) is still a delivery with a ledger row.
	if err := required("idempotency key", d.IdempotencyKey); err != nil {
		return err
	}
	if err := validChannel(d.Channel); err != nil {
		return err
	}
	if d.State == "" {
		d.State = store.DeliveryPending
	}
	if store.DeliveryStateRank(d.State) < 0 {
		return invalid("unknown delivery state %q", d.State)
	}
	if d.Attempts < 0 || d.SessionVersion < 0 {
		return invalid("negative attempts or session version")
	}
	return nil
}

// GetDelivery returns the delivery or an error matching store.ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (store.Delivery, error) {
	return s.deliveryBy(ctx, s.read, "id", id, "")
}

// GetDeliveryByKey looks a delivery up by its idempotency key.
func (s *Store) GetDeliveryByKey(ctx context.Context, key string) (store.Delivery, error) {
	return s.deliveryBy(ctx, s.read, "idempotency_key", key, "")
}

// GetDeliveryByProviderID finds the delivery a provider callback is about.
// Provider ids are not unique in the schema; the newest row wins.
func (s *Store) GetDeliveryByProviderID(ctx context.Context, providerID string) (store.Delivery, error) {
	if providerID == "" {
		return store.Delivery{}, invalid("provider id is empty")
	}
	return s.deliveryBy(ctx, s.read, "provider_id", providerID, "")
}

// deliveryBy reads the newest delivery whose column equals value. column is
// always a constant from this file; suffix is empty or the dialect's
// ForUpdate.
func (s *Store) deliveryBy(ctx context.Context, q querier, column, value, suffix string) (store.Delivery, error) {
	row := q.QueryRowContext(ctx, s.rebind(`SELECT `+deliveryColumns+` FROM deliveries
		WHERE `+column+` = ? ORDER BY created_at DESC, seq DESC LIMIT 1`+suffix), value)
	d, err := scanDelivery(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Delivery{}, fmt.Errorf("getting delivery by %s %q: %w", column, value, store.ErrNotFound)
	}
	if err != nil {
		return store.Delivery{}, fmt.Errorf("getting delivery by %s %q: %w", column, value, err)
	}
	return d, nil
}

// ListDeliveries returns matching rows, newest first.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ column, value string }{
		{"client_id", f.ClientID}, {"session_id", f.SessionID}, {"state", string(f.State)},
	} {
		if c.value != "" {
			where, args = append(where, c.column+" = ?"), append(args, c.value)
		}
	}
	query := `SELECT ` + deliveryColumns + ` FROM deliveries`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	query += ` ORDER BY created_at DESC, seq DESC LIMIT ?`
	args = append(args, limit)

	rows, err := s.read.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing deliveries: %w", err)
	}
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("listing deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing deliveries: %w", err)
	}
	return out, nil
}

func scanDelivery(row scanner) (store.Delivery, error) {
	var (
		d     store.Delivery
		state string
	)
	err := row.Scan(&d.ID, &d.IdempotencyKey, &d.ClientID, &d.Channel, &d.Purpose, &d.Template, &d.To, &state,
		&d.Reason, &d.ProviderID, &d.SessionID, &d.SessionVersion, &d.Attempts, scanTime(&d.CreatedAt), scanTime(&d.UpdatedAt))
	d.State = store.DeliveryState(state)
	return d, err
}

package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/nudgehq/nudge/internal/store"
)

// maxBatchRows bounds one batched statement (15 bind values a row keeps it
// far below both databases' parameter limits).
const maxBatchRows = 64

// createItem is one CreateDelivery call in a batch.
type createItem struct {
	d       store.Delivery
	out     store.Delivery
	created bool
	err     error
}

// flushCreates inserts a batch of new ledger rows with one statement. The
// unique idempotency key still decides each row on its own: a row whose key
// is taken (by a stored row or an earlier row of the same batch) is not
// inserted and is read back, exactly as CreateDelivery does for one row.
// If the statement fails as a whole (an id belonging to another key), each
// row is written on its own so that only the bad one fails.
func (s *Store) flushCreates(ctx context.Context, items []*createItem) {
	if len(items) == 1 {
		it := items[0]
		it.out, it.created, it.err = s.createOne(ctx, it.d)
		return
	}
	var (
		b    strings.Builder
		args = make([]any, 0, 15*len(items))
	)
	b.WriteString(`INSERT INTO deliveries (` + deliveryColumns + `) VALUES `)
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		d := it.d
		args = append(args, d.ID, d.IdempotencyKey, d.ClientID, d.Channel, d.Purpose, d.Template, d.To, string(d.State), d.Reason,
			d.ProviderID, d.SessionID, d.SessionVersion, d.Attempts, s.bindTime(d.CreatedAt), s.bindTime(d.UpdatedAt))
	}
	b.WriteString(` ON CONFLICT (idempotency_key) DO NOTHING RETURNING ` + deliveryColumns)
	inserted, err := s.returningDeliveries(ctx, b.String(), args)
	if err != nil {
		for _, it := range items {
			it.out, it.created, it.err = s.createOne(ctx, it.d)
		}
		return
	}
	for _, it := range items {
		if d, ok := inserted[it.d.ID]; ok && d.IdempotencyKey == it.d.IdempotencyKey {
			it.out, it.created = d, true
			continue
		}
		// The key has a row: read it back through the write handle, the
		// freshest view of a row another caller just committed.
		it.out, it.err = s.deliveryBy(ctx, s.db, "idempotency_key", it.d.IdempotencyKey, "")
		if it.err != nil {
			it.err = fmt.Errorf("creating delivery %s: %w", it.d.IdempotencyKey, it.err)
		}
	}
}

// moveItem is one moveForward call in a batch.
type moveItem struct {
	id  string
	u   store.DeliveryUpdate
	out store.Delivery
	ok  bool
	err error
}

// flushMoves moves a batch of deliveries forward, one statement for the
// rows that go to the same state the same way (in practice: sending →
// sent). The WHERE clause is the same guard as moveOne's, per row; a row it
// refuses comes back with ok=false and its caller takes the locking path.
// A row whose id appears twice in a batch, and every row of a statement
// that fails, is moved on its own.
func (s *Store) flushMoves(ctx context.Context, items []*moveItem) {
	type group struct {
		state   store.DeliveryState
		attempt bool
	}
	groups := map[group][]*moveItem{}
	var alone []*moveItem
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.id] {
			alone = append(alone, it)
			continue
		}
		seen[it.id] = true
		g := group{it.u.State, it.u.Attempt}
		groups[g] = append(groups[g], it)
	}
	for g, its := range groups {
		if len(its) == 1 {
			alone = append(alone, its[0])
			continue
		}
		if err := s.moveMany(ctx, g.state, g.attempt, its); err != nil {
			alone = append(alone, its...)
		}
	}
	for _, it := range alone {
		it.out, it.ok, it.err = s.moveOne(ctx, it.id, it.u)
	}
}

// moveMany is moveOne's statement for several rows: the rows are found
// by primary key (id IN (...)), and each row's new reason and provider id
// are picked by a CASE on its id, so the guard and the state machine are
// moveOne's, per row.
func (s *Store) moveMany(ctx context.Context, state store.DeliveryState, attempt bool, items []*moveItem) error {
	var (
		b    strings.Builder
		args = make([]any, 0, 5*len(items)+8)
	)
	b.WriteString(`UPDATE deliveries SET state = ?`)
	args = append(args, string(state))
	// A column is set only from non-empty values, as moveOne does.
	for _, col := range []struct {
		name string
		val  func(*moveItem) string
	}{
		{"reason", func(it *moveItem) string { return it.u.Reason }},
		{"provider_id", func(it *moveItem) string { return it.u.ProviderID }},
	} {
		n := 0
		for _, it := range items {
			if v := col.val(it); v != "" {
				if n == 0 {
					b.WriteString(", " + col.name + " = CASE id")
				}
				b.WriteString(" WHEN ? THEN ?")
				args = append(args, it.id, v)
				n++
			}
		}
		if n > 0 {
			b.WriteString(" ELSE " + col.name + " END")
		}
	}
	inc := 0
	if attempt {
		inc = 1
	}
	lower := lowerStates(state)
	b.WriteString(`, attempts = attempts + ?, updated_at = ? WHERE id IN (?` + strings.Repeat(", ?", len(items)-1) +
		`) AND state IN (?` + strings.Repeat(", ?", len(lower)-1) + `) RETURNING ` + deliveryColumns)
	args = append(args, inc, s.bindTime(s.nowUTC()))
	for _, it := range items {
		args = append(args, it.id)
	}
	args = append(args, lower...)
	moved, err := s.returningDeliveries(ctx, b.String(), args)
	if err != nil {
		return err
	}
	for _, it := range items {
		it.out, it.ok = moved[it.id]
	}
	return nil
}

// returningDeliveries runs a write whose RETURNING clause lists delivery
// columns and collects the rows by id.
func (s *Store) returningDeliveries(ctx context.Context, query string, args []any) (map[string]store.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]store.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

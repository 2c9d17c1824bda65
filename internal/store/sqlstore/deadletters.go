package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/nudgehq/nudge/internal/store"
)

const deadLetterColumns = `id, stream, stream_seq, consumer, subject, data, deliveries, msg_key, reason, created_at, replayed_at, replayed_by`

func scanDeadLetter(sc scanner) (store.DeadLetter, error) {
	var d store.DeadLetter
	var seq, deliveries int64
	err := sc.Scan(&d.ID, &d.Stream, &seq, &d.Consumer, &d.Subject, &d.Data, &deliveries, &d.Key, &d.Reason,
		scanTime(&d.CreatedAt), scanTime(&d.ReplayedAt), &d.ReplayedBy)
	d.StreamSeq, d.Deliveries = uint64(seq), uint64(deliveries)
	return d, err
}

// AddDeadLetter records a dead letter once per (stream, stream_seq): the
// MAX_DELIVERIES advisory may be seen by several processes.
func (s *Store) AddDeadLetter(ctx context.Context, d store.DeadLetter) (store.DeadLetter, bool, error) {
	if err := required("dead letter stream", d.Stream); err != nil {
		return store.DeadLetter{}, false, err
	}
	if d.Data == nil {
		d.Data = []byte{}
	}
	created := d.CreatedAt
	if created.IsZero() {
		created = s.nowUTC()
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO dead_letters (stream, stream_seq, consumer, subject, data, deliveries, msg_key, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (stream, stream_seq) DO NOTHING`),
		d.Stream, int64(d.StreamSeq), d.Consumer, d.Subject, d.Data, int64(d.Deliveries), d.Key, d.Reason, s.bindTime(created))
	if err != nil {
		return store.DeadLetter{}, false, fmt.Errorf("recording dead letter %s/%d: %w", d.Stream, d.StreamSeq, err)
	}
	n, _ := res.RowsAffected()
	got, err := scanDeadLetter(s.db.QueryRowContext(ctx, s.rebind(
		`SELECT `+deadLetterColumns+` FROM dead_letters WHERE stream = ? AND stream_seq = ?`), d.Stream, int64(d.StreamSeq)))
	if err != nil {
		return store.DeadLetter{}, false, fmt.Errorf("reading dead letter %s/%d: %w", d.Stream, d.StreamSeq, err)
	}
	return got, n == 1, nil
}

// ListDeadLetters returns up to limit (100 when <= 0) dead letters, newest first.
func (s *Store) ListDeadLetters(ctx context.Context, onlyPending bool, limit int) ([]store.DeadLetter, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + deadLetterColumns + ` FROM dead_letters`
	if onlyPending {
		q += ` WHERE replayed_at IS NULL`
	}
	rows, err := s.read.QueryContext(ctx, s.rebind(q+` ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("listing dead letters: %w", err)
	}
	defer rows.Close()
	var out []store.DeadLetter
	for rows.Next() {
		d, err := scanDeadLetter(rows)
		if err != nil {
			return nil, fmt.Errorf("listing dead letters: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// GetDeadLetter returns ErrNotFound for unknown ids.
func (s *Store) GetDeadLetter(ctx context.Context, id int64) (store.DeadLetter, error) {
	d, err := scanDeadLetter(s.read.QueryRowContext(ctx, s.rebind(`SELECT `+deadLetterColumns+` FROM dead_letters WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.DeadLetter{}, fmt.Errorf("dead letter %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.DeadLetter{}, fmt.Errorf("reading dead letter %d: %w", id, err)
	}
	return d, nil
}

// MarkDeadLetterReplayed stamps a replay once; a second replay is
// ErrConflict, so two staff clicking at once replay it once.
func (s *Store) MarkDeadLetterReplayed(ctx context.Context, id int64, by string) (store.DeadLetter, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`
		UPDATE dead_letters SET replayed_at = ?, replayed_by = ? WHERE id = ? AND replayed_at IS NULL`),
		s.bindTime(s.nowUTC()), by, id)
	if err != nil {
		return store.DeadLetter{}, fmt.Errorf("marking dead letter %d replayed: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.GetDeadLetter(ctx, id); err != nil {
			return store.DeadLetter{}, err
		}
		return store.DeadLetter{}, fmt.Errorf("dead letter %d was already replayed: %w", id, store.ErrConflict)
	}
	return s.getDeadLetterWrite(ctx, id)
}

// getDeadLetterWrite reads through the write connection so the caller sees
// its own update (the read pool may lag on SQLite).
func (s *Store) getDeadLetterWrite(ctx context.Context, id int64) (store.DeadLetter, error) {
	d, err := scanDeadLetter(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+deadLetterColumns+` FROM dead_letters WHERE id = ?`), id))
	if err != nil {
		return store.DeadLetter{}, fmt.Errorf("reading dead letter %d: %w", id, err)
	}
	return d, nil
}

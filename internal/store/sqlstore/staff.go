package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

// loginRunMemory is how long a run of failed logins is remembered after
// its last failure (once any lock has passed).
const loginRunMemory = 24 * time.Hour

const staffColumns = `email, role, password_hash, disabled_at, created_at, updated_at`

func scanStaff(sc scanner) (store.StaffAccount, error) {
	var a store.StaffAccount
	err := sc.Scan(&a.Email, &a.Role, &a.PasswordHash, scanTime(&a.DisabledAt), scanTime(&a.CreatedAt), scanTime(&a.UpdatedAt))
	return a, err
}

func staffEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateStaff adds an account; an existing email is ErrConflict.
func (s *Store) CreateStaff(ctx context.Context, a store.StaffAccount) (store.StaffAccount, error) {
	a.Email = staffEmail(a.Email)
	if err := required("staff email", a.Email, "password hash", a.PasswordHash); err != nil {
		return store.StaffAccount{}, err
	}
	if a.Role != "admin" && a.Role != "staff" {
		return store.StaffAccount{}, invalid("staff role %q is not admin or staff", a.Role)
	}
	now := s.nowUTC()
	_, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO staff_accounts (email, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`),
		a.Email, a.Role, a.PasswordHash, s.bindTime(now), s.bindTime(now))
	switch {
	case err != nil && s.dialect.IsUniqueViolation(err):
		return store.StaffAccount{}, fmt.Errorf("staff account %s exists: %w", a.Email, store.ErrConflict)
	case err != nil:
		return store.StaffAccount{}, fmt.Errorf("creating staff account: %w", err)
	}
	return s.getStaff(ctx, s.db, a.Email)
}

// GetStaff returns ErrNotFound for unknown emails.
func (s *Store) GetStaff(ctx context.Context, email string) (store.StaffAccount, error) {
	return s.getStaff(ctx, s.read, staffEmail(email))
}

func (s *Store) getStaff(ctx context.Context, q querier, email string) (store.StaffAccount, error) {
	a, err := scanStaff(q.QueryRowContext(ctx, s.rebind(`SELECT `+staffColumns+` FROM staff_accounts WHERE email = ?`), email))
	if errors.Is(err, sql.ErrNoRows) {
		return store.StaffAccount{}, fmt.Errorf("staff account %s: %w", email, store.ErrNotFound)
	}
	if err != nil {
		return store.StaffAccount{}, fmt.Errorf("reading staff account: %w", err)
	}
	return a, nil
}

// ListStaff returns every account, sorted by email.
func (s *Store) ListStaff(ctx context.Context) ([]store.StaffAccount, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+staffColumns+` FROM staff_accounts ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("listing staff: %w", err)
	}
	defer rows.Close()
	var out []store.StaffAccount
	for rows.Next() {
		a, err := scanStaff(rows)
		if err != nil {
			return nil, fmt.Errorf("listing staff: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DisableStaff disables the account and deletes its sessions together.
func (s *Store) DisableStaff(ctx context.Context, email string) (store.StaffAccount, error) {
	email = staffEmail(email)
	var out store.StaffAccount
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.bindTime(s.nowUTC())
		res, err := tx.ExecContext(ctx, s.rebind(`
			UPDATE staff_accounts SET disabled_at = COALESCE(disabled_at, ?), updated_at = ? WHERE email = ?`), now, now, email)
		if err != nil {
			return fmt.Errorf("disabling staff account: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("staff account %s: %w", email, store.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM staff_sessions WHERE email = ?`), email); err != nil {
			return fmt.Errorf("revoking sessions: %w", err)
		}
		out, err = s.getStaff(ctx, tx, email)
		return err
	})
	return out, err
}

// SetStaffPassword replaces the hash, revokes the account's sessions and
// clears its failed logins, in one transaction.
func (s *Store) SetStaffPassword(ctx context.Context, email, hash string) (store.StaffAccount, error) {
	email = staffEmail(email)
	if err := required("password hash", hash); err != nil {
		return store.StaffAccount{}, err
	}
	var out store.StaffAccount
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind(`UPDATE staff_accounts SET password_hash = ?, updated_at = ? WHERE email = ?`),
			hash, s.bindTime(s.nowUTC()), email)
		if err != nil {
			return fmt.Errorf("setting password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("staff account %s: %w", email, store.ErrNotFound)
		}
		for _, q := range []string{`DELETE FROM staff_sessions WHERE email = ?`, `DELETE FROM staff_login_failures WHERE email = ?`} {
			if _, err := tx.ExecContext(ctx, s.rebind(q), email); err != nil {
				return fmt.Errorf("setting password: %w", err)
			}
		}
		out, err = s.getStaff(ctx, tx, email)
		return err
	})
	return out, err
}

// CreateStaffSession stores a session of an enabled account.
func (s *Store) CreateStaffSession(ctx context.Context, ss store.StaffSession) error {
	ss.Email = staffEmail(ss.Email)
	if err := required("session token hash", ss.TokenHash, "staff email", ss.Email); err != nil {
		return err
	}
	if ss.ExpiresAt.IsZero() {
		return invalid("session expiry is zero")
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM staff_sessions WHERE expires_at <= ?`), s.bindTime(now)); err != nil {
			return fmt.Errorf("deleting expired sessions: %w", err)
		}
		a, err := s.getStaff(ctx, tx, ss.Email)
		if err != nil {
			return err
		}
		if a.Disabled() {
			return invalid("staff account %s is disabled", ss.Email)
		}
		created := ss.CreatedAt
		if created.IsZero() {
			created = now
		}
		_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO staff_sessions (token_hash, email, created_at, expires_at) VALUES (?, ?, ?, ?)`),
			ss.TokenHash, ss.Email, s.bindTime(created), s.bindTime(ss.ExpiresAt))
		if err != nil && s.dialect.IsUniqueViolation(err) {
			return fmt.Errorf("session token hash taken: %w", store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("creating session: %w", err)
		}
		return nil
	})
}

// StaffSession returns a live session and its (enabled) account. It reads
// through the write handle: a session created or revoked a moment ago must
// be seen at once.
func (s *Store) StaffSession(ctx context.Context, tokenHash string, now time.Time) (store.StaffSession, store.StaffAccount, error) {
	var ss store.StaffSession
	var a store.StaffAccount
	err := s.db.QueryRowContext(ctx, s.rebind(`
		SELECT s.token_hash, s.email, s.created_at, s.expires_at,
		       a.email, a.role, a.password_hash, a.disabled_at, a.created_at, a.updated_at
		FROM staff_sessions s JOIN staff_accounts a ON a.email = s.email
		WHERE s.token_hash = ? AND s.expires_at > ? AND a.disabled_at IS NULL`), tokenHash, s.bindTime(now)).
		Scan(&ss.TokenHash, &ss.Email, scanTime(&ss.CreatedAt), scanTime(&ss.ExpiresAt),
			&a.Email, &a.Role, &a.PasswordHash, scanTime(&a.DisabledAt), scanTime(&a.CreatedAt), scanTime(&a.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return store.StaffSession{}, store.StaffAccount{}, fmt.Errorf("staff session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.StaffSession{}, store.StaffAccount{}, fmt.Errorf("reading staff session: %w", err)
	}
	return ss, a, nil
}

// RevokeStaffSession deletes the session.
func (s *Store) RevokeStaffSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM staff_sessions WHERE token_hash = ?`), tokenHash); err != nil {
		return fmt.Errorf("revoking session: %w", err)
	}
	return nil
}

// LoginThrottle returns the email's failed-login run.
func (s *Store) LoginThrottle(ctx context.Context, email string) (store.LoginThrottle, error) {
	return s.loginThrottle(ctx, s.db, staffEmail(email))
}

func (s *Store) loginThrottle(ctx context.Context, q querier, email string) (store.LoginThrottle, error) {
	var t store.LoginThrottle
	err := q.QueryRowContext(ctx, s.rebind(`SELECT failures, last_failure_at, locked_until FROM staff_login_failures WHERE email = ?`), email).
		Scan(&t.Failures, scanTime(&t.LastFailureAt), scanTime(&t.LockedUntil))
	if errors.Is(err, sql.ErrNoRows) {
		return store.LoginThrottle{}, nil
	}
	if err != nil {
		return store.LoginThrottle{}, fmt.Errorf("reading failed logins: %w", err)
	}
	return t, nil
}

// RecordLoginFailure counts a failed login and sets the lock, in one
// transaction, so concurrent failures are all counted.
func (s *Store) RecordLoginFailure(ctx context.Context, email string, at time.Time, lockFor func(int) time.Duration) (store.LoginThrottle, error) {
	email = staffEmail(email)
	if err := required("email", email); err != nil {
		return store.LoginThrottle{}, err
	}
	var out store.LoginThrottle
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Forget runs that ended a day ago, so guesses at made-up emails
		// do not pile up.
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM staff_login_failures
			WHERE last_failure_at < ? AND (locked_until IS NULL OR locked_until < ?)`), s.bindTime(at.Add(-loginRunMemory)), s.bindTime(at)); err != nil {
			return fmt.Errorf("forgetting old failed logins: %w", err)
		}
		var failures int
		err := tx.QueryRowContext(ctx, s.rebind(`
			INSERT INTO staff_login_failures (email, failures, last_failure_at) VALUES (?, 1, ?)
			ON CONFLICT (email) DO UPDATE SET failures = staff_login_failures.failures + 1, last_failure_at = excluded.last_failure_at
			RETURNING failures`), email, s.bindTime(at)).Scan(&failures)
		if err != nil {
			return fmt.Errorf("counting failed login: %w", err)
		}
		var locked any
		if d := lockFor(failures); d > 0 {
			locked = s.bindTime(at.Add(d))
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE staff_login_failures SET locked_until = ? WHERE email = ?`), locked, email); err != nil {
			return fmt.Errorf("locking login: %w", err)
		}
		out, err = s.loginThrottle(ctx, tx, email)
		return err
	})
	return out, err
}

// ClearLoginFailures forgets the email's failed logins.
func (s *Store) ClearLoginFailures(ctx context.Context, email string) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM staff_login_failures WHERE email = ?`), staffEmail(email)); err != nil {
		return fmt.Errorf("clearing failed logins: %w", err)
	}
	return nil
}

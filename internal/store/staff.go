package store

import (
	"context"
	"time"
)

// StaffAccount is a person who logs in to the console. Email (lower case)
// identifies the account. Role is "admin" or "staff" (see package staff).
type StaffAccount struct {
	Email        string
	Role         string
	PasswordHash string    // Argon2id, PHC string format; never shown
	DisabledAt   time.Time // zero while the account may log in
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Disabled reports whether the account was disabled.
func (a StaffAccount) Disabled() bool { return !a.DisabledAt.IsZero() }

// StaffSession is a console login. Only the SHA-256 of the browser's token
// is stored.
type StaffSession struct {
	TokenHash string
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LoginThrottle is the run of failed logins for one email (whether or not
// an account has it, so a missing account behaves like a present one).
type LoginThrottle struct {
	Failures      int
	LastFailureAt time.Time
	LockedUntil   time.Time // zero when no wait applies
}

// StaffStore keeps staff accounts, their sessions and failed logins.
type StaffStore interface {
	// CreateStaff adds an account; ErrConflict when the email exists,
	// ErrInvalid for an empty email or hash or an unknown role.
	CreateStaff(ctx context.Context, a StaffAccount) (StaffAccount, error)
	// GetStaff returns ErrNotFound for unknown emails.
	GetStaff(ctx context.Context, email string) (StaffAccount, error)
	// ListStaff returns every account, sorted by email.
	ListStaff(ctx context.Context) ([]StaffAccount, error)
	// DisableStaff disables the account and revokes all its sessions in one
	// transaction. Disabling a disabled account keeps its DisabledAt.
	DisableStaff(ctx context.Context, email string) (StaffAccount, error)
	// SetStaffPassword replaces the hash, revokes every session of the
	// account and clears its failed logins.
	SetStaffPassword(ctx context.Context, email, hash string) (StaffAccount, error)

	// CreateStaffSession stores a session; ErrNotFound for an unknown
	// account, ErrInvalid for a disabled one. Expired sessions of every
	// account are deleted on the way.
	CreateStaffSession(ctx context.Context, s StaffSession) error
	// StaffSession returns the session with that token hash and its
	// account; ErrNotFound when it does not exist, expired (at now) or
	// the account is disabled.
	StaffSession(ctx context.Context, tokenHash string, now time.Time) (StaffSession, StaffAccount, error)
	// RevokeStaffSession deletes the session; a missing one is not an error.
	RevokeStaffSession(ctx context.Context, tokenHash string) error

	// LoginThrottle returns the email's failed-login run (zero when none).
	LoginThrottle(ctx context.Context, email string) (LoginThrottle, error)
	// RecordLoginFailure counts one more failed login at at and sets
	// LockedUntil to at + lockFor(failures) (no lock when that is 0). Runs
	// whose last failure is a day older than at, with no lock left, are
	// forgotten on the way.
	RecordLoginFailure(ctx context.Context, email string, at time.Time, lockFor func(failures int) time.Duration) (LoginThrottle, error)
	// ClearLoginFailures ends the run after a successful login.
	ClearLoginFailures(ctx context.Context, email string) error
}

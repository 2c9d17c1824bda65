package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

func testStaffAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, err := s.CreateStaff(ctx, store.StaffAccount{Email: " Ada@Example.com", Role: "admin", PasswordHash: "$argon2id$h1"})
	noErr(t, "CreateStaff", err)
	if a.Email != "ada@example.com" || a.Role != "admin" || a.Disabled() || a.CreatedAt.IsZero() || a.PasswordHash != "$argon2id$h1" {
		t.Fatalf("created %+v", a)
	}
	_, err = s.CreateStaff(ctx, store.StaffAccount{Email: "ada@example.com", Role: "staff", PasswordHash: "x"})
	wantErr(t, "CreateStaff with a taken email", err, store.ErrConflict)
	_, err = s.CreateStaff(ctx, store.StaffAccount{Email: "bo@example.com", Role: "owner", PasswordHash: "x"})
	wantErr(t, "CreateStaff with an unknown role", err, store.ErrInvalid)
	_, err = s.CreateStaff(ctx, store.StaffAccount{Email: "bo@example.com", Role: "staff"})
	wantErr(t, "CreateStaff without a hash", err, store.ErrInvalid)
	_, err = s.CreateStaff(ctx, store.StaffAccount{Email: "bo@example.com", Role: "staff", PasswordHash: "$h2"})
	noErr(t, "CreateStaff bo", err)

	got, err := s.GetStaff(ctx, "ADA@example.com")
	noErr(t, "GetStaff", err)
	wantEqual(t, "GetStaff email", got.Email, "ada@example.com")
	_, err = s.GetStaff(ctx, "nobody@example.com")
	wantErr(t, "GetStaff unknown", err, store.ErrNotFound)
	list, err := s.ListStaff(ctx)
	noErr(t, "ListStaff", err)
	if len(list) != 2 || list[0].Email != "ada@example.com" || list[1].Email != "bo@example.com" {
		t.Fatalf("ListStaff = %+v", list)
	}

	d, err := s.DisableStaff(ctx, "bo@example.com")
	noErr(t, "DisableStaff", err)
	if !d.Disabled() {
		t.Fatal("DisableStaff left the account enabled")
	}
	again, err := s.DisableStaff(ctx, "bo@example.com")
	noErr(t, "DisableStaff twice", err)
	wantTime(t, "DisabledAt after a second disable", again.DisabledAt, d.DisabledAt)
	_, err = s.DisableStaff(ctx, "nobody@example.com")
	wantErr(t, "DisableStaff unknown", err, store.ErrNotFound)

	p, err := s.SetStaffPassword(ctx, "ada@example.com", "$argon2id$h3")
	noErr(t, "SetStaffPassword", err)
	wantEqual(t, "new hash", p.PasswordHash, "$argon2id$h3")
	_, err = s.SetStaffPassword(ctx, "nobody@example.com", "$h")
	wantErr(t, "SetStaffPassword unknown", err, store.ErrNotFound)
}

func testStaffSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC()
	_, err := s.CreateStaff(ctx, store.StaffAccount{Email: "ada@example.com", Role: "staff", PasswordHash: "$h"})
	noErr(t, "CreateStaff", err)

	noErr(t, "CreateStaffSession", s.CreateStaffSession(ctx, store.StaffSession{TokenHash: "hash-1", Email: "Ada@example.com", ExpiresAt: now.Add(time.Hour)}))
	ss, a, err := s.StaffSession(ctx, "hash-1", now)
	noErr(t, "StaffSession", err)
	if ss.Email != "ada@example.com" || a.Role != "staff" || ss.CreatedAt.IsZero() {
		t.Fatalf("session %+v account %+v", ss, a)
	}
	_, _, err = s.StaffSession(ctx, "hash-1", now.Add(2*time.Hour))
	wantErr(t, "StaffSession after expiry", err, store.ErrNotFound)
	_, _, err = s.StaffSession(ctx, "no-such-hash", now)
	wantErr(t, "StaffSession unknown", err, store.ErrNotFound)
	err = s.CreateStaffSession(ctx, store.StaffSession{TokenHash: "hash-x", Email: "nobody@example.com", ExpiresAt: now.Add(time.Hour)})
	wantErr(t, "CreateStaffSession for an unknown account", err, store.ErrNotFound)

	// Logout revokes one session; the others stay.
	noErr(t, "CreateStaffSession 2", s.CreateStaffSession(ctx, store.StaffSession{TokenHash: "hash-2", Email: "ada@example.com", ExpiresAt: now.Add(time.Hour)}))
	noErr(t, "RevokeStaffSession", s.RevokeStaffSession(ctx, "hash-1"))
	noErr(t, "RevokeStaffSession twice", s.RevokeStaffSession(ctx, "hash-1"))
	_, _, err = s.StaffSession(ctx, "hash-1", now)
	wantErr(t, "StaffSession after logout", err, store.ErrNotFound)
	_, _, err = s.StaffSession(ctx, "hash-2", now)
	noErr(t, "the other session after logout", err)

	// A password reset revokes every session.
	_, err = s.SetStaffPassword(ctx, "ada@example.com", "$h2")
	noErr(t, "SetStaffPassword", err)
	_, _, err = s.StaffSession(ctx, "hash-2", now)
	wantErr(t, "StaffSession after a password reset", err, store.ErrNotFound)

	// Disabling revokes every session and refuses new ones.
	noErr(t, "CreateStaffSession 3", s.CreateStaffSession(ctx, store.StaffSession{TokenHash: "hash-3", Email: "ada@example.com", ExpiresAt: now.Add(time.Hour)}))
	_, err = s.DisableStaff(ctx, "ada@example.com")
	noErr(t, "DisableStaff", err)
	_, _, err = s.StaffSession(ctx, "hash-3", now)
	wantErr(t, "StaffSession after disable", err, store.ErrNotFound)
	err = s.CreateStaffSession(ctx, store.StaffSession{TokenHash: "hash-4", Email: "ada@example.com", ExpiresAt: now.Add(time.Hour)})
	wantErr(t, "CreateStaffSession for a disabled account", err, store.ErrInvalid)
}

func testStaffLoginThrottle(t *testing.T, s store.Store) {
	ctx := t.Context()
	lockAfter3 := func(n int) time.Duration {
		if n < 3 {
			return 0
		}
		return time.Duration(n) * time.Minute
	}
	th, err := s.LoginThrottle(ctx, "ada@example.com")
	noErr(t, "LoginThrottle with no failures", err)
	if th != (store.LoginThrottle{}) {
		t.Fatalf("throttle with no failures = %+v", th)
	}
	for i := 1; i <= 3; i++ {
		th, err = s.RecordLoginFailure(ctx, "Ada@example.com", at(i), lockAfter3)
		noErr(t, "RecordLoginFailure", err)
		wantEqual(t, "failures", th.Failures, i)
		wantTime(t, "last failure", th.LastFailureAt, at(i))
	}
	wantTime(t, "locked until", th.LockedUntil, at(3).Add(3*time.Minute))
	read, err := s.LoginThrottle(ctx, "ada@example.com")
	noErr(t, "LoginThrottle", err)
	if read.Failures != 3 || !read.LockedUntil.Equal(th.LockedUntil) {
		t.Fatalf("LoginThrottle = %+v, want %+v", read, th)
	}
	// An unknown email is counted the same way (no account enumeration).
	other, err := s.RecordLoginFailure(ctx, "nobody@example.com", at(1), lockAfter3)
	noErr(t, "RecordLoginFailure for an unknown email", err)
	wantEqual(t, "failures of another email", other.Failures, 1)

	// A day after its last failure, a run without a lock is forgotten.
	_, err = s.RecordLoginFailure(ctx, "cy@example.com", at(2), lockAfter3)
	noErr(t, "RecordLoginFailure cy", err)
	_, err = s.RecordLoginFailure(ctx, "dee@example.com", at(2).Add(25*time.Hour), lockAfter3)
	noErr(t, "RecordLoginFailure a day later", err)
	forgotten, err := s.LoginThrottle(ctx, "cy@example.com")
	noErr(t, "LoginThrottle cy", err)
	wantEqual(t, "cy's failures a day later", forgotten.Failures, 0)

	noErr(t, "ClearLoginFailures", s.ClearLoginFailures(ctx, "ada@example.com"))
	read, err = s.LoginThrottle(ctx, "ada@example.com")
	noErr(t, "LoginThrottle after clear", err)
	if read != (store.LoginThrottle{}) {
		t.Fatalf("after clear: %+v", read)
	}
	if _, err := s.RecordLoginFailure(ctx, "", at(1), lockAfter3); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("RecordLoginFailure without email: %v", err)
	}
}

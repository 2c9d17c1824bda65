package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nudgehq/nudge/internal/staff"
	"github.com/nudgehq/nudge/internal/store"
)

// InitialAdmin is the console account dev mode creates on its first start
// (when the store has no staff account yet).
type InitialAdmin struct {
	Email    string
	Password string
}

// ensureInitialAdmin creates a as an admin when no staff account exists.
// It reports whether it created it.
func ensureInitialAdmin(ctx context.Context, st store.Store, a *InitialAdmin, log *slog.Logger) (bool, error) {
	if a == nil {
		return false, nil
	}
	existing, err := st.ListStaff(ctx)
	if err != nil {
		return false, fmt.Errorf("listing staff accounts: %w", err)
	}
	if len(existing) > 0 {
		return false, nil
	}
	hash, err := staff.HashPassword(ctx, a.Password, staff.DefaultParams)
	if err != nil {
		return false, fmt.Errorf("hashing the initial admin's password: %w", err)
	}
	if _, err := st.CreateStaff(ctx, store.StaffAccount{Email: a.Email, Role: string(staff.RoleAdmin), PasswordHash: hash}); err != nil {
		return false, fmt.Errorf("creating the initial admin: %w", err)
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{Actor: "system", Action: "staff.created", Target: a.Email, Detail: `{"role":"admin","initial":true}`}); err != nil {
		log.Warn("writing audit log", "err", err)
	}
	log.Info("created the initial admin", "email", a.Email)
	return true, nil
}

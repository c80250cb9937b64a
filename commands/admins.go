package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"pnwbot/secrets"
	"pnwbot/store"
)

// System admin permissions, as stored in system_admins.permissions.
const (
	PermManageUsers     = "canManageUsers"
	PermManageAlliances = "canManageAlliances"
	PermViewAuditLogs   = "canViewAuditLogs"
	PermManageSystem    = "canManageSystem"
	PermManageAdmins    = "canManageAdmins"
)

// BootstrapSuperAdmins makes the SUPER_ADMIN_DISCORD_IDS super admins with
// every permission, creating their accounts when needed. Each grant that
// changes something is audited.
func (d *Deps) BootstrapSuperAdmins(ctx context.Context, discordIDs []string) error {
	perms, err := json.Marshal(map[string]bool{
		PermManageUsers: true, PermManageAlliances: true, PermViewAuditLogs: true, PermManageSystem: true, PermManageAdmins: true,
	})
	if err != nil {
		return err
	}
	for _, id := range discordIDs {
		u, err := d.Store.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{DiscordID: id, KeySalt: secrets.NewSalt()})
		if err != nil {
			return fmt.Errorf("super admin %s: %w", id, err)
		}
		before, err := d.Store.SystemAdminGetByUser(ctx, u.ID)
		if err == nil && before.Level == "super_admin" {
			continue
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("super admin %s: %w", id, err)
		}
		err = d.change(ctx, func(q *store.Queries) (auditEntry, error) {
			_, err := q.SystemAdminUpsert(ctx, store.SystemAdminUpsertParams{UserID: u.ID, Level: "super_admin", Permissions: perms})
			return auditEntry{user: &u.ID, action: "admin.bootstrap", resource: "system_admin", resourceID: strconv.FormatInt(u.ID, 10),
				oldValues: map[string]any{"level": before.Level}, newValues: map[string]any{"level": "super_admin", "source": "SUPER_ADMIN_DISCORD_IDS"}}, err
		})
		if err != nil {
			return fmt.Errorf("super admin %s: %w", id, err)
		}
	}
	return nil
}

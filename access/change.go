package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"pnwbot/audit"
	"pnwbot/secrets"
	"pnwbot/store"
)

// Changes writes changes of who may do what: each is decided by the rules
// above under a lock, from the rows as they are, and audited with the
// change in one transaction. A *Denied comes back for the front door to
// audit as it audits every denial; any other refusal is audited here.
type Changes struct{ Log audit.Log }

// ChangeManager sets the target's standing (users.id) in alliance a to
// what next makes of it (nil before: no manager; nil after: removed), as
// actor, and returns it. action names the audit entry.
func (c Changes) ChangeManager(ctx context.Context, actor int64, a store.Alliance, target int64, action string,
	next func(before *Standing) (*Standing, error)) (*Standing, error) {
	var after *Standing
	err := c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		if _, err := q.AllianceLock(ctx, a.ID); err != nil {
			return audit.Entry{}, fmt.Errorf("lock alliance: %w", err)
		}
		rows, err := q.AllianceManagerListByAlliance(ctx, a.ID)
		if err != nil {
			return audit.Entry{}, fmt.Errorf("managers: %w", err)
		}
		current := map[int64]*Standing{}
		ids := map[int64]int64{}
		for _, r := range rows {
			overrides, err := Overrides(r.AllianceManager.Permissions)
			if err != nil {
				return audit.Entry{}, err
			}
			current[r.AllianceManager.UserID] = &Standing{Role: r.AllianceManager.Role, Overrides: overrides}
			ids[r.AllianceManager.UserID] = r.AllianceManager.ID
		}
		before := current[target]
		if after, err = next(before); err != nil {
			return audit.Entry{}, err
		}
		if err := CheckManagerChange(current, actor, target, after); err != nil {
			return audit.Entry{}, err
		}
		switch {
		case after == nil:
			_, err = q.AllianceManagerDeactivate(ctx, store.AllianceManagerDeactivateParams{UserID: target, AllianceID: a.ID})
		case before == nil:
			_, err = q.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: target, AllianceID: a.ID, Role: after.Role,
				Permissions: marshal(after.Overrides), AssignedBy: &actor})
		default:
			_, err = q.AllianceManagerUpdate(ctx, store.AllianceManagerUpdateParams{ID: ids[target], Role: after.Role, Permissions: marshal(after.Overrides)})
		}
		return audit.Entry{User: &actor, Alliance: &a.ID, Action: action, Resource: "alliance_manager", ResourceID: strconv.FormatInt(target, 10),
			Old: standingValues(before), New: standingValues(after)}, err
	})
	if errors.Is(err, ErrLastAdmin) {
		c.Log.Record(ctx, audit.Entry{User: &actor, Alliance: &a.ID, Action: action, Resource: "alliance_manager", ResourceID: strconv.FormatInt(target, 10),
			Failed: true, New: map[string]any{"reason": "last admin"}})
	}
	return after, err
}

func standingValues(s *Standing) any {
	if s == nil {
		return nil
	}
	return map[string]any{"role": s.Role, "overrides": s.Overrides}
}

func marshal[P comparable](o map[P]bool) []byte {
	b, err := json.Marshal(o)
	if err != nil {
		panic(err) // a map of bools
	}
	return b
}

// AdminTarget is the Discord user a change of system admins is about.
type AdminTarget struct{ DiscordID, Username string }

// ChangeAdmin sets the target's system admin row to what next makes of it
// (nil before: no admin; nil after: removed), as actor, and returns it and
// the target's account (users.id; 0 when they have none), decided by
// CheckAdminChange. A target without an account gets one only when the
// change is made, in its transaction: a refused grant creates nothing.
// action names the audit entry.
func (c Changes) ChangeAdmin(ctx context.Context, actor int64, t AdminTarget, action string,
	next func(before *store.SystemAdmin) (*store.SystemAdminUpsertParams, error)) (_ *store.SystemAdminUpsertParams, target int64, _ error) {
	var after *store.SystemAdminUpsertParams
	err := c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		if err := q.SystemAdminLock(ctx); err != nil {
			return audit.Entry{}, fmt.Errorf("lock system admins: %w", err)
		}
		var before *store.SystemAdmin
		if u, err := q.UserGetByDiscordID(ctx, t.DiscordID); err == nil {
			target = u.ID
			if row, err := q.SystemAdminGetByUser(ctx, target); err == nil {
				before = &row
			} else if !errors.Is(err, store.ErrNotFound) {
				return audit.Entry{}, err
			}
		} else if !errors.Is(err, store.ErrNotFound) { // no account: no admin row either
			return audit.Entry{}, fmt.Errorf("target user: %w", err)
		}
		var err error
		if after, err = next(before); err != nil {
			return audit.Entry{}, err
		}
		change := AdminChange{SuperAdmins: func() (int64, error) { return q.SystemAdminCountSuper(ctx) }}
		if row, err := q.SystemAdminGetByUser(ctx, actor); err == nil {
			change.Actor = &Grant{Role: row.Level, Overrides: row.Permissions}
		} else if !errors.Is(err, store.ErrNotFound) {
			return audit.Entry{}, err
		}
		if before != nil {
			change.Before = &Grant{Role: before.Level, Overrides: before.Permissions}
		}
		if after != nil {
			change.After = &Grant{Role: after.Level, Overrides: after.Permissions}
			if after.GrantedLevel != nil {
				change.AfterGranted = *after.GrantedLevel
			}
		}
		if err := CheckAdminChange(change); err != nil {
			return audit.Entry{}, err
		}
		if after != nil && target == 0 { // an admin made of someone without an account
			u, err := q.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{DiscordID: t.DiscordID, DiscordUsername: t.Username, KeySalt: secrets.NewSalt()})
			if err != nil {
				return audit.Entry{}, fmt.Errorf("target user: %w", err)
			}
			target = u.ID
		}
		if after == nil {
			_, err = q.SystemAdminDelete(ctx, target)
		} else {
			after.UserID, after.GrantedBy = target, &actor
			_, err = q.SystemAdminUpsert(ctx, *after)
		}
		return audit.Entry{User: &actor, Action: action, Resource: "system_admin", ResourceID: strconv.FormatInt(target, 10),
			Old: adminValues(adminParams(before)), New: adminValues(after)}, err
	})
	var refused *AdminRefused
	if errors.As(err, &refused) {
		values := map[string]any{"reason": refused.Reason}
		if target == 0 {
			values["discord_id"] = t.DiscordID // no account to name
		}
		c.Log.Record(ctx, audit.Entry{User: &actor, Action: action, Resource: "system_admin", ResourceID: strconv.FormatInt(target, 10),
			Failed: true, New: values})
	}
	return after, target, err
}

// adminParams is a stored row as the change's params, to compare and audit.
func adminParams(a *store.SystemAdmin) *store.SystemAdminUpsertParams {
	if a == nil {
		return nil
	}
	return &store.SystemAdminUpsertParams{UserID: a.UserID, Level: a.Level, Permissions: a.Permissions, GrantedBy: a.GrantedBy,
		Listed: a.Listed, GrantedLevel: a.GrantedLevel}
}

func adminValues(a *store.SystemAdminUpsertParams) any {
	if a == nil {
		return nil
	}
	overrides, _ := SystemOverrides(a.Permissions)
	v := map[string]any{"level": a.Level, "overrides": overrides}
	if a.Listed {
		v["source"] = "SUPER_ADMIN_DISCORD_IDS"
		v["granted_level"] = a.GrantedLevel
	}
	return v
}

// ErrUnchanged is a change that would leave things as they are: nothing
// was written, nor audited.
var ErrUnchanged = errors.New("unchanged")

// BootstrapSuperAdmins makes the SUPER_ADMIN_DISCORD_IDS super admins,
// creating their accounts when needed, and takes from those it no longer
// lists what the list gave them: they keep the level a command granted, or
// stop being admins. Each change is audited.
func (c Changes) BootstrapSuperAdmins(ctx context.Context, discordIDs []string) error {
	for _, id := range discordIDs {
		u, err := c.Log.Store.UserUpsertByDiscordID(ctx, store.UserUpsertByDiscordIDParams{DiscordID: id, KeySalt: secrets.NewSalt()})
		if err != nil {
			return fmt.Errorf("super admin %s: %w", id, err)
		}
		err = c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
			if err := q.SystemAdminLock(ctx); err != nil {
				return audit.Entry{}, err
			}
			before, err := q.SystemAdminGetByUser(ctx, u.ID)
			after := store.SystemAdminUpsertParams{UserID: u.ID, Level: LevelSuperAdmin, Permissions: []byte(`{}`), Listed: true}
			switch {
			case err == nil && before.Listed:
				return audit.Entry{}, ErrUnchanged
			case err == nil:
				after.Permissions, after.GrantedBy, after.GrantedLevel = before.Permissions, before.GrantedBy, &before.Level
			case !errors.Is(err, store.ErrNotFound):
				return audit.Entry{}, err
			}
			_, err = q.SystemAdminUpsert(ctx, after)
			return audit.Entry{User: &u.ID, Action: "admin.bootstrap", Resource: "system_admin", ResourceID: strconv.FormatInt(u.ID, 10),
				Old: map[string]any{"level": before.Level}, New: map[string]any{"level": LevelSuperAdmin, "source": "SUPER_ADMIN_DISCORD_IDS"}}, err
		})
		if err != nil && !errors.Is(err, ErrUnchanged) {
			return fmt.Errorf("super admin %s: %w", id, err)
		}
	}
	rows, err := c.Log.Store.SystemAdminList(ctx)
	if err != nil {
		return fmt.Errorf("system admins: %w", err)
	}
	for _, r := range rows {
		if !r.SystemAdmin.Listed || slices.Contains(discordIDs, r.DiscordID) {
			continue
		}
		userID := r.SystemAdmin.UserID
		err := c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
			if err := q.SystemAdminLock(ctx); err != nil {
				return audit.Entry{}, err
			}
			before, err := q.SystemAdminGetByUser(ctx, userID)
			if errors.Is(err, store.ErrNotFound) || err == nil && !before.Listed {
				return audit.Entry{}, ErrUnchanged
			} else if err != nil {
				return audit.Entry{}, err
			}
			e := audit.Entry{User: &userID, Action: "admin.unlist", Resource: "system_admin", ResourceID: strconv.FormatInt(userID, 10),
				Old: map[string]any{"level": before.Level, "source": "SUPER_ADMIN_DISCORD_IDS"}}
			if before.GrantedLevel == nil {
				_, err = q.SystemAdminDelete(ctx, userID)
				return e, err
			}
			e.New = map[string]any{"level": *before.GrantedLevel}
			_, err = q.SystemAdminUpsert(ctx, store.SystemAdminUpsertParams{UserID: userID, Level: *before.GrantedLevel,
				Permissions: before.Permissions, GrantedBy: before.GrantedBy})
			return e, err
		})
		if err != nil && !errors.Is(err, ErrUnchanged) {
			return fmt.Errorf("unlisted super admin %s: %w", r.DiscordID, err)
		}
	}
	return nil
}

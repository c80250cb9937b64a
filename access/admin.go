package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"pnwbot/audit"
	"pnwbot/store"
)

// ErrNotManager refuses to remove someone who does not manage the alliance.
var ErrNotManager = errors.New("not a manager of the alliance")

// Assign makes the target (users.id) a manager of alliance a with role, as
// actor, a system admin: whatever the alliance's own managers hold, and
// keeping the overrides of a manager it already has. The caller checked
// that role is one of Roles.
func (c Changes) Assign(ctx context.Context, actor int64, a store.Alliance, target int64, role string) error {
	return c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		if _, err := q.AllianceLock(ctx, a.ID); err != nil {
			return audit.Entry{}, fmt.Errorf("lock alliance: %w", err)
		}
		var old any
		before, err := q.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: target, AllianceID: a.ID})
		switch {
		case err == nil:
			old = map[string]any{"role": before.Role}
			_, err = q.AllianceManagerUpdate(ctx, store.AllianceManagerUpdateParams{ID: before.ID, Role: role, Permissions: before.Permissions})
		case errors.Is(err, store.ErrNotFound): // or removed: the upsert makes it active again
			_, err = q.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: target, AllianceID: a.ID, Role: role,
				Permissions: []byte(`{}`), AssignedBy: &actor})
		}
		return audit.Entry{User: &actor, Alliance: &a.ID, Action: "admin.assign", Resource: "alliance_manager", ResourceID: strconv.FormatInt(target, 10),
			Old: old, New: map[string]any{"role": role}}, err
	})
}

// Unassign removes the target (users.id) from alliance a's managers, as
// actor, a system admin. It never removes the alliance's last admin who
// may manage its settings (ErrLastAdmin, audited as a refusal), and
// answers ErrNotManager for someone who does not manage it.
func (c Changes) Unassign(ctx context.Context, actor int64, a store.Alliance, target int64) error {
	entry := audit.Entry{User: &actor, Alliance: &a.ID, Action: "admin.unassign", Resource: "alliance_manager", ResourceID: strconv.FormatInt(target, 10)}
	err := c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		sole, err := q.SoleAdminOf(ctx, target) // locks the alliances the target is admin of
		if err != nil {
			return audit.Entry{}, err
		}
		if slices.ContainsFunc(sole, func(r store.AllianceManagerSoleAdminOfRow) bool { return r.ID == a.ID }) {
			return audit.Entry{}, ErrLastAdmin
		}
		before, err := q.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: target, AllianceID: a.ID})
		if errors.Is(err, store.ErrNotFound) {
			return audit.Entry{}, ErrNotManager
		} else if err != nil {
			return audit.Entry{}, err
		}
		_, err = q.AllianceManagerDeactivate(ctx, store.AllianceManagerDeactivateParams{UserID: target, AllianceID: a.ID})
		e := entry
		e.Old = map[string]any{"role": before.Role}
		return e, err
	})
	if errors.Is(err, ErrLastAdmin) {
		entry.Failed, entry.New = true, map[string]any{"reason": "last admin"}
		c.Log.Record(ctx, entry)
	}
	return err
}

// SetMemberPermission grants (value true) or takes away one member
// permission of the target, as it was read, as actor, a system admin;
// ErrUnchanged when the target already holds or lacks it. The caller
// checked that p is Valid. Other keys of users.permissions are kept.
func (c Changes) SetMemberPermission(ctx context.Context, actor int64, target store.User, p MemberPermission, value bool) error {
	before, err := MemberOf(target.Permissions)
	if err != nil {
		return err
	}
	if before[p] == value {
		return ErrUnchanged
	}
	was := before[p]
	before[p] = value
	return c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		_, err := q.AdminUserSetPermissions(ctx, store.AdminUserSetPermissionsParams{ID: target.ID, Permissions: marshal(before)})
		// Not resource "user": that is for rows about the actor itself.
		return audit.Entry{User: &actor, Action: "admin.user_permission", Resource: "user_permissions", ResourceID: strconv.FormatInt(target.ID, 10),
			Old: map[string]any{string(p): was}, New: map[string]any{string(p): value}}, err
	})
}

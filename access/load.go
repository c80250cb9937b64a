package access

import (
	"context"
	"errors"
	"fmt"

	"pnwbot/store"
)

// Perms is what a caller holds, loaded once per request for what its route
// needs: the sets a Need does not ask for stay empty.
type Perms struct {
	Member   MemberSet
	Alliance Set
	System   SystemSet
	// Manager is the caller's manager row in the request's alliance when
	// Alliance was loaded and they hold one; what loaded the set, so that
	// nothing reads it again (their own alliance key is on it).
	Manager *store.AllianceManager
}

// DB is what the loads read.
type DB interface {
	AllianceManagerGet(ctx context.Context, arg store.AllianceManagerGetParams) (store.AllianceManager, error)
	SystemAdminGetByUser(ctx context.Context, userID int64) (store.SystemAdmin, error)
}

// Load reads, once, what the user (users.id, whose users.permissions is
// member) holds of n in the alliance (alliances.id; 0 for none): one query
// for an alliance Need, one for a system Need, none for the rest. A change
// of role or override counts from the next request.
func Load(ctx context.Context, db DB, userID int64, member []byte, allianceID int64, n Need) (Perms, error) {
	var p Perms
	var err error
	if len(n.Member) > 0 {
		if p.Member, err = MemberOf(member); err != nil {
			return p, fmt.Errorf("user %d: %w", userID, err)
		}
	}
	if len(n.Alliance) > 0 {
		if p.Alliance, p.Manager, err = LoadAlliance(ctx, db, userID, allianceID); err != nil {
			return p, err
		}
	}
	if len(n.System) > 0 {
		if p.System, err = LoadSystem(ctx, db, userID); err != nil {
			return p, err
		}
	}
	return p, nil
}

// LoadAlliance reads what the user may do in the alliance, and their
// manager row there (nil when they manage nothing there; an inactive row
// holds nothing).
func LoadAlliance(ctx context.Context, db DB, userID, allianceID int64) (Set, *store.AllianceManager, error) {
	m, err := db.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: userID, AllianceID: allianceID})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Set{}, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("load manager: %w", err)
	case !m.IsActive:
		return Set{}, &m, nil
	}
	s, err := Of(Grant{Role: m.Role, Overrides: m.Permissions})
	return s, &m, err
}

// LoadSystem reads what the user may do as a system admin.
func LoadSystem(ctx context.Context, db DB, userID int64) (SystemSet, error) {
	a, err := db.SystemAdminGetByUser(ctx, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return SystemSet{}, nil
	case err != nil:
		return nil, fmt.Errorf("load system admin: %w", err)
	}
	return SystemOf(Grant{Role: a.Level, Overrides: a.Permissions})
}

package access

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"pnwbot/audit"
	"pnwbot/pnw"
	"pnwbot/store"
)

// MaxSlugLength is the longest page slug (alliances.route_slug).
const MaxSlugLength = 64

// slugPattern is what alliances.route_slug accepts.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Refusals of the changes to an alliance's binding and pages.
var (
	// ErrBadSlug: a slug is lowercase letters and digits in words joined
	// by single hyphens, at most MaxSlugLength characters.
	ErrBadSlug = errors.New("not a page slug")
	// ErrSlugTaken: another alliance's pages are at the slug.
	ErrSlugTaken = errors.New("the slug is another alliance's")
	// ErrGuildTaken: the server is bound to another alliance.
	ErrGuildTaken = errors.New("the server is bound to another alliance")
)

// Slug returns s as a page slug, trimmed and lowercased, or ErrBadSlug.
func Slug(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > MaxSlugLength || !slugPattern.MatchString(s) {
		return "", ErrBadSlug
	}
	return s, nil
}

// SetPage makes alliance a's pages public or private, at slug (see Slug),
// as actor, and returns the alliance as it is then. Whether its pages are
// public decides who may see them.
func (c Changes) SetPage(ctx context.Context, actor int64, a store.Alliance, public bool, slug string) (store.Alliance, error) {
	slug, err := Slug(slug)
	if err != nil {
		return a, err
	}
	after := a
	err = c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		var err error
		after, err = q.AllianceSetPublicSlug(ctx, store.AllianceSetPublicSlugParams{ID: a.ID, IsPublic: public, RouteSlug: slug})
		return audit.Entry{User: &actor, Alliance: &a.ID, Action: "alliance.settings", Resource: "alliance", ResourceID: strconv.FormatInt(a.PnwAllianceID, 10),
			Old: map[string]any{"is_public": a.IsPublic, "route_slug": a.RouteSlug},
			New: map[string]any{"is_public": public, "route_slug": slug}}, err
	})
	if store.IsSlugTaken(err) {
		return a, ErrSlugTaken
	}
	return after, err
}

// Leader is what the game says, asked now with their own key, of the
// nation of the caller who sets an alliance up or moves it.
type Leader struct {
	AllianceID    int64 // the game's; 0 in none
	Name, Acronym string
	Position      pnw.AlliancePositionEnum
}

// Eligible refuses, audited, an actor whose nation (l) may neither set an
// alliance up nor move it: only its leader or heir may. Setup and Move
// check it first; a front door checks it before asking the game more.
func (c Changes) Eligible(ctx context.Context, actor int64, l Leader) error {
	if l.AllianceID == 0 || (l.Position != pnw.AlliancePositionEnumLEADER && l.Position != pnw.AlliancePositionEnumHEIR) {
		return c.refuseSetup(ctx, actor, l, ErrNotEligible, "not leader or heir")
	}
	return nil
}

// Refusals of setting an alliance up and of moving it. Each is audited
// here (alliance.setup, failed), and changes nothing.
var (
	// ErrNotEligible: the caller's nation is not the leader or heir of an
	// alliance.
	ErrNotEligible = errors.New("not the leader or heir of an alliance")
	// ErrServerBound: the server binds another alliance already.
	ErrServerBound = errors.New("the server is bound to another alliance")
	// ErrSetUpAlready: setting it up again would make the caller admin
	// again, undoing a demotion, so only the game's leader may.
	ErrSetUpAlready = errors.New("set up already: only the game's leader may run setup again")
	// ErrMayNotMove: only the game's leader, or a leader or heir who is one
	// of its admins in pnwbot, may move it to another server.
	ErrMayNotMove = errors.New("only the game's leader or an admin may move the alliance")
)

// ErrBoundElsewhere is no refusal: the alliance is bound to another server,
// and the caller may move it (Move), once they confirm.
var ErrBoundElsewhere = errors.New("the alliance is bound to another server")

// Setup binds the alliance l leads to the Discord server guildID and makes
// actor its admin (bind). The alliance is returned, and with a refusal or
// ErrBoundElsewhere the alliance it is about (for ErrServerBound, the one
// bound to guildID).
func (c Changes) Setup(ctx context.Context, actor int64, l Leader, guildID string) (store.Alliance, error) {
	if err := c.Eligible(ctx, actor, l); err != nil {
		return store.Alliance{}, err
	}
	here, err := c.Log.Store.AllianceGetByGuild(ctx, &guildID)
	switch {
	case err == nil && here.PnwAllianceID != l.AllianceID:
		return here, c.refuseSetup(ctx, actor, l, ErrServerBound, "server bound to another alliance")
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.Alliance{}, fmt.Errorf("server alliance: %w", err)
	}
	existing, err := c.Log.Store.AllianceGetByPnwID(ctx, l.AllianceID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c.bind(ctx, actor, l, guildID, nil)
	case err != nil:
		return store.Alliance{}, fmt.Errorf("alliance: %w", err)
	case existing.DiscordGuildID != nil && *existing.DiscordGuildID != guildID:
		if err := c.mayMove(ctx, actor, l, existing); err != nil {
			return existing, err
		}
		return existing, ErrBoundElsewhere
	case l.Position != pnw.AlliancePositionEnumLEADER:
		return existing, c.refuseSetup(ctx, actor, l, ErrSetUpAlready, "set up already: not the leader")
	}
	return c.bind(ctx, actor, l, guildID, nil)
}

// Move binds the alliance l leads, bound to another server, to guildID
// instead, as actor, whom Setup answered ErrBoundElsewhere and who
// confirmed: its managers keep their roles, and actor becomes admin only
// if they managed it not. store.ErrNotFound when pnwbot has no such
// alliance (any more); ErrGuildTaken when guildID binds another one.
func (c Changes) Move(ctx context.Context, actor int64, l Leader, guildID string) (store.Alliance, error) {
	if err := c.Eligible(ctx, actor, l); err != nil {
		return store.Alliance{}, err
	}
	existing, err := c.Log.Store.AllianceGetByPnwID(ctx, l.AllianceID)
	if err != nil {
		return store.Alliance{}, fmt.Errorf("alliance: %w", err)
	}
	if err := c.mayMove(ctx, actor, l, existing); err != nil {
		return existing, err
	}
	return c.bind(ctx, actor, l, guildID, existing.DiscordGuildID)
}

// mayMove lets the game's leader, or a leader or heir who is an admin of
// a in pnwbot, move its binding; a refusal is audited.
func (c Changes) mayMove(ctx context.Context, actor int64, l Leader, a store.Alliance) error {
	if l.Position == pnw.AlliancePositionEnumLEADER {
		return nil
	}
	m, err := c.Log.Store.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: actor, AllianceID: a.ID})
	switch {
	case err == nil && m.Role == Admin:
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("manager: %w", err)
	}
	return c.refuseSetup(ctx, actor, l, ErrMayNotMove, "move: neither the leader nor an admin")
}

// refuseSetup audits a refused setup or move, and returns err.
func (c Changes) refuseSetup(ctx context.Context, actor int64, l Leader, err error, reason string) error {
	c.Log.Record(ctx, audit.Entry{User: &actor, Action: "alliance.setup", Resource: "alliance", ResourceID: strconv.FormatInt(l.AllianceID, 10),
		Failed: true, New: map[string]any{"reason": reason, "position": l.Position}})
	return err
}

// bind binds the alliance l leads to the Discord server guildID, creating
// its row (with a free slug) when pnwbot has none, and makes actor its
// admin, all audited in one transaction (alliance.setup). fromGuild is
// the server it moves from, if any (alliance.move): a move keeps every
// manager's role, the actor's too, and makes the actor admin only if they
// managed it not. ErrGuildTaken when the server was bound to another
// alliance meanwhile.
func (c Changes) bind(ctx context.Context, actor int64, l Leader, guildID string, fromGuild *string) (store.Alliance, error) {
	var a store.Alliance
	err := c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		slug, err := freeSlug(ctx, q, l.Name, l.AllianceID)
		if err != nil {
			return audit.Entry{}, err
		}
		a, err = q.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: l.AllianceID, Name: l.Name, Acronym: l.Acronym, RouteSlug: slug})
		if err != nil {
			return audit.Entry{}, fmt.Errorf("alliance: %w", err)
		}
		if a, err = q.AllianceSetGuild(ctx, store.AllianceSetGuildParams{ID: a.ID, DiscordGuildID: &guildID}); err != nil {
			return audit.Entry{}, fmt.Errorf("bind server: %w", err)
		}
		_, err = q.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: actor, AllianceID: a.ID})
		switch {
		case fromGuild != nil && err == nil: // a move keeps the actor's role
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return audit.Entry{}, fmt.Errorf("manager: %w", err)
		default:
			if _, err = q.AllianceManagerUpsert(ctx, store.AllianceManagerUpsertParams{UserID: actor, AllianceID: a.ID, Role: Admin,
				Permissions: []byte("{}"), AssignedBy: &actor}); err != nil {
				return audit.Entry{}, fmt.Errorf("first admin: %w", err)
			}
		}
		e := audit.Entry{User: &actor, Alliance: &a.ID, Action: "alliance.setup", Resource: "alliance", ResourceID: strconv.FormatInt(l.AllianceID, 10),
			New: map[string]any{"guild_id": guildID, "route_slug": a.RouteSlug, "admin": actor, "position": l.Position}}
		if fromGuild != nil {
			e.Action, e.Old = "alliance.move", map[string]any{"guild_id": *fromGuild}
		}
		return e, nil
	})
	if store.IsGuildTaken(err) {
		return a, ErrGuildTaken
	}
	return a, err
}

// freeSlug returns the alliance's slug, or for a new alliance a free one
// made from its name: the name itself, else the name with the game id.
func freeSlug(ctx context.Context, q *store.Queries, name string, pnwID int64) (string, error) {
	if a, err := q.AllianceGetByPnwID(ctx, pnwID); err == nil {
		return a.RouteSlug, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	id := strconv.FormatInt(pnwID, 10)
	base := slugify(name)
	candidates := []string{base, strings.TrimPrefix(base+"-"+id, "-")}
	if base == "" {
		candidates = []string{"alliance-" + id}
	}
	for _, slug := range candidates {
		_, err := q.AllianceGetBySlug(ctx, slug)
		if errors.Is(err, store.ErrNotFound) {
			return slug, nil
		} else if err != nil {
			return "", err
		}
	}
	return "alliance-" + id, nil
}

// slugify lowercases name and joins its runs of letters and digits with
// hyphens: "The Knights Radiant!" is "the-knights-radiant".
func slugify(name string) string {
	slug := strings.Join(strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}), "-")
	for len(slug) > MaxSlugLength-12 { // room for "-" and a game id
		i := strings.LastIndexByte(slug, '-')
		if i < 0 {
			slug = slug[:MaxSlugLength-12]
			break
		}
		slug = slug[:i]
	}
	return slug
}

package access

import (
	"context"
	"errors"
	"fmt"

	"regexp"
	"strconv"
	"strings"

	"pnwbot/audit"
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

// Leader is what the game says of the alliance whose leader or heir sets
// it up: the front door asked the game with their own key.
type Leader struct {
	AllianceID    int64 // the game's
	Name, Acronym string
	Position      string // LEADER or HEIR
}

// Bind binds the alliance l leads to the Discord server guildID, creating
// its row (with a free slug) when pnwbot has none, and makes actor its
// admin, all audited in one transaction (alliance.setup). fromGuild is
// the server it moves from, if any (alliance.move): a move keeps every
// manager's role, the actor's too, and makes the actor admin only if they
// managed it not. ErrGuildTaken when the server was bound to another
// alliance meanwhile.
func (c Changes) Bind(ctx context.Context, actor int64, l Leader, guildID string, fromGuild *string) (store.Alliance, error) {
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

package access

import (
	"context"
	"errors"

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

// Refusals of the changes to an alliance's pages.
var (
	// ErrBadSlug: a slug is lowercase letters and digits in words joined
	// by single hyphens, at most MaxSlugLength characters.
	ErrBadSlug = errors.New("not a page slug")
	// ErrSlugTaken: another alliance's pages are at the slug.
	ErrSlugTaken = errors.New("the slug is another alliance's")
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

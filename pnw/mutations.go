package pnw

import (
	"context"
	"time"
)

// CanMutate reports whether the client has a bot key (PNW_BOT_KEY), without
// which the game refuses every mutation.
func (c *Client) CanMutate() bool { return c.botKey != "" }

// MemberStanding is a nation's place in its alliance as an officer's key
// sees it, read fresh.
type MemberStanding struct {
	AllianceID string
	Position   AlliancePositionEnum
	TaxID      string // its tax bracket; "" or "0" when none or not visible
}

// NationStanding reads a nation's alliance, position and tax bracket with
// key, never from the cache: what a member action is about to change.
func (c *Client) NationStanding(ctx context.Context, key string, nationID int) (MemberStanding, error) {
	s := spec{op: "nationTaxBracket", query: nationTaxBracket_Operation}
	start := time.Now()
	ctx, tr := withTrace(ctx)
	resp, err := nationTaxBracket(ctx, keyed{c: c, key: key}, []int{nationID})
	if err == nil && len(resp.Nations.Data) == 0 {
		err = notFound(s.op, "nation", nationID)
	}
	c.finish(ctx, s, tr, start, outcome(err), err, false)
	if err != nil {
		return MemberStanding{}, err
	}
	n := resp.Nations.Data[0]
	return MemberStanding{AllianceID: n.AllianceId, Position: n.AlliancePosition, TaxID: n.TaxId}, nil
}

// AssignAlliancePosition sets a nation's default position in the key
// owner's alliance (MEMBER accepts an applicant, REMOVE removes a member),
// with key and the bot key. Sent once, like every mutation; the nation's and
// the alliance's cached data (its member list) are invalidated.
func (c *Client) AssignAlliancePosition(ctx context.Context, key string, allianceID, nationID int, position DefaultAlliancePosition) error {
	s := spec{op: "assignAlliancePosition", query: assignAlliancePosition_Operation}
	start := time.Now()
	ctx, tr := withTrace(ctx)
	_, err := assignAlliancePosition(ctx, keyed{c: c, key: key, mutation: true}, nationID, position)
	c.finish(ctx, s, tr, start, outcome(err), err, false)
	if err == nil {
		c.invalidate(ctx, AllianceTag(allianceID), NationTag(nationID))
	}
	return err
}

// TaxBracket is an alliance's tax bracket.
type TaxBracket = assignTaxBracketAssignTaxBracket

// AssignTaxBracket puts a nation in a tax bracket of the key owner's
// alliance, as AssignAlliancePosition does.
func (c *Client) AssignTaxBracket(ctx context.Context, key string, allianceID, nationID, bracketID int) (TaxBracket, error) {
	s := spec{op: "assignTaxBracket", query: assignTaxBracket_Operation}
	start := time.Now()
	ctx, tr := withTrace(ctx)
	resp, err := assignTaxBracket(ctx, keyed{c: c, key: key, mutation: true}, bracketID, nationID)
	c.finish(ctx, s, tr, start, outcome(err), err, false)
	if err != nil {
		return TaxBracket{}, err
	}
	c.invalidate(ctx, AllianceTag(allianceID), NationTag(nationID))
	return resp.AssignTaxBracket, nil
}

// invalidate drops cached data by tag after a change; a failure is logged,
// as the data then only lives until its TTL.
func (c *Client) invalidate(ctx context.Context, tags ...string) {
	for _, tag := range tags {
		if err := c.InvalidateTag(context.WithoutCancel(ctx), tag); err != nil {
			c.log.WarnContext(ctx, "pnw cache invalidation failed", "tag", tag, "err", err)
		}
	}
}

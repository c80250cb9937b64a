package pnw

import (
	"context"
	"strconv"
)

// AllianceAudit returns what member audits read beyond AllianceMembers: the
// alliance's color and, for each of its nations, its days in the alliance
// and its cities' military buildings. One request, cached as the member
// list is.
func (c *Client) AllianceAudit(ctx context.Context, allianceID int) (Result[AllianceAudit], error) {
	s := spec{op: "allianceAudit", query: allianceAudit_Operation, key: "audit:" + strconv.Itoa(allianceID), kind: kindMembers, ownKey: true}
	return cached(ctx, c, s, func(ctx context.Context) (AllianceAudit, []string, error) {
		resp, err := allianceAudit(ctx, c.public(), []int{allianceID})
		if err != nil {
			return AllianceAudit{}, nil, err
		}
		if len(resp.Alliances.Data) == 0 {
			return AllianceAudit{}, nil, notFound(s.op, "alliance", allianceID)
		}
		return resp.Alliances.Data[0], []string{AllianceTag(allianceID)}, nil
	})
}

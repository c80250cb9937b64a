package pnw

import (
	"context"
	"time"
)

// LedgerRecords are an alliance's bank and tax records after a point,
// oldest first.
type LedgerRecords struct {
	Bank []Bankrec
	Tax  []Bankrec
}

// MaxLedgerRecords is the most records of each kind one AllianceRecordsSince
// returns: a full answer means more may follow.
const MaxLedgerRecords = maxRecords

// AllianceRecordsSince reads, in one request with key (a key of a member
// who may see the bank), the alliance's bank records with an id of at least
// bankMin and tax records of at least taxMin, oldest first, at most
// MaxLedgerRecords of each. The game keeps 14 days of them. Never cached:
// the ledger stores what it reads.
func (c *Client) AllianceRecordsSince(ctx context.Context, key string, allianceID, bankMin, taxMin int) (LedgerRecords, error) {
	s := spec{op: "allianceLedger", query: allianceLedger_Operation}
	start := time.Now()
	ctx, tr := withTrace(ctx)
	recs, err := c.recordsSince(ctx, key, allianceID, bankMin, taxMin)
	c.finish(ctx, s, tr, start, outcome(err), err, false)
	return recs, err
}

func (c *Client) recordsSince(ctx context.Context, key string, allianceID, bankMin, taxMin int) (LedgerRecords, error) {
	resp, err := allianceLedger(ctx, keyed{c: c, key: key}, []int{allianceID}, bankMin, taxMin, MaxLedgerRecords)
	if err != nil {
		return LedgerRecords{}, err
	}
	if len(resp.Alliances.Data) == 0 {
		return LedgerRecords{}, notFound("allianceLedger", "alliance", allianceID)
	}
	a := resp.Alliances.Data[0]
	if a.Bankrecs == nil || a.Taxrecs == nil {
		return LedgerRecords{}, &Error{Kind: ErrPermission, Op: "allianceLedger", Message: "the key may not see this alliance's bank"}
	}
	return LedgerRecords{Bank: a.Bankrecs, Tax: a.Taxrecs}, nil
}

package pnw

import (
	"context"
	"errors"
	"time"
)

// ActiveWars returns the active wars of these alliances' members, read
// fresh from the game (never from the cache): the war poll's one request
// for every alliance with alerts on.
func (c *Client) ActiveWars(ctx context.Context, allianceIDs []int) ([]War, error) {
	return uncached(ctx, c, spec{op: "allianceWars", query: allianceWars_Operation}, func(ctx context.Context) ([]War, error) {
		var all []War
		for page := 1; page <= maxPages; page++ {
			resp, err := allianceWars(ctx, c.public(), allianceIDs, maxRecords, page)
			if err != nil {
				return nil, err
			}
			all = append(all, resp.Wars.Data...)
			if !resp.Wars.PaginatorInfo.HasMorePages {
				break
			}
		}
		return all, nil
	})
}

// WarsByID returns the wars with these ids, ended or not, read fresh: how
// the poll learns how a war it alerted on ended.
func (c *Client) WarsByID(ctx context.Context, ids []int) ([]War, error) {
	return uncached(ctx, c, spec{op: "warsByID", query: warsByID_Operation}, func(ctx context.Context) ([]War, error) {
		resp, err := warsByID(ctx, c.public(), ids, min(len(ids), maxRecords))
		if err != nil {
			return nil, err
		}
		return resp.Wars.Data, nil
	})
}

// uncached runs one read with the bot's key, within its budget, counted
// and logged like a cached one that missed.
func uncached[T any](ctx context.Context, c *Client, s spec, fetch func(context.Context) (T, error)) (T, error) {
	start := time.Now()
	ctx, tr := withTrace(ctx)
	var v T
	err := c.spend(ctx, s.op)
	if errors.Is(err, ErrNoAccount) {
		return v, err // nothing happened: the caller asks again
	}
	if err == nil {
		v, err = fetch(ctx)
	}
	c.finish(ctx, s, tr, start, outcome(err), err, false)
	return v, err
}

package pnw

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	maxPages        = 20 // bounds a paginated fetch: 10,000 members, 20,000 wars
	defaultRecords  = 50
	maxRecords      = 1000
	maxSearchResult = 50
)

// public is a genqlient client with the bot's own key.
func (c *Client) public() keyed { return keyed{c: c, key: c.apiKey} }

// Me checks key: its permissions, its daily usage and the nation that owns
// it (which proves ownership). Never cached; concurrent checks of one key
// share a request.
func (c *Client) Me(ctx context.Context, key string) (*KeyInfo, error) {
	s := spec{op: "me", query: me_Operation}
	start := time.Now()
	ctx, tr := withTrace(ctx)
	info, err := coalesce(ctx, c, "me:"+keyID(key), func(ctx context.Context) (*KeyInfo, error) {
		resp, err := me(ctx, keyed{c: c, key: key})
		if err != nil {
			return nil, err
		}
		if resp.Me == nil || resp.Me.Nation.Id == "" {
			return nil, &Error{Kind: ErrInvalidKey, Op: "me", Message: "the key has no nation"}
		}
		c.budgets.report(keyID(key), resp.Me.MaxRequests, resp.Me.MaxRequests-resp.Me.Requests, time.Time{}, time.Now())
		return resp.Me, nil
	})
	c.finish(ctx, s, tr, start, outcome(err), err, false)
	return info, err
}

// Nation returns one nation, looked up with the bot's key. Concurrent
// lookups of different nations are merged into one query.
func (c *Client) Nation(ctx context.Context, id int) (Result[Nation], error) {
	s := spec{op: "nationsByID", query: nationsByID_Operation, key: NationTag(id), kind: kindNation, ownKey: true}
	return cached(ctx, c, s, func(ctx context.Context) (Nation, []string, error) {
		n, err := c.nations.load(ctx, id)
		return n, nationTags(n), err
	})
}

// Nations returns the nations with these ids that exist, in order, in as few
// queries as possible. FetchedAt is the oldest of theirs; Stale is set if
// any is stale.
func (c *Client) Nations(ctx context.Context, ids []int) (Result[[]Nation], error) {
	results := make([]Result[Nation], len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { results[i], errs[i] = c.Nation(ctx, id) })
	}
	wg.Wait()
	out := Result[[]Nation]{Data: make([]Nation, 0, len(ids)), FetchedAt: time.Now()}
	for i, r := range results {
		if errors.Is(errs[i], ErrNotFound) {
			continue
		}
		if errs[i] != nil {
			return Result[[]Nation]{}, errs[i]
		}
		out.Data = append(out.Data, r.Data)
		out.Stale = out.Stale || r.Stale
		if r.FetchedAt.Before(out.FetchedAt) {
			out.FetchedAt = r.FetchedAt
		}
	}
	return out, nil
}

// NationsByName returns the nations named name (at most 50). Search terms
// are user input of any length, so cache keys hold their hash.
func (c *Client) NationsByName(ctx context.Context, name string) (Result[[]Nation], error) {
	name = strings.TrimSpace(name)
	s := spec{op: "nationsByName", query: nationsByName_Operation, key: "nations:name:" + queryHash(strings.ToLower(name)), kind: kindNation, search: true, ownKey: true}
	return cached(ctx, c, s, func(ctx context.Context) ([]Nation, []string, error) {
		resp, err := nationsByName(ctx, c.public(), []string{name}, maxSearchResult)
		if err != nil {
			return nil, nil, err
		}
		return c.warmNations(ctx, resp.Nations.Data)
	})
}

// NationsByDiscordID returns the nations whose profile names this Discord
// user id. The game does not verify it: it is a claim, not a proof.
func (c *Client) NationsByDiscordID(ctx context.Context, discordID string) (Result[[]Nation], error) {
	s := spec{op: "nationsByDiscordID", query: nationsByDiscordID_Operation, key: "nations:discord:" + discordID, kind: kindNation, ownKey: true}
	return cached(ctx, c, s, func(ctx context.Context) ([]Nation, []string, error) {
		resp, err := nationsByDiscordID(ctx, c.public(), []string{discordID}, maxSearchResult)
		if err != nil {
			return nil, nil, err
		}
		return c.warmNations(ctx, resp.Nations.Data)
	})
}

// warmNations caches each nation of a search result on its own, so a card
// opened from the result costs nothing, and returns the result's tags.
func (c *Client) warmNations(ctx context.Context, ns []Nation) ([]Nation, []string, error) {
	var tags []string
	now := time.Now()
	for _, n := range ns {
		nt := nationTags(n)
		c.cacheSet(ctx, cacheVersion+"nation:"+n.Id, n, now, c.ttl(ctx, kindNation), nt)
		tags = append(tags, nt...)
	}
	return ns, tags, nil
}

func nationTags(n Nation) []string {
	tags := []string{"nation:" + n.Id}
	if n.AllianceId != "" && n.AllianceId != "0" {
		tags = append(tags, "alliance:"+n.AllianceId)
	}
	return tags
}

// Alliance returns one alliance.
func (c *Client) Alliance(ctx context.Context, id int) (Result[Alliance], error) {
	s := spec{op: "alliancesByID", query: alliancesByID_Operation, key: AllianceTag(id), kind: kindAlliance, ownKey: true}
	return cached(ctx, c, s, func(ctx context.Context) (Alliance, []string, error) {
		resp, err := alliancesByID(ctx, c.public(), []int{id}, 1)
		if err != nil {
			return Alliance{}, nil, err
		}
		if len(resp.Alliances.Data) == 0 {
			return Alliance{}, nil, notFound("alliancesByID", "alliance", id)
		}
		return resp.Alliances.Data[0], []string{AllianceTag(id)}, nil
	})
}

// AlliancesByName returns the alliances named name (at most 50).
func (c *Client) AlliancesByName(ctx context.Context, name string) (Result[[]Alliance], error) {
	name = strings.TrimSpace(name)
	s := spec{op: "alliancesByName", query: alliancesByName_Operation, key: "alliances:name:" + queryHash(strings.ToLower(name)), kind: kindAlliance, search: true, ownKey: true}
	return cached(ctx, c, s, func(ctx context.Context) ([]Alliance, []string, error) {
		resp, err := alliancesByName(ctx, c.public(), []string{name}, maxSearchResult)
		if err != nil {
			return nil, nil, err
		}
		var tags []string
		for _, a := range resp.Alliances.Data {
			tags = append(tags, "alliance:"+a.Id)
		}
		return resp.Alliances.Data, tags, nil
	})
}

// MemberCount counts the alliance's nations that are not applicants.
func (a *Alliance) MemberCount() int {
	n := 0
	for _, m := range a.Nations {
		if m.AlliancePosition.IsMember() {
			n++
		}
	}
	return n
}

// AllianceMembers returns every nation in the alliance, applicants included,
// fetching every page.
func (c *Client) AllianceMembers(ctx context.Context, allianceID int) (Result[[]Nation], error) {
	s := spec{op: "allianceMembers", query: allianceMembers_Operation, key: "members:" + strconv.Itoa(allianceID), kind: kindMembers, ownKey: true}
	return cached(ctx, c, s, func(ctx context.Context) ([]Nation, []string, error) {
		var all []Nation
		for page := 1; page <= maxPages; page++ {
			resp, err := allianceMembers(ctx, c.public(), []int{allianceID}, maxNationsPerQuery, page)
			if err != nil {
				return nil, nil, err
			}
			all = append(all, resp.Nations.Data...)
			if !resp.Nations.PaginatorInfo.HasMorePages {
				break
			}
		}
		return all, []string{AllianceTag(allianceID)}, nil
	})
}

// AllianceWars returns the active wars of the alliance's members.
func (c *Client) AllianceWars(ctx context.Context, allianceID int) (Result[[]War], error) {
	s := spec{op: "allianceWars", query: allianceWars_Operation, key: "wars:" + strconv.Itoa(allianceID), kind: kindWars, ownKey: true}
	return cached(ctx, c, s, func(ctx context.Context) ([]War, []string, error) {
		var all []War
		for page := 1; page <= maxPages; page++ {
			resp, err := allianceWars(ctx, c.public(), []int{allianceID}, maxRecords, page)
			if err != nil {
				return nil, nil, err
			}
			all = append(all, resp.Wars.Data...)
			if !resp.Wars.PaginatorInfo.HasMorePages {
				break
			}
		}
		return all, []string{AllianceTag(allianceID)}, nil
	})
}

// AllianceBank returns the alliance's bank holdings, read with key (a key of
// an officer who may see the bank). Cached per key, never shared with
// another key.
func (c *Client) AllianceBank(ctx context.Context, key string, allianceID int) (Result[AllianceBank], error) {
	s := spec{op: "allianceBank", query: allianceBank_Operation, key: privateKey("bank", allianceID, key), kind: kindBank}
	return cached(ctx, c, s, func(ctx context.Context) (AllianceBank, []string, error) {
		resp, err := allianceBank(ctx, keyed{c: c, key: key}, []int{allianceID})
		if err != nil {
			return AllianceBank{}, nil, err
		}
		if len(resp.Alliances.Data) == 0 {
			return AllianceBank{}, nil, notFound(s.op, "alliance", allianceID)
		}
		a := resp.Alliances.Data[0]
		if a.Visible == nil {
			return AllianceBank{}, nil, &Error{Kind: ErrPermission, Op: s.op, Message: "the key may not see this alliance's bank"}
		}
		return a.AllianceBank, []string{AllianceTag(allianceID)}, nil
	})
}

// AllianceBankRecords returns the alliance's latest bank records (last 14
// days; limit 0 means 50, at most 1000), read with key. Cached per key.
func (c *Client) AllianceBankRecords(ctx context.Context, key string, allianceID, limit int) (Result[[]Bankrec], error) {
	limit = recordLimit(limit)
	s := spec{op: "allianceBankrecs", query: allianceBankrecs_Operation, key: privateKey("bankrecs:"+strconv.Itoa(limit), allianceID, key), kind: kindBank}
	return cached(ctx, c, s, func(ctx context.Context) ([]Bankrec, []string, error) {
		resp, err := allianceBankrecs(ctx, keyed{c: c, key: key}, []int{allianceID}, limit)
		if err != nil {
			return nil, nil, err
		}
		if len(resp.Alliances.Data) == 0 {
			return nil, nil, notFound(s.op, "alliance", allianceID)
		}
		recs := resp.Alliances.Data[0].Bankrecs
		if recs == nil {
			return nil, nil, &Error{Kind: ErrPermission, Op: s.op, Message: "the key may not see this alliance's bank"}
		}
		return recs, []string{AllianceTag(allianceID)}, nil
	})
}

// AllianceTaxRecords returns the alliance's latest tax records (last 14
// days; limit as for AllianceBankRecords), read with key. Cached per key.
func (c *Client) AllianceTaxRecords(ctx context.Context, key string, allianceID, limit int) (Result[[]Bankrec], error) {
	limit = recordLimit(limit)
	s := spec{op: "allianceTaxrecs", query: allianceTaxrecs_Operation, key: privateKey("taxrecs:"+strconv.Itoa(limit), allianceID, key), kind: kindBank}
	return cached(ctx, c, s, func(ctx context.Context) ([]Bankrec, []string, error) {
		resp, err := allianceTaxrecs(ctx, keyed{c: c, key: key}, []int{allianceID}, limit)
		if err != nil {
			return nil, nil, err
		}
		if len(resp.Alliances.Data) == 0 {
			return nil, nil, notFound(s.op, "alliance", allianceID)
		}
		recs := resp.Alliances.Data[0].Taxrecs
		if recs == nil {
			return nil, nil, &Error{Kind: ErrPermission, Op: s.op, Message: "the key may not see this alliance's tax records"}
		}
		return recs, []string{AllianceTag(allianceID)}, nil
	})
}

// AllianceTrades returns the latest trades of the alliance's members
// (limit as for AllianceBankRecords), read with key. Cached per key.
func (c *Client) AllianceTrades(ctx context.Context, key string, allianceID, limit int) (Result[[]Trade], error) {
	limit = recordLimit(limit)
	s := spec{op: "tradesByNations", query: tradesByNations_Operation, key: privateKey("trades:"+strconv.Itoa(limit), allianceID, key), kind: kindTrades}
	return cached(ctx, c, s, func(ctx context.Context) ([]Trade, []string, error) {
		members, err := c.AllianceMembers(ctx, allianceID)
		if err != nil {
			return nil, nil, err
		}
		if len(members.Data) == 0 {
			return []Trade{}, []string{AllianceTag(allianceID)}, nil
		}
		ids := make([]int, 0, len(members.Data))
		for _, m := range members.Data {
			if id, err := strconv.Atoi(m.Id); err == nil {
				ids = append(ids, id)
			}
		}
		resp, err := tradesByNations(ctx, keyed{c: c, key: key}, ids, limit)
		if err != nil {
			return nil, nil, err
		}
		return resp.Trades.Data, []string{AllianceTag(allianceID)}, nil
	})
}

// TradePrices returns the live market: average price and best offers per
// resource.
func (c *Client) TradePrices(ctx context.Context) (Result[TradePrices], error) {
	s := spec{op: "tradePrices", query: tradePrices_Operation, key: "tradeprices", kind: kindPrices, ownKey: true}
	return cached(ctx, c, s, func(ctx context.Context) (TradePrices, []string, error) {
		resp, err := tradePrices(ctx, c.public())
		if err != nil {
			return TradePrices{}, nil, err
		}
		return resp.TopTradeInfo, nil, nil
	})
}

// Receiver types of a withdrawal.
const (
	ReceiverNation   = 1
	ReceiverAlliance = 2
)

// Withdrawal moves money and resources out of the alliance bank of the key's
// owner.
type Withdrawal struct {
	ReceiverID   int
	ReceiverType int // ReceiverNation or ReceiverAlliance
	Amounts      Amounts
	Note         string
}

// BankWithdraw executes w with key (X-Api-Key) and the bot key (X-Bot-Key).
// It is sent at most once (retried only after a 429, which the game did not
// execute): on ErrGameDown the outcome is unknown, so check the bank records
// before trying again. Cached data of the alliances and nation involved is
// invalidated.
func (c *Client) BankWithdraw(ctx context.Context, key string, w Withdrawal) (*Bankrec, error) {
	s := spec{op: "bankWithdraw", query: bankWithdraw_Operation}
	start := time.Now()
	ctx, tr := withTrace(ctx)
	rec, err := c.withdraw(ctx, key, w)
	c.finish(ctx, s, tr, start, outcome(err), err, false)
	return rec, err
}

func (c *Client) withdraw(ctx context.Context, key string, w Withdrawal) (*Bankrec, error) {
	var total float64
	for _, a := range w.Amounts {
		if a < 0 {
			return nil, &Error{Kind: ErrInvalidQuery, Op: "bankWithdraw", Message: "negative amount"}
		}
		total += a
	}
	if total == 0 || w.ReceiverID <= 0 || (w.ReceiverType != ReceiverNation && w.ReceiverType != ReceiverAlliance) {
		return nil, &Error{Kind: ErrInvalidQuery, Op: "bankWithdraw", Message: "no amount or no receiver"}
	}
	resp, err := bankWithdraw(ctx, keyed{c: c, key: key, mutation: true}, strconv.Itoa(w.ReceiverID), w.ReceiverType,
		w.Amounts[Money], w.Amounts[Coal], w.Amounts[Oil], w.Amounts[Uranium], w.Amounts[Iron], w.Amounts[Bauxite], w.Amounts[Lead],
		w.Amounts[Gasoline], w.Amounts[Munitions], w.Amounts[Steel], w.Amounts[Aluminum], w.Amounts[Food], w.Note)
	if err != nil {
		return nil, err
	}
	rec := resp.BankWithdraw
	tags := []string{"alliance:" + rec.SenderId, "nation:" + rec.BankerId}
	if w.ReceiverType == ReceiverNation {
		tags = append(tags, NationTag(w.ReceiverID))
	} else {
		tags = append(tags, AllianceTag(w.ReceiverID))
	}
	c.invalidate(ctx, tags...)
	return &rec, nil
}

// privateKey scopes a cache key to an alliance and a key, so data read with
// one key is never served to another.
func privateKey(kind string, allianceID int, key string) string {
	return kind + ":" + strconv.Itoa(allianceID) + ":key:" + keyID(key)
}

func recordLimit(limit int) int {
	if limit <= 0 {
		return defaultRecords
	}
	return min(limit, maxRecords)
}

func notFound(op, what string, id int) error {
	return &Error{Kind: ErrNotFound, Op: op, Message: fmt.Sprintf("%s %d", what, id)}
}

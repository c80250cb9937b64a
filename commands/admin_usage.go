package commands

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/store"
)

// keyDailyBudget is the game's daily request budget of a standard key,
// for estimates before the game reports the real one.
const keyDailyBudget = 2000

// usageTop is how many rows each ranking shows.
const usageTop = 5

// adminUsage shows how the game's API was used over the last days, with a
// chart of lookups per day.
func (d *Deps) adminUsage(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Days int `discord:"days"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	ctx = store.ForReport(ctx)
	if o.Days == 0 {
		o.Days = 7
	}
	if o.Days < 1 || o.Days > 90 {
		return nil, bot.UserError("Give 1 to 90 days (the usage log keeps 90).")
	}
	now := d.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, 1-o.Days)
	days, err := d.Store.AdminUsageDaily(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("usage per day: %w", err)
	}
	slowest, err := d.Store.AdminUsageSlowest(ctx, store.AdminUsageSlowestParams{Since: since, RowLimit: usageTop})
	if err != nil {
		return nil, fmt.Errorf("slowest: %w", err)
	}
	users, err := d.Store.AdminUsageTopUsers(ctx, store.AdminUsageTopUsersParams{Since: since, RowLimit: usageTop})
	if err != nil {
		return nil, fmt.Errorf("top users: %w", err)
	}
	alliances, err := d.Store.AdminUsageTopAlliances(ctx, store.AdminUsageTopAlliancesParams{Since: since, RowLimit: usageTop})
	if err != nil {
		return nil, fmt.Errorf("top alliances: %w", err)
	}
	keys, err := d.Store.AdminUsageByAlliance(ctx, store.AdminUsageByAllianceParams{Since: today, RowLimit: usageTop + 1})
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	days = allDays(days, since, today)

	e := &discordgo.MessageEmbed{Title: fmt.Sprintf("Game API usage, last %d days", o.Days), Color: colorDefault}
	field := func(name string, lines []string) {
		if len(lines) == 0 {
			lines = []string{"None."}
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: name, Value: fieldValue(strings.Join(lines, "\n"))})
	}
	var perDay []string
	var sent, hits int64
	for _, d := range days {
		sent, hits = sent+d.Upstream, hits+d.Cached
		perDay = append(perDay, fmt.Sprintf("%s: %s sent · %s from cache", d.Day.Format("Jan 2"), number(int(d.Upstream)), number(int(d.Cached))))
	}
	field("Lookups per day", perDay[max(0, len(perDay)-14):])
	ratio := "no lookups"
	if sent+hits > 0 {
		ratio = fmt.Sprintf("%.1f%% of %s lookups", 100*float64(hits)/float64(sent+hits), number(int(sent+hits)))
	}
	field("Cache hit ratio", []string{ratio})
	var lines []string
	for _, s := range slowest {
		lines = append(lines, fmt.Sprintf("`%s`: p95 %.0f ms · avg %.0f ms · max %d ms · %s calls", s.Endpoint, s.P95Ms, s.AvgMs, s.MaxMs, number(int(s.Calls))))
	}
	field("Slowest operations at the game", lines)
	lines = nil
	for _, u := range users {
		lines = append(lines, fmt.Sprintf("<@%s>: %s sent · %s lookups", u.DiscordID, number(int(u.Upstream)), number(int(u.Calls))))
	}
	field("Top users", lines)
	lines = nil
	for _, a := range alliances {
		lines = append(lines, fmt.Sprintf("%s: %s sent · %s lookups", a.Name, number(int(a.Upstream)), number(int(a.Calls))))
	}
	field("Top alliances", lines)
	field("Daily budget left", budgetLines(d.Game.KeyBudgets(), keys))

	png, err := usageChart(days)
	if err != nil {
		return nil, err
	}
	e.Image = &discordgo.MessageEmbedImage{URL: "attachment://usage.png"}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e},
		Files: []*discordgo.File{{Name: "usage.png", ContentType: "image/png", Reader: bytes.NewReader(png)}}}, nil
}

// budgetLines says how much of each key's daily budget is left: as the game
// last reported it, or, for the bot's key before any report, as the usage
// log counts today's requests. Keys are named by their id, never shown.
func budgetLines(budgets []pnw.KeyBudget, today []store.AdminUsageByAllianceRow) []string {
	var lines []string
	own := false
	for _, b := range budgets {
		name := "Key " + b.KeyID
		if b.Own {
			name, own = "Bot's key (PNW_API_KEY)", true
		}
		lines = append(lines, fmt.Sprintf("%s: %s left of %s, until <t:%d:t>", name, number(b.Remaining), number(b.Limit), b.Reset.Unix()))
	}
	for _, k := range today {
		switch {
		case k.AllianceName != nil:
			lines = append(lines, fmt.Sprintf("%s's manager keys: %s sent today", *k.AllianceName, number(int(k.Upstream))))
		case !own:
			lines = append([]string{fmt.Sprintf("Bot's key (PNW_API_KEY): about %s left of %s (from the usage log; the game has not reported yet)",
				number(max(keyDailyBudget-int(k.Upstream), 0)), number(keyDailyBudget))}, lines...)
			own = true
		}
	}
	return lines
}

// allDays fills the days without lookups between since and last with zeros.
func allDays(rows []store.AdminUsageDailyRow, since, last time.Time) []store.AdminUsageDailyRow {
	byDay := map[time.Time]store.AdminUsageDailyRow{}
	for _, r := range rows {
		byDay[r.Day.UTC()] = r
	}
	var out []store.AdminUsageDailyRow
	for day := since; !day.After(last); day = day.AddDate(0, 0, 1) {
		r, ok := byDay[day]
		if !ok {
			r = store.AdminUsageDailyRow{Day: day}
		}
		out = append(out, r)
	}
	return out
}

// Cache.

var tagPattern = regexp.MustCompile(`^(nation|alliance):[1-9][0-9]{0,18}$`)

// adminCacheStats shows the cache's effect per operation over a day.
func (d *Deps) adminCacheStats(ctx context.Context, req *call) (*bot.Response, error) {
	rows, err := d.Store.APIUsageLogSummary(store.ForReport(ctx), store.APIUsageLogSummaryParams{Since: d.Now().Add(-24 * time.Hour)})
	if err != nil {
		return nil, fmt.Errorf("cache stats: %w", err)
	}
	var lines []string
	var calls, hits int64
	for _, r := range rows {
		calls, hits = calls+r.Calls, hits+r.CacheHits
		lines = append(lines, fmt.Sprintf("`%s`: %s lookups · %.0f%% from cache · %s errors", r.Endpoint, number(int(r.Calls)),
			100*float64(r.CacheHits)/float64(max(r.Calls, 1)), number(int(r.Errors))))
	}
	if len(lines) == 0 {
		lines = []string{"No lookups in the last 24 hours."}
	}
	e := &discordgo.MessageEmbed{Title: "Cache, last 24 hours", Color: colorDefault, Description: truncate(strings.Join(lines, "\n"), 4096),
		Footer: &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("%.1f%% of %s lookups served from the cache · /admin cache invalidate tag drops entries",
			100*float64(hits)/float64(max(calls, 1)), number(int(calls)))}}
	return &bot.Response{Embeds: []*discordgo.MessageEmbed{e}}, nil
}

// adminCacheInvalidate drops every cache entry with a tag: nation:ID or
// alliance:ID.
func (d *Deps) adminCacheInvalidate(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Tag string `discord:"tag"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	u := req.Account
	tag := strings.ToLower(strings.TrimSpace(o.Tag))
	if !tagPattern.MatchString(tag) {
		return nil, bot.UserError("A tag is `nation:ID` or `alliance:ID` with the game's id, such as `alliance:7452`. Nothing was changed.")
	}
	if err := d.Game.InvalidateTag(ctx, tag); err != nil {
		return nil, fmt.Errorf("invalidate %s: %w", tag, err)
	}
	d.audit(ctx, audit.Entry{User: &u.ID, Action: "cache.invalidate", Resource: "cache_tag", ResourceID: tag})
	return &bot.Response{Content: fmt.Sprintf("Cache entries tagged `%s` are gone: the next lookup asks the game.", tag)}, nil
}

package commands

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/bank"
	"pnwbot/bot"
	"pnwbot/pnw"
)

// Views read the game's data from the cache (fetching it when missing or
// old) on every page, so a page is always a fresh read, checked like the
// command.
const (
	routeMembersPage = "alliance/members/{owner}/{page}/{sort}/{filter}"
	routeHistoryPage = "alliance/bank-history/{owner}/{page}/{nation}/{limit}"
	routeTaxesPage   = "alliance/taxes/{owner}/{page}/{limit}"
	routeWarsPage    = "alliance/wars/{owner}/{page}/{nation}"
	routeTradesPage  = "alliance/trades/{owner}/{page}/{limit}"

	viewPageSize = 10
)

// page cuts items to page n (from 0) and says whether more follow.
func page[T any](items []T, n int) ([]T, bool) {
	start := min(n*viewPageSize, len(items))
	end := min(start+viewPageSize, len(items))
	return items[start:end], end < len(items)
}

func pageFooter(e *discordgo.MessageEmbed, n, total int) {
	pages := max((total+viewPageSize-1)/viewPageSize, 1)
	text := fmt.Sprintf("Page %d of %d · %d in all", n+1, pages, total)
	if e.Footer != nil {
		text += " · " + e.Footer.Text
	}
	e.Footer = &discordgo.MessageEmbedFooter{Text: text}
}

// view turns a slash command into page 0 of a view, and a Previous/Next
// button into the page it names.
func view(render func(ctx context.Context, req *call, page int, args []string) (*bot.Response, error), names ...string) (slash, turn handler) {
	slash = func(ctx context.Context, req *call) (*bot.Response, error) {
		return render(ctx, req, 0, nil)
	}
	turn = func(ctx context.Context, req *call) (*bot.Response, error) {
		n, err := turnPage(req)
		if err != nil {
			return nil, err
		}
		args := make([]string, len(names))
		for i, name := range names {
			args[i] = req.Var(name)
		}
		resp, err := render(ctx, req, n, args)
		return asPageTurn(resp), err
	}
	return slash, turn
}

// Members.

// The sorts and filters take pointers into the cached member list: a
// nation is a large struct, and copying hundreds of them per view cost
// more than the rest of it.
var memberSorts = map[string]func(a, b *pnw.Nation) int{
	"score":       func(a, b *pnw.Nation) int { return cmp.Compare(b.Score, a.Score) },
	"cities":      func(a, b *pnw.Nation) int { return cmp.Compare(b.NumCities, a.NumCities) },
	"last_active": func(a, b *pnw.Nation) int { return strings.Compare(lastActive(b), lastActive(a)) },
}

var memberFilters = map[string]func(n *pnw.Nation) bool{
	"all":        func(*pnw.Nation) bool { return true },
	"members":    func(n *pnw.Nation) bool { return n.AlliancePosition.IsMember() },
	"applicants": func(n *pnw.Nation) bool { return !n.AlliancePosition.IsMember() },
	"vacation":   func(n *pnw.Nation) bool { return n.VacationModeTurns > 0 },
}

func lastActive(n *pnw.Nation) string {
	t, err := pnw.ParseTime(n.LastActive)
	if err != nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

func (d *Deps) membersView(ctx context.Context, req *call, n int, args []string) (*bot.Response, error) {
	sortBy, filter := "score", "all"
	if args == nil {
		var o struct {
			Sort   string `discord:"sort"`
			Filter string `discord:"filter"`
		}
		if err := req.Options(&o); err != nil {
			return nil, err
		}
		sortBy, filter = cmp.Or(o.Sort, sortBy), cmp.Or(o.Filter, filter)
	} else {
		sortBy, filter = args[0], args[1]
	}
	less, okSort := memberSorts[sortBy]
	keep, okFilter := memberFilters[filter]
	if !okSort || !okFilter {
		return nil, bot.UserError("Unknown sort or filter: pick one from the list.")
	}
	a := req.Alliance
	r, err := d.Game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err != nil {
		return nil, gameError(err, "")
	}
	members := make([]*pnw.Nation, 0, len(r.Data))
	for i := range r.Data {
		if keep(&r.Data[i]) {
			members = append(members, &r.Data[i])
		}
	}
	slices.SortStableFunc(members, less)
	shown, more := page(members, n)
	linked, err := d.linkedUsers(ctx, shown)
	if err != nil {
		return nil, err
	}
	e := &discordgo.MessageEmbed{Title: truncate(fmt.Sprintf("Members of %s", a.Name), 256), Color: colorDefault,
		Description: fmt.Sprintf("Sorted by %s · %s", strings.ReplaceAll(sortBy, "_", " "), filter)}
	for _, m := range shown {
		name := fmt.Sprintf("%s · %s", m.NationName, capitalize(string(m.AlliancePosition)))
		var marks []string
		if !m.AlliancePosition.IsMember() {
			marks = append(marks, "📝 applicant")
		}
		if m.VacationModeTurns > 0 {
			marks = append(marks, "🏖️ vacation mode")
		}
		value := fmt.Sprintf("[%s](%s) · score %s · %d cities · %s · active %s\n🪖 %s · %s tanks · ✈️ %s · 🚢 %s",
			m.LeaderName, nationURL(m.Id), strconv.FormatFloat(m.Score, 'f', 2, 64), m.NumCities, capitalize(m.Color), relative(m.LastActive),
			number(m.Soldiers), number(m.Tanks), number(m.Aircraft), number(m.Ships))
		if id, ok := linked[m.Id]; ok {
			value += " · <@" + id + ">"
		}
		if len(marks) > 0 {
			value += "\n" + strings.Join(marks, " · ")
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: truncate(name, 256), Value: fieldValue(value)})
	}
	staleNote(e, r)
	pageFooter(e, n, len(members))
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e},
		Components: pager(routeMembersPage, req.User.ID, n, more, sortBy, filter)}, nil
}

// linkedUsers maps the nations shown that a pnwbot user linked to their
// Discord id: one query a page.
func (d *Deps) linkedUsers(ctx context.Context, nations []*pnw.Nation) (map[string]string, error) {
	ids := make([]int64, 0, len(nations))
	for _, n := range nations {
		if id, err := strconv.ParseInt(n.Id, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	rows, err := d.Store.UserListByNationIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("linked users: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[strconv.FormatInt(*r.PnwNationID, 10)] = r.DiscordID
	}
	return out, nil
}

// Bank.

func (d *Deps) allianceBank(ctx context.Context, req *call) (*bot.Response, error) {
	a := req.Alliance
	holdings, err := d.Bank.Holdings(ctx, a)
	if err != nil {
		return nil, domainError(err, "")
	}
	prices, err := d.Bank.Prices(ctx)
	if err != nil {
		d.Logger.WarnContext(ctx, "bank: trade prices", "error", err)
		prices = bank.Prices{pnw.Money: 1}
	}
	e := &discordgo.MessageEmbed{Title: truncate("Bank of "+a.Name, 256), Color: colorDefault}
	held := holdings.Data.Amounts()
	for _, r := range pnw.Resources {
		value := bank.Format(held[r])
		if p, ok := prices[r]; ok && r != pnw.Money {
			value += " · $" + bank.Format(held[r]*p)
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: capitalize(r.String()), Value: value, Inline: true})
	}
	total, _ := prices.Worth(held) // what has no price counts at nothing
	e.Description = fmt.Sprintf("Worth **$%s** in all at average trade prices.", bank.Format(total))
	staleNote(e, holdings)
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}}, nil
}

// Bank and tax records.

func (d *Deps) historyView(ctx context.Context, req *call, n int, args []string) (*bot.Response, error) {
	nation, limit := none, "50"
	if args == nil {
		var o struct {
			Nation string `discord:"nation"`
			Limit  int    `discord:"limit"`
		}
		if err := req.Options(&o); err != nil {
			return nil, err
		}
		if q := strings.TrimSpace(o.Nation); q != "" {
			id, err := d.nationNames().resolve(ctx, q)
			if err != nil {
				return nil, err
			}
			nation = strconv.Itoa(id)
		}
		if o.Limit > 0 {
			limit = strconv.Itoa(o.Limit)
		}
	} else {
		nation, limit = args[0], args[1]
	}
	return d.recordsView(ctx, req, n, false, nation, limit)
}

func (d *Deps) taxesView(ctx context.Context, req *call, n int, args []string) (*bot.Response, error) {
	limit := "50"
	if args == nil {
		var o struct {
			Limit int `discord:"limit"`
		}
		if err := req.Options(&o); err != nil {
			return nil, err
		}
		if o.Limit > 0 {
			limit = strconv.Itoa(o.Limit)
		}
	} else {
		limit = args[0]
	}
	return d.recordsView(ctx, req, n, true, none, limit)
}

// recordsView lists bank (or tax) records, newest first, optionally those
// of one nation, with their totals for the alliance.
func (d *Deps) recordsView(ctx context.Context, req *call, n int, tax bool, nation, limitArg string) (*bot.Response, error) {
	limit, err := strconv.Atoi(limitArg)
	if err != nil || limit < 1 || limit > 1000 {
		return nil, bot.UserError("The limit is a number of records from 1 to 1000.")
	}
	a := req.Alliance
	var recs pnw.Result[[]pnw.Bankrec]
	err = d.GameKeys.WithAllianceKey(ctx, a, true, func(key string) error {
		if tax {
			recs, err = d.Game.AllianceTaxRecords(ctx, key, int(a.PnwAllianceID), limit)
		} else {
			recs, err = d.Game.AllianceBankRecords(ctx, key, int(a.PnwAllianceID), limit)
		}
		return err
	})
	if err != nil {
		return nil, domainError(err, "")
	}
	ours := strconv.FormatInt(a.PnwAllianceID, 10)
	var shown []pnw.Bankrec
	for _, r := range recs.Data {
		if nation == none || r.SenderType == pnw.ReceiverNation && r.SenderId == nation || r.ReceiverType == pnw.ReceiverNation && r.ReceiverId == nation {
			shown = append(shown, r)
		}
	}
	var totals pnw.Amounts
	for _, r := range shown {
		sign := -1.0 // out of the alliance's bank
		if r.ReceiverType == pnw.ReceiverAlliance && r.ReceiverId == ours {
			sign = 1
		}
		for res, v := range r.Amounts() {
			totals[res] += sign * v
		}
	}
	title, route, args := "Bank records of "+a.Name, routeHistoryPage, []string{nation, limitArg}
	if tax {
		title, route, args = "Tax records of "+a.Name, routeTaxesPage, []string{limitArg}
	}
	e := &discordgo.MessageEmbed{Title: truncate(title, 256), Color: colorDefault,
		Description: "Net for the alliance: " + cmp.Or(bank.Text(totals, true), "nothing") + "."}
	if nation != none {
		e.Description = fmt.Sprintf("Of [nation %s](%s). ", nation, nationURL(nation)) + e.Description
	}
	rows, more := page(shown, n)
	for _, r := range rows {
		value := fmt.Sprintf("%s → %s · %s", party(r.SenderType, r.SenderId), party(r.ReceiverType, r.ReceiverId),
			cmp.Or(bank.Text(r.Amounts(), false), "nothing"))
		if r.Note != "" {
			value += "\n" + truncate(r.Note, 200)
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: fmt.Sprintf("#%s · %s", r.Id, r.Date), Value: fieldValue(value)})
	}
	staleNote(e, recs)
	pageFooter(e, n, len(shown))
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}, Components: pager(route, req.User.ID, n, more, args...)}, nil
}

func party(typ int, id string) string {
	if typ == pnw.ReceiverAlliance {
		return fmt.Sprintf("[alliance %s](%s)", id, allianceURL(id))
	}
	return fmt.Sprintf("[nation %s](%s)", id, nationURL(id))
}

// Wars.

// viewNation is the nation a view is narrowed to: the command's nation
// option, then the page's variable on its buttons; none when neither names
// one.
func (d *Deps) viewNation(ctx context.Context, req *call, args []string) (string, error) {
	if args != nil {
		return args[0], nil
	}
	var o struct {
		Nation string `discord:"nation"`
	}
	if err := req.Options(&o); err != nil {
		return "", err
	}
	q := strings.TrimSpace(o.Nation)
	if q == "" {
		return none, nil
	}
	id, err := d.nationNames().resolve(ctx, q)
	if err != nil {
		return "", err
	}
	return strconv.Itoa(id), nil
}

// warsView serves /alliance wars and /war list: the alliance's active
// wars, or one nation's (the nation option, then the page's variable).
func (d *Deps) warsView(ctx context.Context, req *call, n int, args []string) (*bot.Response, error) {
	nation, err := d.viewNation(ctx, req, args)
	if err != nil {
		return nil, err
	}
	a := req.Alliance
	all, err := d.Game.AllianceWars(ctx, int(a.PnwAllianceID))
	if err != nil {
		return nil, gameError(err, "")
	}
	title := "Active wars of " + a.Name
	wars := all.Data
	if nation != none {
		wars = nil
		for _, w := range all.Data {
			if w.AttId == nation || w.DefId == nation {
				wars = append(wars, w)
				title = "Active wars of " + w.Attacker.NationName
				if w.DefId == nation {
					title = "Active wars of " + w.Defender.NationName
				}
			}
		}
		if len(wars) == 0 {
			title = fmt.Sprintf("Nation %s has no active war with %s", nation, a.Name)
		}
	}
	ours := strconv.FormatInt(a.PnwAllianceID, 10)
	offensive := 0
	for _, w := range wars {
		if w.AttAllianceId == ours {
			offensive++
		}
	}
	e := &discordgo.MessageEmbed{Title: truncate(title, 256), Color: colorDanger,
		Description: fmt.Sprintf("%d offensive · %d defensive", offensive, len(wars)-offensive)}
	rows, more := page(wars, n)
	for _, w := range rows {
		side := "🛡️ defensive"
		if w.AttAllianceId == ours {
			side = "⚔️ offensive"
		}
		winning := "even"
		switch {
		case w.AttResistance > w.DefResistance:
			winning = w.Attacker.NationName + " is winning"
		case w.DefResistance > w.AttResistance:
			winning = w.Defender.NationName + " is winning"
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{
			Name: truncate(fmt.Sprintf("%s vs %s", w.Attacker.NationName, w.Defender.NationName), 256),
			Value: fieldValue(fmt.Sprintf("%s · %s war · %d turns left\nresistance %d vs %d · %s · [war %s](%s/nation/war/timeline/war=%s)",
				side, capitalize(string(w.WarType)), w.TurnsLeft, w.AttResistance, w.DefResistance, winning, w.Id, gameURL, w.Id)),
		})
	}
	staleNote(e, all)
	pageFooter(e, n, len(wars))
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}, Components: pager(routeWarsPage, req.User.ID, n, more, nation)}, nil
}

// Trades.

func (d *Deps) tradesView(ctx context.Context, req *call, n int, args []string) (*bot.Response, error) {
	limit := 50
	if args == nil {
		var o struct {
			Limit int `discord:"limit"`
		}
		if err := req.Options(&o); err != nil {
			return nil, err
		}
		limit = cmp.Or(o.Limit, limit)
	} else if l, err := strconv.Atoi(args[0]); err == nil {
		limit = l
	}
	if limit < 1 || limit > 1000 {
		return nil, bot.UserError("The limit is a number of trades from 1 to 1000.")
	}
	a := req.Alliance
	var trades pnw.Result[[]pnw.Trade]
	var err error
	err = d.GameKeys.WithAllianceKey(ctx, a, false, func(key string) error {
		trades, err = d.Game.AllianceTrades(ctx, key, int(a.PnwAllianceID), limit)
		return err
	})
	if err != nil {
		return nil, domainError(err, "")
	}
	e := &discordgo.MessageEmbed{Title: truncate("Recent trades of "+a.Name+"'s members", 256), Color: colorDefault}
	rows, more := page(trades.Data, n)
	for _, t := range rows {
		status := "open"
		if t.Accepted {
			status = "accepted " + relative(t.DateAccepted)
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{
			Name: fmt.Sprintf("#%s · %s %s %s", t.Id, t.BuyOrSell, number(t.OfferAmount), t.OfferResource),
			Value: fieldValue(fmt.Sprintf("at $%s each · %s → %s · %s · %s", number(t.Price), party(pnw.ReceiverNation, t.SenderId),
				party(pnw.ReceiverNation, t.ReceiverId), capitalize(string(t.Type)), status)),
		})
	}
	staleNote(e, trades)
	pageFooter(e, n, len(trades.Data))
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e},
		Components: pager(routeTradesPage, req.User.ID, n, more, strconv.Itoa(limit))}, nil
}

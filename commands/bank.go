package commands

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"pnwbot/access"
	"pnwbot/bank"
	"pnwbot/bot"
	"pnwbot/pnw"
	"pnwbot/store"
)

// Pages of /bank ledger and /bank loans.
const (
	routeBankLedgerPage = "bank/ledger/{owner}/{page}/{nation}"
	routeBankLoansPage  = "bank/loans/{owner}/{page}"
)

func (d *Deps) bankCommand() bot.Command {
	str := discordgo.ApplicationCommandOptionString
	nation := func(desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: str, Name: "nation", Description: desc, Autocomplete: true, MaxLength: maxNameLength}
	}
	ledgerSlash, ledgerTurn := view(d.bankLedgerView, "nation")
	loansSlash, loansTurn := view(d.bankLoansView)
	needView := access.Alliance(access.ViewBank)
	return bot.Command{
		Definition: &discordgo.ApplicationCommand{
			Name:        "bank",
			Description: "The alliance bank's ledger: what each member has in it",
			Options: append([]*discordgo.ApplicationCommandOption{
				sub("balance", "A balance in the alliance bank: yours, or a member's with canViewBank",
					nation("The nation (name or id); default yours"),
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "user", Description: "A linked Discord user's nation"}),
				sub("ledger", "The records behind a balance, newest first, with their tags", nation("The nation (name or id); default yours")),
				sub("loans", "The alliance's open loans, overdue first"),
				sub("export", "The ledger as a CSV file for a spreadsheet", nation("Only this nation's records (name or id)")),
				sub("channel", "Choose the channel where members' requests are posted for approval",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionChannel, Name: "channel", Description: "The channel",
						Required: true, ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildText}}),
			}, d.requestSubcommands()...),
		},
		Routes: d.routes(append([]route{
			{Path: "/bank/balance", Need: access.Account, Handler: d.bankBalance, Autocomplete: d.nationAutocomplete, Ephemeral: true},
			{Path: "/bank/ledger", Need: access.Account, Handler: ledgerSlash, Autocomplete: d.nationAutocomplete, Ephemeral: true},
			{Path: routeBankLedgerPage, Need: access.Account, OwnerOnly: true, Handler: ledgerTurn, Ephemeral: true},
			{Path: "/bank/loans", Need: needView, Handler: loansSlash, Ephemeral: true},
			{Path: routeBankLoansPage, Need: needView, OwnerOnly: true, Handler: loansTurn, Ephemeral: true},
			{Path: "/bank/export", Need: needView, Handler: d.bankExport, Autocomplete: d.nationAutocomplete, Ephemeral: true},
			{Path: "/bank/channel", Need: access.Alliance(access.ManageSettings), Handler: d.bankChannel, Ephemeral: true},
		}, d.requestRoutes()...)...),
	}
}

// bankNation decides whose ledger the caller may read in the server's
// alliance (set on req): their own nation's while it is a member, anyone's
// with canViewBank. nationID 0 means their own; a denial is audited.
func (d *Deps) bankNation(ctx context.Context, req *call, nationID int) (int, error) {
	a, err := d.serverAlliance(ctx, req.Request)
	if err != nil {
		return 0, err
	}
	req.Alliance = a
	own := 0
	if req.Account.PnwNationID != nil {
		own = int(*req.Account.PnwNationID)
	}
	if nationID == 0 {
		if own == 0 {
			return 0, bot.UserError("You haven't linked a nation yet: use /link to see your balance, or name a nation.")
		}
		nationID = own
	}
	if nationID == own {
		n, err := d.Game.Nation(ctx, own)
		if err != nil {
			return 0, gameError(err, "")
		}
		if pnw.InAlliance(n.Data.AllianceId, n.Data.AlliancePosition, a.PnwAllianceID) {
			return nationID, nil
		}
	}
	return nationID, d.allow(ctx, req, req.Account, access.Alliance(access.ViewBank))
}

// bankAccount is bankNation, then the nation's account and how complete
// the ledger is.
func (d *Deps) bankAccount(ctx context.Context, req *call, nationID int) (int, *bank.Account, bank.Status, error) {
	id, err := d.bankNation(ctx, req, nationID)
	if err != nil {
		return 0, nil, bank.Status{}, err
	}
	acc, err := d.Bank.Account(ctx, req.Alliance, int64(id))
	if err != nil {
		return 0, nil, bank.Status{}, err
	}
	st, err := d.Bank.Status(ctx, req.Alliance.ID)
	return id, acc, st, err
}

func (d *Deps) bankBalance(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Nation string          `discord:"nation"`
		User   *discordgo.User `discord:"user"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	var id int
	var err error
	switch q := strings.TrimSpace(o.Nation); {
	case q != "":
		id, err = d.nationNames().resolve(ctx, q)
	case o.User != nil && o.User.ID != req.User.ID:
		// Another member's balance is canViewBank's: decided before
		// anything says whether they linked a nation.
		if req.Alliance, err = d.serverAlliance(ctx, req.Request); err == nil {
			err = d.allow(ctx, req, req.Account, access.Alliance(access.ViewBank))
		}
		var n int64
		if err == nil {
			n, err = d.Access.LinkedNation(ctx, o.User.ID)
		}
		if id = int(n); errors.Is(err, access.ErrNotLinked) {
			err = bot.UserError("That user hasn't linked a nation.")
		}
	}
	if err != nil {
		return nil, err
	}
	id, acc, st, err := d.bankAccount(ctx, req, id)
	if err != nil {
		return nil, err
	}
	a := req.Alliance
	name := d.nationName(ctx, id)
	rules := bank.AllianceRules(a)
	e := &discordgo.MessageEmbed{Title: truncate(fmt.Sprintf("%s in the bank of %s", name, a.Name), 256), Color: colorDefault,
		URL: nationURL(strconv.Itoa(id))}
	e.Description = "**Balance**: " + amountsOrNothing(acc.Balance, false) +
		"\nWhat the alliance holds for this nation: deposits less withdrawals, plus tax credits and adjustments."
	now := d.Now()
	var loans []string
	for _, l := range acc.Loans {
		if !l.Open() {
			continue
		}
		line := bank.Text(l.Owed, false) + fmt.Sprintf(" (lent <t:%d:d>", l.Date.Unix())
		if !l.Due.IsZero() {
			line += ", due " + l.Due.Format("2006-01-02")
		}
		line += ")"
		if l.Overdue(now) {
			line = "⚠️ **overdue** " + line
		}
		loans = append(loans, line)
	}
	loanText := "none"
	if len(loans) > 0 {
		loanText = strings.Join(loans, "\n")
	}
	e.Fields = []*discordgo.MessageEmbedField{
		{Name: "Deposits", Value: amountsOrNothing(acc.Deposits, false), Inline: true},
		{Name: "Withdrawals", Value: amountsOrNothing(acc.Withdrawals, false), Inline: true},
		{Name: "Grants received", Value: amountsOrNothing(acc.Grants, false), Inline: true},
		{Name: "Loans owed", Value: fieldValue(loanText)},
		{Name: fmt.Sprintf("Taxes credited (%s%%)", strconv.FormatFloat(rules.TaxCreditPercent, 'f', -1, 64)), Value: amountsOrNothing(acc.Taxes, false), Inline: true},
		{Name: "Adjustments", Value: amountsOrNothing(acc.Adjustments, true), Inline: true},
	}
	var last []string
	for _, en := range slices.Backward(acc.Entries) {
		if len(last) == 5 {
			break
		}
		last = append(last, entryLine(en))
	}
	if len(last) > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Last records (/bank ledger has all)", Value: fieldValue(strings.Join(last, "\n"))})
	}
	ledgerStatus(e, st)
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}}, nil
}

// bankLedgerView pages through the records behind a balance, newest first.
func (d *Deps) bankLedgerView(ctx context.Context, req *call, n int, args []string) (*bot.Response, error) {
	id := 0
	if args == nil {
		var o struct {
			Nation string `discord:"nation"`
		}
		if err := req.Options(&o); err != nil {
			return nil, err
		}
		if q := strings.TrimSpace(o.Nation); q != "" {
			var err error
			if id, err = d.nationNames().resolve(ctx, q); err != nil {
				return nil, err
			}
		}
	} else if v, err := strconv.Atoi(args[0]); err == nil && v > 0 {
		id = v
	} else {
		return nil, bot.UserError("This page is broken: run the command again.")
	}
	id, acc, st, err := d.bankAccount(ctx, req, id)
	if err != nil {
		return nil, err
	}
	a := req.Alliance
	entries := slices.Clone(acc.Entries)
	slices.Reverse(entries)
	shown, more := page(entries, n)
	lines := make([]string, len(shown))
	for i, en := range shown {
		lines[i] = entryLine(en)
	}
	e := &discordgo.MessageEmbed{Title: truncate(fmt.Sprintf("Ledger of %s in the bank of %s", d.nationName(ctx, id), a.Name), 256), Color: colorDefault,
		Description: "No records yet."}
	if len(lines) > 0 {
		e.Description = truncate(strings.Join(lines, "\n"), 4000)
	}
	e.Fields = []*discordgo.MessageEmbedField{{Name: "Balance", Value: amountsOrNothing(acc.Balance, false)}}
	ledgerStatus(e, st)
	pageFooter(e, n, len(entries))
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e},
		Components: pager(routeBankLedgerPage, req.User.ID, n, more, strconv.Itoa(id))}, nil
}

// entryLine is one ledger record: when, what it did, how much, its note.
func entryLine(e bank.Entry) string {
	line := fmt.Sprintf("<t:%d:d> **%s**", e.Date.Unix(), e.Effect)
	switch {
	case e.Effect == bank.EffectRepayment:
		line += " " + bank.Text(e.Repaid, false)
		if !e.Credit.IsZero() {
			line += ", credited " + bank.Text(e.Credit, false)
		}
	case e.Effect == bank.EffectAdjustment || e.Effect == bank.EffectTax:
		line += " " + bank.Text(e.Credit, true)
	default:
		line += " " + bank.Text(e.Amounts, false)
	}
	if e.Kind == bank.KindTax && e.Effect == bank.EffectTax {
		line += " (of " + bank.Text(e.Amounts, false) + " taxed)"
	}
	if note := strings.TrimSpace(e.Note); note != "" {
		line += " · " + truncate(strings.ReplaceAll(note, "`", "'"), 80)
	}
	return line
}

// ledgerStatus says since when the ledger is complete, and what it may
// miss.
func ledgerStatus(e *discordgo.MessageEmbed, st bank.Status) {
	if st.LastRead.IsZero() {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Ledger", Value: "The bot has not read this alliance's bank records yet: " +
			"it needs a manager key that may see the bank (/alliance key). Records are collected every few minutes."})
		return
	}
	text := fmt.Sprintf("Complete since <t:%d:d>; last read from the game <t:%d:R>.", st.Since.Unix(), st.LastRead.Unix())
	if st.LastError != "" {
		text += "\n⚠️ The last read failed: " + truncate(st.LastError, 200)
	}
	for _, g := range st.Gaps {
		text += fmt.Sprintf("\n⚠️ Records between <t:%d:f> and <t:%d:f> may be missing: the bot did not read the bank in time "+
			"(the game keeps 14 days). A banker can correct a balance with /bank adjust.", g.GapFrom.Unix(), g.GapTo.Unix())
	}
	e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Ledger", Value: fieldValue(text)})
}

func amountsOrNothing(a pnw.Amounts, signed bool) string {
	if a.IsZero() {
		return "nothing"
	}
	return bank.Text(a, signed)
}

// nationName is the nation's name for a title, or its id when the game
// cannot say.
func (d *Deps) nationName(ctx context.Context, id int) string {
	n, err := d.Game.Nation(ctx, id)
	if err != nil {
		if !errors.Is(err, pnw.ErrNotFound) {
			d.Logger.InfoContext(ctx, "bank: nation name unknown", "nation_id", id, "error", err)
		}
		return "nation " + strconv.Itoa(id)
	}
	return n.Data.NationName
}

// bankLoansView lists the alliance's open loans: overdue first, then by
// due date (none last), then oldest.
func (d *Deps) bankLoansView(ctx context.Context, req *call, n int, _ []string) (*bot.Response, error) {
	a := req.Alliance
	accounts, err := d.Bank.Accounts(ctx, a)
	if err != nil {
		return nil, err
	}
	type open struct {
		nation int64
		bank.Loan
	}
	var loans []open
	var owed pnw.Amounts
	for id, acc := range accounts {
		for _, l := range acc.Loans {
			if l.Open() {
				loans = append(loans, open{id, l})
				owed = owed.Add(l.Owed)
			}
		}
	}
	now := d.Now()
	slices.SortFunc(loans, func(x, y open) int {
		switch {
		case x.Overdue(now) != y.Overdue(now):
			if x.Overdue(now) {
				return -1
			}
			return 1
		case x.Due.IsZero() != y.Due.IsZero():
			if y.Due.IsZero() {
				return -1
			}
			return 1
		case !x.Due.Equal(y.Due):
			return x.Due.Compare(y.Due)
		}
		return x.Date.Compare(y.Date)
	})
	names := d.memberNames(ctx, a)
	shown, more := page(loans, n)
	lines := make([]string, len(shown))
	for i, l := range shown {
		name := names[l.nation]
		if name == "" {
			name = "nation " + strconv.FormatInt(l.nation, 10)
		}
		line := fmt.Sprintf("[%s](%s): %s · lent <t:%d:d>", name, nationURL(strconv.FormatInt(l.nation, 10)), bank.Text(l.Owed, false), l.Date.Unix())
		if !l.Due.IsZero() {
			line += " · due " + l.Due.Format("2006-01-02")
		}
		if l.Overdue(now) {
			line = "⚠️ **overdue** " + line
		}
		lines[i] = line
	}
	e := &discordgo.MessageEmbed{Title: truncate("Open loans of "+a.Name, 256), Color: colorDefault, Description: "No open loans."}
	if len(lines) > 0 {
		e.Description = truncate(strings.Join(lines, "\n"), 4000)
		e.Fields = []*discordgo.MessageEmbedField{{Name: "Owed in all", Value: bank.Text(owed, false)}}
	}
	st, err := d.Bank.Status(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	ledgerStatus(e, st)
	pageFooter(e, n, len(loans))
	return &bot.Response{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}, Components: pager(routeBankLoansPage, req.User.ID, n, more)}, nil
}

// memberNames are the alliance's nations by id, from its member list (one
// cached request); empty when the game cannot say.
func (d *Deps) memberNames(ctx context.Context, a store.Alliance) map[int64]string {
	names := map[int64]string{}
	members, err := d.Game.AllianceMembers(ctx, int(a.PnwAllianceID))
	if err != nil {
		d.Logger.InfoContext(ctx, "bank: member names unknown", "alliance_id", a.ID, "error", err)
	}
	for _, m := range members.Data {
		if id, err := strconv.ParseInt(m.Id, 10, 64); err == nil {
			names[id] = m.NationName
		}
	}
	return names
}

// bankExport sends the ledger, or one nation's, as a CSV attachment.
func (d *Deps) bankExport(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Nation string `discord:"nation"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	a := req.Alliance
	accounts, err := d.Bank.Accounts(ctx, a)
	if err != nil {
		return nil, err
	}
	name := "ledger-" + a.RouteSlug
	var entries []bank.Entry
	if q := strings.TrimSpace(o.Nation); q != "" {
		id, err := d.nationNames().resolve(ctx, q)
		if err != nil {
			return nil, err
		}
		if acc := accounts[int64(id)]; acc != nil {
			entries = acc.Entries
		}
		name += "-" + strconv.Itoa(id)
	} else {
		for _, acc := range accounts {
			entries = append(entries, acc.Entries...)
		}
		slices.SortStableFunc(entries, func(x, y bank.Entry) int {
			if c := x.Date.Compare(y.Date); c != 0 {
				return c
			}
			return cmp.Compare(x.ID, y.ID)
		})
	}
	var buf bytes.Buffer
	if err := bank.WriteCSV(&buf, entries); err != nil {
		return nil, fmt.Errorf("ledger csv: %w", err)
	}
	return &bot.Response{Ephemeral: true, Content: fmt.Sprintf("The ledger of %s: %d records.", a.Name, len(entries)),
		Files: []*discordgo.File{{Name: name + ".csv", ContentType: "text/csv", Reader: &buf}}}, nil
}

// bankChannel stores where members' requests are posted.
func (d *Deps) bankChannel(ctx context.Context, req *call) (*bot.Response, error) {
	var o struct {
		Channel string `discord:"channel"`
	}
	if err := req.Options(&o); err != nil {
		return nil, err
	}
	if !snowflake.MatchString(o.Channel) {
		return nil, bot.UserError("Choose a text channel of this server. Nothing was changed.")
	}
	a, u := req.Alliance, req.Account
	old, err := d.Bank.SetChannel(ctx, a, u.ID, o.Channel)
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("Members' requests (/bank request) are now posted in <#%s> for a banker to approve.", o.Channel)
	if old != "" && old != o.Channel {
		msg += fmt.Sprintf(" (They were posted in <#%s>.)", old)
	}
	return &bot.Response{Ephemeral: true, Content: msg + " The bot needs to see that channel and send messages there."}, nil
}

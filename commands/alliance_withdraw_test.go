package commands_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/commands"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/settings"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

const gameBotKey = "gamebotkey0000000000"

// bank is what Rose's bank holds in the withdrawal tests.
var bank = pnw.Amounts{pnw.Money: 1_000_000, pnw.Food: 5_000, pnw.Steel: 300}

// banker sets Rose up with Alice as its admin, her alliance key allowed to
// withdraw, a bank, and the game's bot key; the bundle's router is a process
// with that bot key (opts may change its client).
func banker(t *testing.T, opts pnw.Options) (*testBundle, store.Alliance) {
	t.Helper()
	_, b := setup(t)
	a := b.setUp(t)
	b.game.AddKey(aliceKey, aliceNation, "alliance_view_bank", "alliance_withdraw_bank")
	b.game.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Acronym: "Rose", Bank: bank})
	b.game.SetBotKey(gameBotKey)
	b.game.SetTradePrices(fakepnw.TradePrice{Resource: "food", AveragePrice: 100}, fakepnw.TradePrice{Resource: "steel", AveragePrice: 3000})
	b.linkAllianceKey(t, a, aliceID, aliceKey, "alliance_view_bank", "alliance_withdraw_bank")
	b.restart(t, opts)
	return b, a
}

// restart replaces the bundle's process (its game client and handlers) by
// a new one on the same database: what a restart or another replica is.
func (b *testBundle) restart(t *testing.T, opts pnw.Options) {
	t.Helper()
	opts.URL, opts.APIKey, opts.BotKey = b.game.URL, botKey, gameBotKey
	opts.Cache = kv.NewPostgresCache(b.st)
	game, err := pnw.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(context.Background()) })
	b.client = game
	b.with(func(d *wiring) { d.Game = game })
}

// command runs a slash command (a path such as /alliance/withdraw) as user
// in the alliance's server.
func (b *testBundle) command(t *testing.T, user, path string, opts ...*discordgo.ApplicationCommandInteractionDataOption) (*bot.Response, error) {
	t.Helper()
	return b.router.Serve(context.Background(), commandIn(user, path, opts...))
}

// commandIn is user's command interaction in the test guild.
func commandIn(user, path string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	i := fakediscord.As(&discordgo.User{ID: user, Username: user}, fakediscord.Command(path, opts...))
	i.GuildID, i.Member.GuildID = guild, guild
	return i
}

func (b *testBundle) withdraw(t *testing.T, user string, opts ...*discordgo.ApplicationCommandInteractionDataOption) (*bot.Response, error) {
	t.Helper()
	return b.command(t, user, "/alliance/withdraw", opts...)
}

func (b *testBundle) click(t *testing.T, customID string, user ...string) (*bot.Response, error) {
	t.Helper()
	return b.in(t, "alliance_button", append([]string{"custom_id", customID}, userVar(user)...)...)
}

func userVar(user []string) []string {
	if len(user) == 0 {
		return nil
	}
	return []string{"user", user[0]}
}

func money(v float64) *discordgo.ApplicationCommandInteractionDataOption {
	return fakediscord.Option("money", v)
}

func toBob() *discordgo.ApplicationCommandInteractionDataOption {
	return fakediscord.Option("recipient", strconv.Itoa(bobNation))
}

// asked asks for a withdrawal that must be accepted, and returns its
// Confirm and Cancel buttons.
func (b *testBundle) asked(t *testing.T, opts ...*discordgo.ApplicationCommandInteractionDataOption) (confirm, cancel string) {
	t.Helper()
	resp, err := b.withdraw(t, aliceID, append([]*discordgo.ApplicationCommandInteractionDataOption{toBob()}, opts...)...)
	require.NoError(t, err)
	return buttonID(t, resp, 0), buttonID(t, resp, 1)
}

func (b *testBundle) withdrawals(t *testing.T, a store.Alliance) []store.Withdrawal {
	t.Helper()
	var out []store.Withdrawal
	for id := int64(1); ; id++ {
		w, err := b.st.WithdrawalGet(context.Background(), id)
		if err != nil {
			return out
		}
		if w.AllianceID == a.ID {
			out = append(out, w)
		}
	}
}

// life is the audit trail of a withdrawal, oldest first.
func (b *testBundle) life(t *testing.T, id int64) []string {
	t.Helper()
	var out []string
	rows := b.auditActions(t)
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].ResourceType == "withdrawal" && rows[i].ResourceID == strconv.FormatInt(id, 10) && rows[i].Success {
			out = append(out, rows[i].Action)
		}
	}
	return out
}

var sentLife = []string{"alliance.withdraw_pending", "alliance.withdraw_sending", "alliance.withdraw_sent"}

func TestAllianceWithdraw(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ConfirmedSendsOnce", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		resp, err := b.withdraw(t, aliceID, toBob(), money(1000), fakediscord.Option("food", 10.0), fakediscord.Option("note", "war aid"))
		require.NoError(t, err)
		require.True(t, resp.Ephemeral)
		text := embedText(resp.Embeds[0])
		for _, want := range []string{"Bobistan", "$1,000", "10 food", "war aid", "pending", "Nothing moves until you confirm"} {
			require.Contains(t, text, want)
		}
		require.Zero(t, b.game.RequestsFor("bankWithdraw"), "nothing is sent before the confirmation")

		resp, err = b.click(t, buttonID(t, resp, 0))
		require.NoError(t, err)
		require.Equal(t, bot.TypeUpdate, resp.Type)
		require.Contains(t, resp.Embeds[0].Description, "Sent (bank record #")
		require.Empty(t, resp.Components, "the buttons are gone")
		require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"))
		require.Equal(t, bank[pnw.Money]-1000, b.game.Alliance(rose).Bank[pnw.Money])

		ws := b.withdrawals(t, a)
		require.Len(t, ws, 1)
		require.Equal(t, "sent", ws[0].State)
		require.NotNil(t, ws[0].BankrecID)
		require.Equal(t, 1000+10*100.0, ws[0].Value, "money plus food at its average price")
		require.Equal(t, sentLife, b.life(t, ws[0].ID))
	})

	t.Run("ConfirmReadsTheManagerOnce", func(t *testing.T) {
		t.Parallel()
		// The route's check loads the manager row, with the server's
		// alliance; the bank sends with the key on that row, not reading it
		// again.
		b, _ := banker(t, pnw.Options{})
		confirm, _ := b.asked(t, money(100))
		counted, queries := storetest.Counted(t, b.st)
		b.with(func(d *wiring) { d.Store = counted })
		resp, err := b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Sent")
		require.EqualValues(t, 1, queries.Named("AllianceGetByGuildForUser"))
		require.EqualValues(t, 0, queries.Named("AllianceManagerGet"))
		require.EqualValues(t, 0, queries.Named("AllianceGetByGuild"))
		require.EqualValues(t, 1, queries.Named("UserGetCaller"), "and the caller's row once")
	})

	t.Run("RetriedInteraction", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		confirm, cancel := b.asked(t, money(500))
		for range 3 { // Discord redelivering the click, or the user clicking again
			resp, err := b.click(t, confirm)
			require.NoError(t, err)
			require.Contains(t, resp.Embeds[0].Description, "Sent")
		}
		resp, err := b.click(t, cancel)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Sent", "too late to cancel")
		require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"))
		w := b.withdrawals(t, a)[0]
		require.Equal(t, "sent", w.State)
		require.Equal(t, sentLife, b.life(t, w.ID))
	})

	t.Run("ConcurrentConfirms", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		confirm, _ := b.asked(t, money(700))
		// Two replicas of the bot on one database, clicked at once.
		replica := *b
		replica.restart(t, pnw.Options{})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				r := b
				if i%2 == 1 {
					r = &replica
				}
				resp, err := r.router.Serve(ctx, interaction(t, "alliance_button", "custom_id", confirm, "guild", guild, "user", aliceID))
				if err != nil {
					t.Error(err)
					return
				}
				d := resp.Embeds[0].Description
				if !strings.HasPrefix(d, "Sent") && !strings.HasPrefix(d, "It is being sent") {
					t.Errorf("unexpected answer: %s", d)
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"), "exactly one bankWithdraw reaches the game")
		require.Equal(t, bank[pnw.Money]-700, b.game.Alliance(rose).Bank[pnw.Money])
		w := b.withdrawals(t, a)[0]
		require.Equal(t, "sent", w.State)
		require.Equal(t, sentLife, b.life(t, w.ID))
	})

	t.Run("FreshReplicaKeepsTheCap", func(t *testing.T) {
		t.Parallel()
		// The cap is set in app_config. A replica that has not read its
		// settings yet confirms with a pool of one connection: reading them
		// inside the confirmation's transaction would wait for a second
		// connection, give up, and let the default cap through.
		b, a := banker(t, pnw.Options{})
		c := settings.WithdrawalCap
		_, err := b.st.AppConfigSet(ctx, store.AppConfigSetParams{Key: c.Name, Value: "1000", Category: c.Category, DataType: c.Type, Description: c.Description})
		require.NoError(t, err)
		first, _ := b.asked(t, money(700))
		second, _ := b.asked(t, money(700))
		resp, err := b.click(t, first)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(resp.Embeds[0].Description, "Sent"), resp.Embeds[0].Description)

		cfg := b.st.Pool.Config()
		cfg.MaxConns = 1
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		b.deps = build(wiring{Deps: commands.Deps{Store: store.Wrap(pool), Game: b.client, Keys: b.keys, Now: func() time.Time { return b.now }}})
		b.router = b.deps.Router()
		_, err = b.click(t, second)
		require.ErrorContains(t, err, "above your daily cap")
		require.Equal(t, "pending", b.withdrawals(t, a)[1].State)
		require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"))
	})

	t.Run("CapUnread", func(t *testing.T) {
		t.Parallel()
		// app_config cannot be read: the default cap must not stand in for
		// one an administrator set, so nothing is asked or sent.
		b, a := banker(t, pnw.Options{})
		confirm, _ := b.asked(t, money(700))
		b.deps = build(wiring{Deps: commands.Deps{Store: b.st, Game: b.client, Keys: b.keys, Now: func() time.Time { return b.now },
			Settings: settings.New(unreadable{}, settings.Options{})}})
		b.router = b.deps.Router()
		_, err := b.click(t, confirm)
		require.ErrorContains(t, err, "cannot check your daily cap")
		_, err = b.withdraw(t, aliceID, toBob(), money(10))
		require.ErrorContains(t, err, "cannot check your daily cap")
		require.Len(t, b.withdrawals(t, a), 1)
		require.Equal(t, "pending", b.withdrawals(t, a)[0].State)
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
		refused := 0
		for _, r := range b.auditActions(t) {
			if strings.HasPrefix(r.Action, "alliance.withdraw") && !r.Success {
				refused++
			}
		}
		require.Equal(t, 2, refused, "both refusals are audited")
	})

	t.Run("GameTimeout", func(t *testing.T) {
		t.Parallel()
		// The game takes longer than the client waits for a request.
		b, a := banker(t, pnw.Options{Timeout: 200 * time.Millisecond})
		confirm, _ := b.asked(t, money(900))
		before := b.game.Requests()
		release := b.game.Hold("bankWithdraw")
		resp, err := b.click(t, confirm)
		release()
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Unknown outcome")
		require.Contains(t, resp.Embeds[0].Description, "/alliance bank-history")
		require.Equal(t, 2, b.game.Requests()-before, "the key's check, then the withdrawal, reached the game")

		resp, err = b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Unknown outcome")
		require.Equal(t, 2, b.game.Requests()-before, "unknown is never retried")
		b.now = b.now.Add(time.Hour)
		_, err = b.deps.Bank.Settle(ctx)
		require.NoError(t, err)
		w := b.withdrawals(t, a)[0]
		require.Equal(t, "unknown", w.State)
		require.Equal(t, []string{"alliance.withdraw_pending", "alliance.withdraw_sending", "alliance.withdraw_unknown"}, b.life(t, w.ID))
	})

	t.Run("RestartBetweenConfirmAndSend", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		confirm, _ := b.asked(t, money(800))
		other, _ := b.asked(t, money(5))
		// The first process claimed the rows and stopped before sending.
		for _, w := range b.withdrawals(t, a) {
			_, err := b.st.WithdrawalClaim(ctx, store.WithdrawalClaimParams{ID: w.ID, Now: b.now})
			require.NoError(t, err)
		}
		b.restart(t, pnw.Options{})

		resp, err := b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "being sent right now")
		require.Zero(t, b.game.RequestsFor("bankWithdraw"), "the new process does not send it")

		b.now = b.now.Add(10 * time.Minute)
		resp, err = b.click(t, other)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Unknown outcome", "a click on a row stuck sending settles it")
		n, err := b.deps.Bank.Settle(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n, "the settle pass settles the other")
		resp, err = b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Unknown outcome")
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
		w := b.withdrawals(t, a)[0]
		require.Equal(t, "unknown", w.State)
		require.Equal(t, []string{"alliance.withdraw_pending", "alliance.withdraw_unknown"}, b.life(t, w.ID),
			"the settle pass records what became of it (the claim above was made directly, without the audit row a process writes with it)")
	})

	t.Run("StoppedWhileSending", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		confirm, _ := b.asked(t, money(600))
		before := b.game.Requests()
		release := b.game.Hold("bankWithdraw")
		defer release()
		stop, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := b.router.Serve(stop, interaction(t, "alliance_button", "custom_id", confirm, "guild", guild, "user", aliceID))
			done <- err
		}()
		require.NoError(t, b.game.WaitRequests(ctx, before+2), "the key's check, then the withdrawal")
		cancel() // the process is shutting down mid-request
		require.NoError(t, <-done)
		release()

		w := b.withdrawals(t, a)[0]
		require.Equal(t, "unknown", w.State, "recorded unknown, not left sending")
		require.Equal(t, 2, b.game.Requests()-before)
		b.restart(t, pnw.Options{})
		_, err := b.click(t, confirm)
		require.NoError(t, err)
		require.Equal(t, 2, b.game.Requests()-before, "never sent again")
		require.Equal(t, []string{"alliance.withdraw_pending", "alliance.withdraw_sending", "alliance.withdraw_unknown"}, b.life(t, w.ID))
	})

	t.Run("GameRefuses", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		confirm, _ := b.asked(t, money(100))
		b.game.Fail(fakepnw.Failure{Message: "Your alliance does not have enough money.", Times: 1, Op: "bankWithdraw"})
		resp, err := b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Nothing was sent: the game refused it: Your alliance does not have enough money.")
		w := b.withdrawals(t, a)[0]
		require.Equal(t, "failed", w.State)
		resp, err = b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "refused")
		require.Equal(t, bank[pnw.Money], b.game.Alliance(rose).Bank[pnw.Money])
	})

	t.Run("ExecutedThenFieldFailed", func(t *testing.T) {
		t.Parallel()
		// The game ran bankWithdraw, then failed resolving a field of its
		// answer: the money may have moved, so it is unknown, not failed.
		b, a := banker(t, pnw.Options{})
		confirm, _ := b.asked(t, money(100))
		b.game.Fail(fakepnw.Failure{Message: "Cannot return null for non-nullable field Nation.nation_name.", Path: []any{"bankWithdraw", "receiver", "nation_name"}, Times: 1, Op: "bankWithdraw"})
		resp, err := b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Unknown outcome")
		require.Equal(t, "unknown", b.withdrawals(t, a)[0].State)
	})

	t.Run("GameUnreachable", func(t *testing.T) {
		t.Parallel()
		// The game failed often enough that the client's breaker is open:
		// the key cannot be checked with the game, so the confirmation
		// claims and sends nothing; the withdrawal stays pending, to be
		// confirmed once the game answers.
		b, a := banker(t, pnw.Options{})
		confirm, _ := b.asked(t, money(100))
		b.game.Fail(fakepnw.Failure{Status: 503, Times: 5})
		for range 5 {
			_, err := b.client.Me(ctx, aliceKey)
			require.ErrorIs(t, err, pnw.ErrGameDown)
		}
		_, err := b.click(t, confirm)
		require.ErrorContains(t, err, "The game's API is not answering right now. Try again in a few minutes. Nothing was withdrawn.")
		require.NotContains(t, err.Error(), "circuit", "no internals")
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
		w := b.withdrawals(t, a)[0]
		require.Equal(t, "pending", w.State)
		require.Equal(t, []string{"alliance.withdraw_pending"}, b.life(t, w.ID))
	})

	t.Run("KeyRefused", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		dms := &dmRecorder{}
		b.with(func(d *wiring) { d.DM = dms })
		confirm, _ := b.asked(t, money(100))
		b.game.Fail(fakepnw.Failure{Status: 401, Times: 1, Op: "bankWithdraw"})
		resp, err := b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Nothing was sent: the game refused it")
		require.Equal(t, "failed", b.withdrawals(t, a)[0].State)
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, aliceID).ID, AllianceID: a.ID})
		require.NoError(t, err)
		require.NotNil(t, m.KeyRevokedAt, "the refused key is marked")
		require.Len(t, dms.to(aliceID), 1, "and its owner told")
		_, err = b.withdraw(t, aliceID, toBob(), money(100))
		require.ErrorContains(t, err, "The game refused your alliance key")
	})

	t.Run("KeyOfANationThatLeft", func(t *testing.T) {
		t.Parallel()
		// Alice asked, then left Rose for Thorn, which she leads. The game
		// withdraws from the bank of the key's own alliance, so her key
		// would now empty Thorn's: the click is refused, nothing is sent,
		// and the key, which may no longer act for Rose, is retired.
		b, a := banker(t, pnw.Options{})
		dms := &dmRecorder{}
		b.with(func(d *wiring) { d.DM = dms })
		confirm, _ := b.asked(t, money(100))
		b.game.AddAlliance(fakepnw.Alliance{ID: thorn, Name: "Thorn", Bank: bank})
		b.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", LeaderName: "Alice", AllianceID: thorn, AlliancePosition: "LEADER"})
		_, err := b.click(t, confirm)
		require.ErrorContains(t, err, "The game says your nation is no longer a member of Rose")
		require.ErrorContains(t, err, "Nothing was done.")
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
		require.Equal(t, bank, b.game.Alliance(thorn).Bank)
		require.Equal(t, "pending", b.withdrawals(t, a)[0].State)

		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, aliceID).ID, AllianceID: a.ID})
		require.NoError(t, err)
		require.Nil(t, m.ManagerApiKey, "the key is retired")
		row, _, retired := b.memberAudit(t, "alliance.key_retired")
		require.True(t, row.Success)
		require.Equal(t, strconv.Itoa(thorn), retired["nation_alliance_id"])
		row, _, refused := b.memberAudit(t, "alliance.withdraw")
		require.False(t, row.Success)
		require.Equal(t, "own key's nation not in the alliance", refused["reason"])
		require.Len(t, dms.to(aliceID), 1)
		require.Contains(t, dms.to(aliceID)[0].Content, "no longer a member of **Rose**")

		_, err = b.withdraw(t, aliceID, toBob(), money(100))
		require.ErrorContains(t, err, "This needs your own alliance key")
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
	})

	t.Run("KeyOfAnApplicant", func(t *testing.T) {
		t.Parallel()
		// Alice left Rose and applied again: an applicant's key acts for
		// no alliance. Refused when asked, nothing recorded.
		b, a := banker(t, pnw.Options{})
		b.game.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", LeaderName: "Alice", AllianceID: rose, AlliancePosition: "APPLICANT"})
		_, err := b.withdraw(t, aliceID, toBob(), money(100))
		require.ErrorContains(t, err, "no longer a member of Rose")
		require.Empty(t, b.withdrawals(t, a))
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: b.user(t, aliceID).ID, AllianceID: a.ID})
		require.NoError(t, err)
		require.Nil(t, m.ManagerApiKey)
	})

	t.Run("RefusedAmounts", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		for name, c := range map[string]struct {
			opts []*discordgo.ApplicationCommandInteractionDataOption
			want string
		}{
			"Negative":      {[]*discordgo.ApplicationCommandInteractionDataOption{money(-5)}, "money is negative"},
			"AllZero":       {[]*discordgo.ApplicationCommandInteractionDataOption{money(0), fakediscord.Option("food", 0.0)}, "at least one amount above zero"},
			"None":          {nil, "at least one amount above zero"},
			"AboveBank":     {[]*discordgo.ApplicationCommandInteractionDataOption{money(bank[pnw.Money] + 1)}, "The bank holds less than that: it holds $1,000,000."},
			"SteelAbove":    {[]*discordgo.ApplicationCommandInteractionDataOption{money(5), fakediscord.Option("steel", 301.0)}, "it holds 300 steel."},
			"UnknownNation": {[]*discordgo.ApplicationCommandInteractionDataOption{money(5), fakediscord.Option("recipient", "424242")}, "no nation with id 424242"},
			"ThreeDecimals": {[]*discordgo.ApplicationCommandInteractionDataOption{money(5.999)}, "money has more than two decimals"},
			"Huge":          {[]*discordgo.ApplicationCommandInteractionDataOption{fakediscord.Option("food", 1e300)}, "food is too large"},
			"Exponent":      {[]*discordgo.ApplicationCommandInteractionDataOption{money(1e-7)}, "money has more than two decimals"},
		} {
			t.Run(name, func(t *testing.T) {
				opts := c.opts
				if name != "UnknownNation" {
					opts = append(opts, toBob())
				}
				_, err := b.withdraw(t, aliceID, opts...)
				require.ErrorContains(t, err, c.want)
			})
		}
		require.Empty(t, b.withdrawals(t, a), "nothing was recorded")
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
		refused := 0
		for _, r := range b.auditActions(t) {
			if r.Action == "alliance.withdraw" && !r.Success {
				refused++
			}
		}
		require.Equal(t, 2, refused, "a refusal above the bank is audited")
	})

	t.Run("UnpricedResource", func(t *testing.T) {
		t.Parallel()
		// The bank holds coal, the market has no price for it: counted at
		// nothing it would pass any cap.
		b, a := banker(t, pnw.Options{})
		b.with(func(d *wiring) { d.WithdrawalCap = 1000 })
		b.game.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Acronym: "Rose", Bank: pnw.Amounts{pnw.Money: 1_000_000, pnw.Coal: 1e9}})
		_, err := b.withdraw(t, aliceID, toBob(), fakediscord.Option("coal", 1e9))
		require.ErrorContains(t, err, "no average price for coal")
		require.Empty(t, b.withdrawals(t, a))
	})

	t.Run("ForgedButton", func(t *testing.T) {
		t.Parallel()
		// A button naming a withdrawal this alliance does not have, or no
		// number at all: refused and audited, nothing sent.
		b, _ := banker(t, pnw.Options{})
		for _, id := range []string{"999999", "1e3"} {
			_, err := b.click(t, bot.CustomID("alliance/withdraw/confirm/{id}", id))
			require.Error(t, err)
			refusal := b.auditActions(t)[0]
			require.Equal(t, "alliance.withdraw", refusal.Action)
			require.False(t, refusal.Success)
		}
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
	})

	t.Run("RefusedCallers", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		b.manage(t, a, bobID, access.Viewer, nil)
		b.manage(t, a, carolID, access.Manager, nil)
		for _, user := range []string{bobID, carolID} {
			before := len(b.denials(t))
			_, err := b.withdraw(t, user, toBob(), money(10))
			require.ErrorContains(t, err, "missing canManageBank")
			require.Len(t, b.denials(t), before+1, "the denial is audited")
		}
		// A manager granted canManageBank still needs their own key.
		b.manage(t, a, carolID, access.Manager, map[access.Permission]bool{access.ManageBank: true})
		_, err := b.withdraw(t, carolID, toBob(), money(10))
		require.ErrorContains(t, err, "your own alliance key")
		b.linkAllianceKey(t, a, carolID, carolKey, "alliance_view_bank")
		_, err = b.withdraw(t, carolID, toBob(), money(10))
		require.ErrorContains(t, err, "lacks alliance_withdraw_bank")

		// Only the manager who asked confirms, and only while allowed.
		confirm, _ := b.asked(t, money(10))
		_, err = b.click(t, confirm, carolID)
		require.ErrorContains(t, err, "Only the manager who asked")
		b.manage(t, a, aliceID, access.Admin, map[access.Permission]bool{access.ManageBank: false})
		_, err = b.click(t, confirm)
		require.ErrorContains(t, err, "missing canManageBank")
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
		require.Equal(t, "pending", b.withdrawals(t, a)[0].State)
	})

	t.Run("NoBotKey", func(t *testing.T) {
		t.Parallel()
		b, _ := banker(t, pnw.Options{})
		game, err := pnw.New(pnw.Options{URL: b.game.URL, APIKey: botKey})
		require.NoError(t, err)
		b.deps = build(wiring{Deps: commands.Deps{Store: b.st, Game: game, Keys: b.keys, Now: func() time.Time { return b.now }}})
		b.router = b.deps.Router()
		_, err = b.withdraw(t, aliceID, toBob(), money(10))
		require.ErrorContains(t, err, "PNW_BOT_KEY")
	})

	t.Run("DailyCap", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		b.with(func(d *wiring) { d.WithdrawalCap = 1500 })
		first, _ := b.asked(t, money(1000))
		second, _ := b.asked(t, money(400), fakediscord.Option("food", 1.0)) // $500 in all
		// Asked while the cap still has room; confirmed once it has none.
		third, _ := b.asked(t, money(1))
		_, err := b.withdraw(t, aliceID, toBob(), money(1501))
		require.ErrorContains(t, err, "above your daily cap")
		_, err = b.click(t, first)
		require.NoError(t, err)
		_, err = b.click(t, second)
		require.NoError(t, err)
		_, err = b.click(t, third)
		require.ErrorContains(t, err, "you may withdraw $0 more")
		require.Equal(t, 2, b.game.RequestsFor("bankWithdraw"))
		b.now = b.now.Add(25 * time.Hour)
		fourth, _ := b.asked(t, money(1000))
		resp, err := b.click(t, fourth)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Sent", "a day later the cap has room again")
		require.Len(t, b.withdrawals(t, a), 4)
	})

	t.Run("CancelAndExpiry", func(t *testing.T) {
		t.Parallel()
		b, a := banker(t, pnw.Options{})
		confirm, cancel := b.asked(t, money(10))
		resp, err := b.click(t, cancel)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Cancelled")
		resp, err = b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "Cancelled")

		confirm, _ = b.asked(t, money(20))
		b.now = b.now.Add(6 * time.Minute)
		resp, err = b.click(t, confirm)
		require.NoError(t, err)
		require.Contains(t, resp.Embeds[0].Description, "expired")
		require.Zero(t, b.game.RequestsFor("bankWithdraw"))
		ws := b.withdrawals(t, a)
		require.Equal(t, "cancelled", ws[0].State)
		require.Equal(t, "expired", ws[1].State)
		require.Equal(t, []string{"alliance.withdraw_pending", "alliance.withdraw_expired"}, b.life(t, ws[1].ID))
	})
}

// unreadable is an app_config that cannot be read.
type unreadable struct{}

func (unreadable) AppConfigList(context.Context, *string) ([]store.AppConfig, error) {
	return nil, errors.New("app_config: connection refused")
}

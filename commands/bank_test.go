package commands_test

import (
	"context"
	"encoding/csv"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/store"
)

// ledgerSetUp is a set-up Rose whose admin Alice linked a key that may see
// the bank, so the ledger's pass reads it.
func ledgerSetUp(t *testing.T) (*testBundle, store.Alliance) {
	t.Helper()
	_, b := setup(t)
	a := b.setUp(t)
	b.linkAllianceKey(t, a, aliceID, aliceKey, "alliance_view_bank")
	return b, a
}

// ingest runs the ledger's pass once.
func (b *testBundle) ingest(t *testing.T) {
	t.Helper()
	r, err := b.deps.Bank.Ingest(context.Background())
	require.NoError(t, err)
	require.Zero(t, r.Failed)
}

func (b *testBundle) deposit(t *testing.T, nation int, r pnw.Amounts, note string) {
	t.Helper()
	_, err := b.game.Deposit(nation, r, note)
	require.NoError(t, err)
}

func TestBankBalance(t *testing.T) {
	t.Parallel()
	b, _ := ledgerSetUp(t)
	b.deposit(t, bobNation, pnw.Amounts{pnw.Money: 5_000_000, pnw.Steel: 20}, "#deposit")
	b.game.AddBankrec(fakepnw.Bankrec{SenderID: rose, SenderType: 2, ReceiverID: bobNation, ReceiverType: 1, Note: "city #grant", Resources: pnw.Amounts{pnw.Money: 1_000_000}})
	b.game.AddBankrec(fakepnw.Bankrec{SenderID: rose, SenderType: 2, ReceiverID: bobNation, ReceiverType: 1, Note: "#loan #due=2020-01-01", Resources: pnw.Amounts{pnw.Money: 300}})
	b.game.AddBankrec(fakepnw.Bankrec{SenderID: rose, SenderType: 2, ReceiverID: bobNation, ReceiverType: 1, Resources: pnw.Amounts{pnw.Steel: 5}})
	b.deposit(t, carolNat, pnw.Amounts{pnw.Money: 7}, "")
	b.ingest(t)

	t.Run("a member sees their own", func(t *testing.T) {
		resp, err := b.command(t, bobID, "/bank/balance")
		require.NoError(t, err)
		require.True(t, resp.Ephemeral)
		text := embedText(resp.Embeds[0])
		require.Contains(t, text, "Bobistan in the bank of Rose")
		require.Contains(t, text, "**Balance**: $5,000,000 · 15 steel")
		require.Contains(t, text, "Grants received: $1,000,000")
		require.Contains(t, text, "**overdue** $300")
		require.Contains(t, text, "due 2020-01-01")
		require.Contains(t, text, "**deposit** $5,000,000 · 20 steel · #deposit")
		require.Contains(t, text, "Complete since")
	})

	t.Run("someone else's needs canViewBank", func(t *testing.T) {
		_, err := b.command(t, bobID, "/bank/balance", fakediscord.Option("nation", strconv.Itoa(carolNat)))
		require.ErrorContains(t, err, "missing canViewBank")
		denied := b.denials(t)
		require.NotEmpty(t, denied)
		bob := b.user(t, bobID)
		require.Equal(t, &bob.ID, denied[0].UserID)

		resp, err := b.balanceOf(t, aliceID, carolID)
		require.NoError(t, err)
		require.Contains(t, embedText(resp.Embeds[0]), "**Balance**: $7")
	})

	// Bob may not see another member's balance, and is told so in the
	// same words whether or not they linked a nation (Dave never did).
	t.Run("someone else's by user tells nothing of their link", func(t *testing.T) {
		for _, user := range []string{carolID, daveID} {
			_, err := b.balanceOf(t, bobID, user)
			require.ErrorContains(t, err, "missing canViewBank", user)
		}
		resp, err := b.balanceOf(t, bobID, bobID)
		require.NoError(t, err)
		require.Contains(t, embedText(resp.Embeds[0]), "Bobistan in the bank of Rose", "his own, named by user")
	})

	t.Run("a nation outside the alliance needs canViewBank for its own", func(t *testing.T) {
		b.game.AddNation(fakepnw.Nation{ID: carolNat, NationName: "Carolina", LeaderName: "Carol", AllianceID: thorn})
		require.NoError(t, b.client.InvalidateTag(context.Background(), pnw.NationTag(carolNat)))
		_, err := b.command(t, carolID, "/bank/balance")
		require.ErrorContains(t, err, "missing canViewBank")
	})
}

// balanceOf runs /bank balance user:@target as user.
func (b *testBundle) balanceOf(t *testing.T, user, target string) (*bot.Response, error) {
	t.Helper()
	i := fakediscord.As(&discordgo.User{ID: user, Username: user}, fakediscord.Command("/bank/balance",
		&discordgo.ApplicationCommandInteractionDataOption{Name: "user", Type: discordgo.ApplicationCommandOptionUser, Value: target}))
	i.GuildID, i.Member.GuildID = guild, guild
	data := i.Data.(discordgo.ApplicationCommandInteractionData)
	data.Resolved = &discordgo.ApplicationCommandInteractionDataResolved{Users: map[string]*discordgo.User{target: {ID: target, Username: target}}}
	i.Data = data
	return b.router.Serve(context.Background(), i)
}

func TestBankLedger(t *testing.T) {
	t.Parallel()
	b, _ := ledgerSetUp(t)
	base := time.Now().Add(-time.Hour)
	for i := range 12 {
		b.game.AddBankrec(fakepnw.Bankrec{Date: base.Add(time.Duration(i) * time.Minute), SenderID: bobNation, SenderType: 1, ReceiverID: rose, ReceiverType: 2,
			Note: "deposit " + strconv.Itoa(i), Resources: pnw.Amounts{pnw.Money: float64(100 + i)}})
	}
	b.game.AddBankrec(fakepnw.Bankrec{Date: base.Add(time.Hour), SenderID: rose, SenderType: 2, ReceiverID: bobNation, ReceiverType: 1,
		Note: "oops #IGNORE", Resources: pnw.Amounts{pnw.Money: 1e6}})
	b.ingest(t)

	resp, err := b.command(t, bobID, "/bank/ledger")
	require.NoError(t, err)
	text := embedText(resp.Embeds[0])
	require.Contains(t, text, "**ignored** $1,000,000 · oops #IGNORE", "newest first, with its tag")
	require.Contains(t, text, "**deposit** $111 · deposit 11")
	require.NotContains(t, text, "deposit 2\n", "page 1 holds 10")
	require.Contains(t, text, "Page 1 of 2 · 13 in all")
	require.Contains(t, text, "Balance: $1,266")
	next := resp.Components[0].(discordgo.ActionsRow).Components[1].(discordgo.Button)

	_, err = b.click(t, next.CustomID, carolID)
	require.ErrorContains(t, err, "Only the person who ran this command")
	resp, err = b.click(t, next.CustomID, bobID)
	require.NoError(t, err)
	require.Equal(t, bot.TypeUpdate, resp.Type)
	text = embedText(resp.Embeds[0])
	require.Contains(t, text, "deposit 0")
	require.Contains(t, text, "Page 2 of 2")
}

func TestBankLoans(t *testing.T) {
	t.Parallel()
	b, _ := ledgerSetUp(t)
	lend := func(nation int, money float64, note string) {
		b.game.AddBankrec(fakepnw.Bankrec{SenderID: rose, SenderType: 2, ReceiverID: nation, ReceiverType: 1, Note: note, Resources: pnw.Amounts{pnw.Money: money}})
	}
	lend(bobNation, 100, "#loan #due=2099-01-01")
	lend(carolNat, 200, "#loan")
	lend(bobNation, 300, "#loan #due=2020-01-01")
	lend(carolNat, 400, "#loan #due=2098-01-01")
	lend(carolNat, 999, "#grant")
	b.deposit(t, carolNat, pnw.Amounts{pnw.Money: 400}, "repaid #loan")
	b.ingest(t)

	_, err := b.command(t, bobID, "/bank/loans")
	require.ErrorContains(t, err, "missing canViewBank")

	resp, err := b.command(t, aliceID, "/bank/loans")
	require.NoError(t, err)
	text := embedText(resp.Embeds[0])
	require.Regexp(t, `(?s)\*\*overdue\*\* \[Bobistan\]\(\S+\): \$300 .*due 2020-01-01.*\n\[Carolina\]\(\S+\): \$200 .*due 2098-01-01.*\n\[Bobistan\]\(\S+\): \$100 .*due 2099-01-01`, text,
		"overdue first, then by due date; Carol's repayment paid her oldest loan and half of the next")
	require.NotContains(t, text, "$999", "a grant is no loan")
	require.Contains(t, text, "Owed in all: $600")
}

func TestBankExport(t *testing.T) {
	t.Parallel()
	b, _ := ledgerSetUp(t)
	b.deposit(t, bobNation, pnw.Amounts{pnw.Money: 10}, `=HYPERLINK("x"), "hi" #deposit`)
	b.deposit(t, carolNat, pnw.Amounts{pnw.Money: 20}, "")
	b.ingest(t)

	_, err := b.command(t, bobID, "/bank/export")
	require.ErrorContains(t, err, "missing canViewBank")

	resp, err := b.command(t, aliceID, "/bank/export")
	require.NoError(t, err)
	require.Len(t, resp.Files, 1)
	require.Equal(t, "ledger-rose.csv", resp.Files[0].Name)
	rows, err := csv.NewReader(resp.Files[0].Reader).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, `'=HYPERLINK("x"), "hi" #deposit`, rows[1][10])

	resp, err = b.command(t, aliceID, "/bank/export", fakediscord.Option("nation", strconv.Itoa(carolNat)))
	require.NoError(t, err)
	rows, err = csv.NewReader(resp.Files[0].Reader).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2, "only Carol's")
}

func TestBankChannel(t *testing.T) {
	t.Parallel()
	b, a := ledgerSetUp(t)
	channel := &discordgo.ApplicationCommandInteractionDataOption{Name: "channel", Type: discordgo.ApplicationCommandOptionChannel, Value: "400000000000000001"}
	_, err := b.command(t, bobID, "/bank/channel", channel)
	require.ErrorContains(t, err, "missing canManageSettings")
	resp, err := b.command(t, aliceID, "/bank/channel", channel)
	require.NoError(t, err)
	require.Contains(t, resp.Content, "<#400000000000000001>")
	a, err = b.st.AllianceGetByID(context.Background(), a.ID)
	require.NoError(t, err)
	require.JSONEq(t, `{"bank.channel_id": "400000000000000001"}`, string(a.Settings))
	require.Equal(t, "alliance.settings", b.auditActions(t)[0].Action)
}

func TestBankTaxCredit(t *testing.T) {
	t.Parallel()
	b, _ := ledgerSetUp(t)
	b.game.AddBankrec(fakepnw.Bankrec{SenderID: bobNation, SenderType: 1, ReceiverID: rose, ReceiverType: 2, TaxID: 4, Resources: pnw.Amounts{pnw.Money: 1000, pnw.Food: 10}})
	b.ingest(t)
	resp, err := b.command(t, bobID, "/bank/balance")
	require.NoError(t, err)
	require.Contains(t, embedText(resp.Embeds[0]), "Taxes credited (0%): nothing")

	_, err = b.command(t, bobID, "/alliance/settings", fakediscord.Option("tax-credit-percent", 25.0))
	require.ErrorContains(t, err, "missing canManageSettings")
	resp, err = b.command(t, aliceID, "/alliance/settings", fakediscord.Option("tax-credit-percent", 25.0))
	require.NoError(t, err)
	require.Contains(t, embedText(resp.Embeds[0]), "25% of each member's taxes")
	require.Equal(t, "alliance.settings", b.auditActions(t)[0].Action)

	resp, err = b.command(t, bobID, "/bank/balance")
	require.NoError(t, err)
	text := embedText(resp.Embeds[0])
	require.Contains(t, text, "**Balance**: $250 · 2.50 food", "the fold applies the new percent to every tax record")
	require.Contains(t, text, "Taxes credited (25%): $250 · 2.50 food")
}

package commands_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/commands"
	"pnwbot/pnw"
)

// channelRecorder stands in for the bot's posts in a channel (bank
// requests use nothing else of it).
type channelRecorder struct {
	commands.Channels
	mu    sync.Mutex
	posts []channelPost
}

type channelPost struct {
	channel string
	msg     *bot.Response
}

func (r *channelRecorder) SendChannelMessage(_ context.Context, channelID string, msg *bot.Response, _, _ []string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts = append(r.posts, channelPost{channelID, msg})
	return "500000000000000001", nil
}

func (r *channelRecorder) EditChannelMessage(context.Context, string, string, *bot.Response) error {
	return nil
}

func (r *channelRecorder) all() []channelPost {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channelPost(nil), r.posts...)
}

const bankChannel = "400000000000000001"

func TestBankRequest(t *testing.T) {
	t.Parallel()
	b, _ := banker(t, pnw.Options{})
	posted, dms := &channelRecorder{}, &dmRecorder{}
	b.with(func(d *wiring) { d.Channels, d.DM = posted, dms })
	ask := func(user string, kind string, money float64) (*bot.Response, error) {
		return b.command(t, user, "/bank/request", fakediscord.Option("kind", kind), fakediscord.Option("reason", "new city"),
			fakediscord.Option("money", money))
	}

	_, err := ask(bobID, "grant", 1000)
	require.ErrorContains(t, err, "no bank channel yet")
	_, err = b.command(t, aliceID, "/bank/channel", &discordgo.ApplicationCommandInteractionDataOption{Name: "channel",
		Type: discordgo.ApplicationCommandOptionChannel, Value: bankChannel})
	require.NoError(t, err)

	b.deposit(t, bobNation, pnw.Amounts{pnw.Money: 500_000}, "#deposit")
	b.ingest(t)
	_, err = ask(bobID, "withdraw", 600_000)
	require.ErrorContains(t, err, "more than your balance in the bank, which holds $500,000")
	require.Empty(t, posted.all(), "nothing was asked")

	resp, err := ask(bobID, "withdraw", 300_000)
	require.NoError(t, err)
	require.Contains(t, resp.Content, "Request #1 is posted in <#"+bankChannel+">")
	posts := posted.all()
	require.Len(t, posts, 1)
	require.Equal(t, bankChannel, posts[0].channel)
	require.Contains(t, embedText(posts[0].msg.Embeds[0]), "Request #1: withdraw for Bobistan")
	buttons := posts[0].msg.Components[0].(discordgo.ActionsRow).Components
	approve := buttons[0].(discordgo.Button).CustomID

	_, err = b.click(t, approve, bobID)
	require.ErrorContains(t, err, "missing canManageBank", "a member does not approve their own")

	resp, err = b.click(t, approve, aliceID)
	require.NoError(t, err)
	require.Equal(t, bot.TypeUpdate, resp.Type)
	text := embedText(resp.Embeds[0])
	require.Contains(t, text, "Approved by <@"+aliceID+">. Sent")
	require.Empty(t, resp.Components, "its buttons are gone")
	require.Len(t, dms.to(bobID), 1)
	require.Contains(t, dms.to(bobID)[0].Content, "Your bank request #1 (withdraw) was approved and sent")

	resp, err = b.click(t, approve, aliceID)
	require.NoError(t, err)
	require.Contains(t, embedText(resp.Embeds[0]), "Already approved: nothing more was sent.")
	require.Equal(t, 1, b.game.RequestsFor("bankWithdraw"))

	b.ingest(t)
	resp, err = b.command(t, bobID, "/bank/balance")
	require.NoError(t, err)
	text = embedText(resp.Embeds[0])
	require.Contains(t, text, "**Balance**: $200,000")
	require.Contains(t, text, "**withdrawal** $300,000 · #deposit request 1: new city")

	// The same interaction twice (a replay the replay check missed, across
	// a Redis failover): one request, posted once.
	i := commandIn(bobID, "/bank/request", fakediscord.Option("kind", "grant"), fakediscord.Option("reason", "war chest"),
		fakediscord.Option("money", 1000.0))
	resp, err = b.router.Serve(context.Background(), i)
	require.NoError(t, err)
	require.Contains(t, resp.Content, "Request #2 is posted")
	_, err = b.router.Serve(context.Background(), i)
	require.ErrorContains(t, err, "Request #2 is already recorded")
	require.Len(t, posted.all(), 2, "the first request and this one, once")
}

// heldPost holds the first post until release is closed, so that another
// handler runs while the first posts.
type heldPost struct {
	commands.Channels
	held             atomic.Bool
	posting, release chan struct{}
}

func (h *heldPost) SendChannelMessage(ctx context.Context, channelID string, msg *bot.Response, users, roles []string) (string, error) {
	if h.held.CompareAndSwap(false, true) {
		close(h.posting)
		<-h.release
	}
	return h.Channels.SendChannelMessage(ctx, channelID, msg, users, roles)
}

// A first run that recorded the request but did not post it (here its post
// failed: the bot could not see the bank channel yet) leaves the post to a
// replay of its interaction.
func TestBankRequestPostedOnReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	notPosted := func(t *testing.T) (*testBundle, *fakediscord.Fake, *bot.REST, *discordgo.Interaction) {
		b, a := banker(t, pnw.Options{})
		fake, rest := b.fakeDiscord(t)
		b.with(func(d *wiring) { d.Channels = rest })
		_, err := b.deps.Bank.SetChannel(ctx, a, b.user(t, aliceID).ID, bankChannel)
		require.NoError(t, err)
		i := commandIn(bobID, "/bank/request", fakediscord.Option("kind", "grant"), fakediscord.Option("reason", "war chest"),
			fakediscord.Option("money", 1000.0))
		_, err = b.router.Serve(ctx, i)
		require.ErrorContains(t, err, "Your request #1 is recorded, but the bot could not post it")
		require.Empty(t, fake.ChannelMessages(bankChannel))
		fake.AddChannel(guild, bankChannel, "bank")
		return b, fake, rest, i
	}
	posted := func(t *testing.T, b *testBundle, fake *fakediscord.Fake) {
		msgs := fake.ChannelMessages(bankChannel)
		require.Len(t, msgs, 1)
		require.Contains(t, embedText(msgs[0].Embeds[0]), "Request #1: grant for Bobistan")
		r, err := b.st.BankRequestGet(ctx, 1)
		require.NoError(t, err)
		require.NotNil(t, r.MessageID)
		require.Equal(t, msgs[0].ID, *r.MessageID)
	}

	t.Run("the same interaction again posts it, once", func(t *testing.T) {
		t.Parallel()
		b, fake, _, i := notPosted(t)
		resp, err := b.router.Serve(ctx, i)
		require.NoError(t, err)
		require.Contains(t, resp.Content, "Request #1 is posted in <#"+bankChannel+">")
		posted(t, b, fake)

		_, err = b.router.Serve(ctx, i)
		require.ErrorContains(t, err, "Request #1 is already recorded")
		posted(t, b, fake)
	})

	t.Run("two replays at once post it once", func(t *testing.T) {
		t.Parallel()
		b, fake, rest, i := notPosted(t)
		held := &heldPost{Channels: rest, posting: make(chan struct{}), release: make(chan struct{})}
		b.with(func(d *wiring) { d.Channels = held })
		type answer struct {
			resp *bot.Response
			err  error
		}
		first := make(chan answer, 1)
		go func() {
			resp, err := b.router.Serve(ctx, i)
			first <- answer{resp, err}
		}()
		select {
		case <-held.posting:
		case a := <-first:
			close(held.release)
			t.Fatalf("the first replay did not post: %v", a.err)
		}
		_, err := b.router.Serve(ctx, i)
		require.ErrorContains(t, err, "Request #1 is already recorded", "the first replay is posting it")
		close(held.release)
		a := <-first
		require.NoError(t, a.err)
		require.Contains(t, a.resp.Content, "Request #1 is posted in <#"+bankChannel+">")
		posted(t, b, fake)
	})
}

func TestBankRequestDenied(t *testing.T) {
	t.Parallel()
	b, a := banker(t, pnw.Options{})
	posted, dms := &channelRecorder{}, &dmRecorder{}
	b.with(func(d *wiring) { d.Channels, d.DM = posted, dms })
	_, err := b.deps.Bank.SetChannel(context.Background(), a, b.user(t, aliceID).ID, bankChannel)
	require.NoError(t, err)
	_, err = b.command(t, bobID, "/bank/request", fakediscord.Option("kind", "loan"), fakediscord.Option("reason", "rebuild"),
		fakediscord.Option("money", 5000.0), fakediscord.Option("due", "2099-01-31"))
	require.NoError(t, err)
	msg := posted.all()[0].msg
	require.Contains(t, embedText(msg.Embeds[0]), "Due: 2099-01-31")
	deny := msg.Components[0].(discordgo.ActionsRow).Components[1].(discordgo.Button).CustomID
	resp, err := b.click(t, deny, aliceID)
	require.NoError(t, err)
	require.Contains(t, embedText(resp.Embeds[0]), "Denied by <@"+aliceID+">: nothing was sent.")
	require.Contains(t, dms.to(bobID)[0].Content, "was denied")
	require.Zero(t, b.game.RequestsFor("bankWithdraw"))

	_, err = b.command(t, bobID, "/bank/request", fakediscord.Option("kind", "loan"), fakediscord.Option("reason", "x"),
		fakediscord.Option("money", 1.0), fakediscord.Option("due", "31/01/2099"))
	require.ErrorContains(t, err, "YYYY-MM-DD")
}

func TestBankAdjust(t *testing.T) {
	t.Parallel()
	b, _ := ledgerSetUp(t)
	b.deposit(t, bobNation, pnw.Amounts{pnw.Money: 1000}, "")
	b.ingest(t)
	adjust := func(user string) (*bot.Response, error) {
		return b.command(t, user, "/bank/adjust", fakediscord.Option("nation", "Bobistan"), fakediscord.Option("note", "double counted"),
			fakediscord.Option("money", -400.0), fakediscord.Option("steel", 5.0))
	}
	_, err := adjust(bobID)
	require.ErrorContains(t, err, "missing canManageBank")
	resp, err := adjust(aliceID)
	require.NoError(t, err)
	text := embedText(resp.Embeds[0])
	require.Contains(t, text, "Adjustment: −$400 · +5 steel")
	require.Contains(t, text, "Before: $1,000")
	require.Contains(t, text, "After: $600 · 5 steel")
	require.Equal(t, "bank.adjust", b.auditActions(t)[0].Action)

	// The same interaction twice (a replay the replay check missed, across
	// a Redis failover): adjusted once.
	i := commandIn(aliceID, "/bank/adjust", fakediscord.Option("nation", "Bobistan"), fakediscord.Option("note", "bonus"),
		fakediscord.Option("money", 100.0))
	resp, err = b.router.Serve(context.Background(), i)
	require.NoError(t, err)
	require.Contains(t, embedText(resp.Embeds[0]), "After: $700 · 5 steel")
	_, err = b.router.Serve(context.Background(), i)
	require.ErrorContains(t, err, "already recorded")
	resp, err = b.command(t, bobID, "/bank/balance")
	require.NoError(t, err)
	require.Contains(t, embedText(resp.Embeds[0]), "**Balance**: $700 · 5 steel")
}

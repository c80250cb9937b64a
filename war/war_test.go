package war_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/commands"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/pnw/stream"
	"pnwbot/store"
	"pnwbot/store/storetest"
	"pnwbot/war"
)

const (
	botKey        = "war-bot-key"
	ours          = 7  // the server's alliance in the game
	enemy         = 50 // the attackers' alliance
	alertChannel  = "900000000000000001"
	pingRole      = "800000000000000001"
	defenderUser  = "700000000000000001"
	attackerID    = 100
	defenderID    = 200
	bystanderUser = "700000000000000002"
)

type world struct {
	st      *store.Store
	game    *fakepnw.Server
	subs    *fakepnw.Subscriptions
	discord *fakediscord.Fake
	client  *pnw.Client
	notify  commands.WarAlerts
	alli    store.Alliance
}

// newWorld is the game, Discord and a database where alliance 7 posts
// defensive alerts in alertChannel, pinging pingRole; its member 200 is
// linked to defenderUser, and alliance 50's nation 100 attacks.
func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{st: storetest.NewDB(t)}
	var err error
	w.game, err = fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(w.game.Close)
	w.game.AddKey(botKey, 1)
	w.game.AddAlliance(fakepnw.Alliance{ID: ours, Name: "Rose"})
	w.game.AddAlliance(fakepnw.Alliance{ID: enemy, Name: "Raiders"})
	w.game.AddNation(fakepnw.Nation{ID: attackerID, NationName: "Raidistan", LeaderName: "Grim", AllianceID: enemy, Score: 1500, NumCities: 15,
		Soldiers: 150000, Tanks: 12000, Aircraft: 1100, Ships: 90})
	w.game.AddNation(fakepnw.Nation{ID: defenderID, NationName: "Arrakis", LeaderName: "Paul", AllianceID: ours, Score: 1400, NumCities: 14,
		Soldiers: 70000, Tanks: 5000, Aircraft: 600, Ships: 20})
	w.subs, err = fakepnw.NewSubscriptions(w.game)
	require.NoError(t, err)
	t.Cleanup(w.subs.Close)
	w.discord, err = fakediscord.New()
	require.NoError(t, err)
	t.Cleanup(w.discord.Close)
	w.discord.AddChannel(fakediscord.GuildID, alertChannel, "war-alerts")
	rest, err := bot.DialREST(t.Context(), bot.RESTOptions{Token: fakediscord.Token, APIBaseURL: w.discord.URL})
	require.NoError(t, err)
	w.notify = commands.WarAlerts{Discord: rest}
	w.client, err = pnw.New(pnw.Options{URL: w.game.URL, APIKey: botKey})
	require.NoError(t, err)

	ctx := t.Context()
	w.alli, err = w.st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: ours, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	_, err = w.st.WarAlertChannelSet(ctx, store.WarAlertChannelSetParams{AllianceID: w.alli.ID, Kind: war.Defensive, ChannelID: alertChannel, PingRoleID: ptr(pingRole)})
	require.NoError(t, err)
	_, err = w.st.Pool.Exec(ctx, `INSERT INTO users (discord_id, pnw_nation_id, key_salt) VALUES ($1, $2, '0123456789abcdef'), ($3, 300, '0123456789abcdef')`,
		defenderUser, defenderID, bystanderUser)
	require.NoError(t, err)
	return w
}

func ptr[T any](v T) *T { return &v }

// service builds a replica's war service; with stream it follows the
// stream until the test ends or stop is called.
func (w *world) service(t testing.TB, withStream bool) (svc *war.Service, stop func()) {
	t.Helper()
	var c *stream.Client
	if withStream {
		c = stream.New(stream.Options{SubscriptionsURL: w.subs.URL, SocketURL: w.subs.SocketURL, APIKey: botKey, Positions: war.Positions{Store: w.st}})
	}
	svc = war.New(war.Options{Store: w.st, Game: w.client, Notifier: w.notify, Stream: c})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Follow(ctx)
	}()
	stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return svc, stop
}

// following waits until a socket follows the wars (create and update).
func (w *world) following(t testing.TB, sockets int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, w.subs.WaitListeners(ctx, sockets, 2))
}

func (w *world) declare() fakepnw.War {
	return w.subs.DeclareWar(fakepnw.War{AttID: attackerID, AttAllianceID: enemy, DefID: defenderID, DefAllianceID: ours, Reason: "for the spice"})
}

// alerts waits until the alert channel holds n messages.
func (w *world) alerts(t *testing.T, n int) []fakediscord.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	msgs, err := w.discord.WaitChannelMessages(ctx, alertChannel, n)
	require.NoError(t, err, "alerts: %d", len(msgs))
	return msgs
}

// quiet checks that the channel still holds n messages a moment later.
func (w *world) quiet(t *testing.T, n int) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	require.Len(t, w.discord.ChannelMessages(alertChannel), n)
}

func TestAlertFromTheStream(t *testing.T) {
	w := newWorld(t)
	w.service(t, true)
	w.following(t, 1)

	declared := w.declare()
	m := w.alerts(t, 1)[0]
	e := m.Embeds[0]
	require.Contains(t, e.Title, "Arrakis is attacked by Raidistan")
	require.Contains(t, e.Description, "Ordinary war · 60 turns left")
	require.Contains(t, e.Description, "for the spice")
	require.Equal(t, "Attacker", e.Fields[0].Name)
	require.Contains(t, e.Fields[0].Value, "Raidistan")
	require.Contains(t, e.Fields[0].Value, "Grim")
	require.Contains(t, e.Fields[0].Value, "Raiders")
	require.Contains(t, e.Fields[0].Value, "Score 1500.00 · 15 cities")
	require.Contains(t, e.Fields[0].Value, "150,000 soldiers · 12,000 tanks · 1,100 aircraft · 90 ships")
	require.Contains(t, e.Fields[1].Value, "Arrakis")
	require.Contains(t, e.Footer.Text, "War "+strconv.Itoa(declared.ID))

	// Mentions: exactly the defender's user and the role.
	require.Equal(t, "<@"+defenderUser+"> <@&"+pingRole+">", m.Content)
	require.Equal(t, &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, Users: []string{defenderUser}, Roles: []string{pingRole}}, m.AllowedMentions)

	// A war between others, and one of ours declared on someone else, alert nothing.
	w.subs.DeclareWar(fakepnw.War{AttID: 1, AttAllianceID: enemy, DefID: 2, DefAllianceID: 8})
	w.subs.DeclareWar(fakepnw.War{AttID: defenderID, AttAllianceID: ours, DefID: attackerID, DefAllianceID: enemy})
	w.quiet(t, 1)
}

func TestStreamAndPollAlertOnce(t *testing.T) {
	w := newWorld(t)
	svc, _ := w.service(t, true)
	w.following(t, 1)
	w.declare()
	w.alerts(t, 1)
	res, err := svc.Poll(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, res.Active, "the poll sees the war too")
	w.quiet(t, 1)
}

func TestPollAloneAlertsOnce(t *testing.T) {
	w := newWorld(t)
	svc, _ := w.service(t, false)
	require.Contains(t, svc.StreamState(), "off")
	// A war the game has, that no stream reported.
	w.game.AddWar(fakepnw.War{ID: 41, Date: time.Now(), AttID: attackerID, AttAllianceID: enemy, DefID: defenderID, DefAllianceID: ours, WarType: "RAID", TurnsLeft: 60})
	for range 2 {
		_, err := svc.Poll(t.Context())
		require.NoError(t, err)
	}
	m := w.alerts(t, 1)[0]
	require.Contains(t, m.Embeds[0].Description, "Raid war")
	w.quiet(t, 1)
}

func TestWarDeclaredBeforeAlertsIsNotNews(t *testing.T) {
	w := newWorld(t)
	svc, _ := w.service(t, false)
	w.game.AddWar(fakepnw.War{ID: 42, Date: time.Now().Add(-time.Hour), AttID: attackerID, AttAllianceID: enemy, DefID: defenderID, DefAllianceID: ours, TurnsLeft: 50})
	_, err := svc.Poll(t.Context())
	require.NoError(t, err)
	w.quiet(t, 0)
}

func TestDisconnectReplaysTheGap(t *testing.T) {
	w := newWorld(t)
	w.service(t, true)
	w.following(t, 1)
	w.declare()
	w.alerts(t, 1)

	w.subs.Refuse(true)
	w.subs.Drop(0)
	w.following(t, 0)
	w.declare() // while the stream is down
	w.subs.Refuse(false)
	msgs := w.alerts(t, 2) // replayed on reconnect: no poll ran
	require.NotEqual(t, msgs[0].Embeds[0].Footer.Text, msgs[1].Embeds[0].Footer.Text)
	w.quiet(t, 2)
}

func TestStreamClosedForGoodLeavesThePoll(t *testing.T) {
	w := newWorld(t)
	svc, _ := w.service(t, true)
	w.following(t, 1)
	sockets, _, _ := w.subs.Counts()
	w.subs.Drop(4001)
	require.Eventually(t, func() bool { return strings.Contains(svc.StreamState(), "closed by the game") }, 10*time.Second, 10*time.Millisecond)
	w.declare()
	w.quiet(t, 0)
	_, err := svc.Poll(t.Context())
	require.NoError(t, err)
	w.alerts(t, 1)
	after, _, _ := w.subs.Counts()
	require.Equal(t, sockets, after, "no reconnect after 4001")
}

func TestStreamClosedWith4200Reconnects(t *testing.T) {
	w := newWorld(t)
	w.service(t, true)
	w.following(t, 1)
	w.subs.Drop(4200)
	w.following(t, 1)
	w.declare()
	w.alerts(t, 1)
}

func TestTwoReplicasOneStream(t *testing.T) {
	w := newWorld(t)
	first, stopFirst := w.service(t, true)
	w.following(t, 1)
	second, _ := w.service(t, true)
	require.Eventually(t, func() bool { return second.StreamState() == "held by another replica" }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "connected", first.StreamState())
	w.following(t, 1) // still one socket
	w.declare()
	w.alerts(t, 1)
	_, err := second.Poll(t.Context())
	require.NoError(t, err)
	w.quiet(t, 1)

	// The holder dies: the other takes over within 30 s.
	stopFirst()
	start := time.Now()
	w.following(t, 1)
	require.Less(t, time.Since(start), 30*time.Second)
	require.Eventually(t, func() bool { return second.StreamState() == "connected" }, 10*time.Second, 10*time.Millisecond)
	w.declare()
	w.alerts(t, 2)
	w.quiet(t, 2)
}

// TestTakeoverResumesWhereTheStreamWas: the replica that takes the stream
// over asks the game for what came after the newest event the holder saw,
// kept in PostgreSQL: a war declared while nobody held the stream alerts
// without a poll.
func TestTakeoverResumesWhereTheStreamWas(t *testing.T) {
	w := newWorld(t)
	_, stopFirst := w.service(t, true)
	w.following(t, 1)
	second, _ := w.service(t, true)
	require.Eventually(t, func() bool { return second.StreamState() == "held by another replica" }, 10*time.Second, 10*time.Millisecond)
	w.declare()
	w.alerts(t, 1)
	// The holder saves its position once the war's batch is handled.
	require.Eventually(t, func() bool {
		_, err := w.st.StreamPositionGet(t.Context(), "war/create")
		return err == nil
	}, 10*time.Second, 10*time.Millisecond)

	w.subs.Refuse(true) // nobody follows the stream for a while
	stopFirst()
	w.following(t, 0)
	w.declare()
	w.subs.Refuse(false)
	w.following(t, 1)      // the second replica, within 5 s
	msgs := w.alerts(t, 2) // replayed to it: no poll ran
	require.NotEqual(t, msgs[0].Embeds[0].Footer.Text, msgs[1].Embeds[0].Footer.Text)
	require.Eventually(t, func() bool { return second.StreamState() == "connected" }, 10*time.Second, 10*time.Millisecond)
	w.quiet(t, 2)
}

func TestWarEndingEditsTheAlert(t *testing.T) {
	t.Run("from the stream", func(t *testing.T) {
		w := newWorld(t)
		w.service(t, true)
		w.following(t, 1)
		declared := w.declare()
		m := w.alerts(t, 1)[0]
		w.subs.UpdateWar(declared.ID, func(x *fakepnw.War) { x.Ended, x.WinnerID, x.TurnsLeft = time.Now(), attackerID, 40 })
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		edited, err := w.discord.WaitChannelEdit(ctx, alertChannel, m.ID)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(edited.Embeds[0].Title, "Ended · "), edited.Embeds[0].Title)
		require.Equal(t, "The war ended: the attacker won.", edited.Embeds[0].Description)
		require.Equal(t, &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}, edited.AllowedMentions, "an edit pings no one")
		require.Len(t, w.discord.ChannelMessages(alertChannel), 1)
	})
	t.Run("from the poll", func(t *testing.T) {
		w := newWorld(t)
		svc, _ := w.service(t, false)
		w.game.AddWar(fakepnw.War{ID: 43, Date: time.Now(), AttID: attackerID, AttAllianceID: enemy, DefID: defenderID, DefAllianceID: ours, TurnsLeft: 60})
		_, err := svc.Poll(t.Context())
		require.NoError(t, err)
		m := w.alerts(t, 1)[0]
		w.subs.UpdateWar(43, func(x *fakepnw.War) { x.Ended, x.TurnsLeft = time.Now(), 0 }) // no stream follows: the poll finds it
		res, err := svc.Poll(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, res.Ended)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		edited, err := w.discord.WaitChannelEdit(ctx, alertChannel, m.ID)
		require.NoError(t, err)
		require.Equal(t, "The war expired.", edited.Embeds[0].Description)
		_, err = svc.Poll(t.Context())
		require.NoError(t, err)
		edited, _ = w.discord.WaitChannelEdit(ctx, alertChannel, m.ID)
		require.Equal(t, 1, edited.Edits, "edited once")
	})
}

func TestOffensiveAlertMentionsNobody(t *testing.T) {
	w := newWorld(t)
	_, err := w.st.WarAlertChannelSet(t.Context(), store.WarAlertChannelSetParams{AllianceID: w.alli.ID, Kind: war.Offensive, ChannelID: alertChannel})
	require.NoError(t, err)
	w.service(t, true)
	w.following(t, 1)
	// Our member attacks a nation whose player happens to be linked too.
	w.subs.DeclareWar(fakepnw.War{AttID: defenderID, AttAllianceID: ours, DefID: 300, DefAllianceID: enemy})
	m := w.alerts(t, 1)[0]
	require.Contains(t, m.Embeds[0].Title, "Arrakis declared war on")
	require.Empty(t, m.Content)
	require.Equal(t, &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}, m.AllowedMentions)
}

func TestAlertSentAgainWhenDiscordFailed(t *testing.T) {
	w := newWorld(t)
	svc, _ := w.service(t, false)
	w.game.AddWar(fakepnw.War{ID: 44, Date: time.Now(), AttID: attackerID, AttAllianceID: enemy, DefID: defenderID, DefAllianceID: ours, TurnsLeft: 60})
	w.discord.BadGateway(100) // Discord's edge fails every try
	_, err := svc.Poll(t.Context())
	require.Error(t, err)
	w.discord.BadGateway(0)
	w.quiet(t, 0)
	_, err = svc.Poll(t.Context())
	require.NoError(t, err)
	w.quiet(t, 0) // claimed a moment ago: its sender may still be at work

	_, err = w.st.Pool.Exec(t.Context(), `UPDATE war_alerts SET claimed_at = now() - interval '2 minutes'`)
	require.NoError(t, err)
	res, err := svc.Poll(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, res.Resent)
	m := w.alerts(t, 1)[0]
	require.Equal(t, "<@"+defenderUser+"> <@&"+pingRole+">", m.Content)
	_, err = svc.Poll(t.Context())
	require.NoError(t, err)
	w.quiet(t, 1)
}

func TestStreamDownIsSaidNotFatal(t *testing.T) {
	w := newWorld(t)
	svc, _ := w.service(t, true)
	w.following(t, 1)
	require.Eventually(t, func() bool { return svc.StreamDown() == "" }, 10*time.Second, 5*time.Millisecond, "connected: nothing to say")
	w.subs.Refuse(true)
	w.subs.Drop(0)
	require.Eventually(t, func() bool { return svc.StreamDown() == "connecting; the poll covers" }, 10*time.Second, 10*time.Millisecond)
	// Meanwhile the poll alerts.
	w.game.AddWar(fakepnw.War{ID: 45, Date: time.Now(), AttID: attackerID, AttAllianceID: enemy, DefID: defenderID, DefAllianceID: ours, TurnsLeft: 60})
	_, err := svc.Poll(t.Context())
	require.NoError(t, err)
	w.alerts(t, 1)
	w.subs.Refuse(false)
	require.Eventually(t, func() bool { return svc.StreamDown() == "" }, 30*time.Second, 10*time.Millisecond)
}

func TestAlertsTurnedOnAreFollowed(t *testing.T) {
	w := newWorld(t)
	svc, _ := w.service(t, true)
	w.following(t, 1)
	// A second alliance turns alerts on: the stream subscribes anew.
	other, err := w.st.AllianceUpsert(t.Context(), store.AllianceUpsertParams{PnwAllianceID: 8, Name: "Thorn", RouteSlug: "thorn"})
	require.NoError(t, err)
	const otherChannel = "900000000000000002"
	w.discord.AddChannel(fakediscord.GuildID, otherChannel, "thorn-alerts")
	_, err = w.st.WarAlertChannelSet(t.Context(), store.WarAlertChannelSetParams{AllianceID: other.ID, Kind: war.Defensive, ChannelID: otherChannel})
	require.NoError(t, err)
	_, subscribes, _ := w.subs.Counts()
	require.Eventually(t, func() bool { _, n, _ := w.subs.Counts(); return n >= subscribes+2 }, 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return svc.StreamDown() == "" }, 10*time.Second, 5*time.Millisecond)
	w.subs.DeclareWar(fakepnw.War{AttID: attackerID, AttAllianceID: enemy, DefID: 400, DefAllianceID: 8})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = w.discord.WaitChannelMessages(ctx, otherChannel, 1)
	require.NoError(t, err)
	w.quiet(t, 0) // not in Rose's channel
}

package commands_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
)

// discord serves the bundle's commands through a bot on a fake Discord, so
// that direct messages, buttons and modals travel as they would on Discord.
type discord struct {
	*fakediscord.Fake
	t *testing.T
}

func (b *testBundle) onDiscord(t *testing.T) discord {
	t.Helper()
	fake, rest := b.fakeDiscord(t)
	b.with(func(d *wiring) { d.DM = rest })
	bt, err := bot.New(bot.Options{REST: rest, Router: b.router, NoReconnect: true})
	require.NoError(t, err)
	require.NoError(t, bt.Start(t.Context()))
	t.Cleanup(func() { _ = bt.Close(context.Background()) })
	return discord{Fake: fake, t: t}
}

// fakeDiscord is a fake Discord and the bot's REST client on it.
func (b *testBundle) fakeDiscord(t *testing.T) (*fakediscord.Fake, *bot.REST) {
	t.Helper()
	fake, err := fakediscord.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	rest, err := bot.DialREST(t.Context(), bot.RESTOptions{Token: fakediscord.Token, APIBaseURL: fake.URL})
	require.NoError(t, err)
	return fake, rest
}

func (d discord) ctx() context.Context {
	ctx, cancel := context.WithTimeout(d.t.Context(), 30*time.Second)
	d.t.Cleanup(cancel)
	return ctx
}

// send dispatches i as user (in a DM when dm) and returns the reply: the
// callback, or the edit after a deferral.
func (d discord) send(i *discordgo.Interaction, user string, dm bool) *fakediscord.Reply {
	d.t.Helper()
	i.Member.User.ID = user
	if dm {
		i = fakediscord.InDM(i)
	}
	require.NoError(d.t, d.SendInteraction(i))
	r, err := d.WaitResponse(d.ctx(), i.ID)
	require.NoError(d.t, err)
	if r.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource || r.Type == discordgo.InteractionResponseDeferredMessageUpdate {
		r, err = d.WaitEdit(d.ctx(), i.Token)
		require.NoError(d.t, err)
	}
	return r
}

func replyButton(t *testing.T, components []discordgo.MessageComponent) string {
	t.Helper()
	require.NotEmpty(t, components)
	return components[0].(*discordgo.ActionsRow).Components[0].(*discordgo.Button).CustomID
}

func TestAllianceKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// linkInDM runs /alliance key as user, presses the button of its DM
	// and submits key in the modal; it returns the modal's reply.
	linkInDM := func(t *testing.T, d discord, user string, nthDM int, key string) *fakediscord.Reply {
		t.Helper()
		reply := d.send(fakediscord.Command("/alliance/key"), user, false)
		require.True(t, reply.Ephemeral())
		require.Contains(t, reply.Embeds[0].Description, "direct message")
		dm, err := d.WaitDM(d.ctx(), user, nthDM)
		require.NoError(t, err)
		modal := d.send(fakediscord.Component(replyButton(t, dm.Components)), user, true)
		require.Equal(t, discordgo.InteractionResponseModal, modal.Type)
		return d.send(fakediscord.ModalSubmit(modal.CustomID, map[string]string{"api_key": key}), user, true)
	}

	t.Run("LinkedInADirectMessage", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := b.setUp(t)
		d := b.onDiscord(t)
		reply := linkInDM(t, d, aliceID, 1, aliceKey)
		require.Contains(t, reply.Content, "is linked")
		require.NotContains(t, reply.Content, aliceKey)

		u := b.user(t, aliceID)
		m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: u.ID, AllianceID: a.ID})
		require.NoError(t, err)
		require.NotContains(t, string(m.ManagerApiKey), aliceKey, "sealed")
		plain, err := b.keys.Open(m.ManagerApiKey, u.KeySalt, secrets.AllianceKey(u.ID, a.ID))
		require.NoError(t, err)
		require.Equal(t, aliceKey, plain)
		var perms map[string]bool
		require.NoError(t, json.Unmarshal(m.KeyPermissions, &perms))
		require.True(t, perms["alliance_view_bank"])
		audit := b.auditActions(t)[0]
		require.Equal(t, "alliance.key_link", audit.Action)
		require.NotContains(t, string(audit.NewValues), aliceKey)

		// /alliance key now shows the key and offers to forget it.
		status := d.send(fakediscord.Command("/alliance/key"), aliceID, false)
		require.Contains(t, status.Embeds[0].Fields[0].Value, "Linked")
		forgot := d.send(fakediscord.Component(replyButton(t, status.Components)), aliceID, false)
		require.Contains(t, forgot.Content, "deleted")
		m, err = b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: u.ID, AllianceID: a.ID})
		require.NoError(t, err)
		require.Nil(t, m.ManagerApiKey)
		require.Equal(t, "alliance.key_forget", b.auditActions(t)[0].Action)
	})

	t.Run("UnreadableKey", func(t *testing.T) {
		t.Parallel()
		// Sealed under another master key: the status says so, and
		// actions with it are refused plainly and audited.
		b, a := banker(t, pnw.Options{})
		b.with(func(d *wiring) { d.DM = &dmRecorder{} })
		b.sealAllianceKey(t, strangerKeyring(t), a, aliceID, aliceKey, "alliance_view_bank", "alliance_withdraw_bank")
		resp, err := b.command(t, aliceID, "/alliance/key")
		require.NoError(t, err)
		status := resp.Embeds[0].Fields[0].Value
		require.Contains(t, status, "Linked, but unreadable")
		require.Contains(t, status, "Link it again")
		require.NotContains(t, status, "verified")

		_, err = b.withdraw(t, aliceID, toBob(), money(100))
		require.ErrorContains(t, err, "unreadable")
		require.ErrorContains(t, err, "/alliance key")
		refusal := b.auditActions(t)[0]
		require.Equal(t, "alliance.withdraw", refusal.Action)
		require.False(t, refusal.Success)
		require.Contains(t, string(refusal.NewValues), "own key unreadable")
	})

	t.Run("WrongNationRefused", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.setUp(t)
		d := b.onDiscord(t)
		reply := linkInDM(t, d, aliceID, 1, bobKey)
		require.Contains(t, reply.Content, "belongs to Bobistan")
		require.Contains(t, reply.Content, "Nothing was saved")
		require.True(t, reply.Ephemeral())
		audit := b.auditActions(t)[0]
		require.Equal(t, "alliance.key_link", audit.Action)
		require.False(t, audit.Success)
	})

	t.Run("NationOutsideTheAllianceRefused", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := b.setUp(t)
		b.manage(t, a, carolID, "viewer", nil)
		b.game.AddNation(fakepnw.Nation{ID: carolNat, NationName: "Carolina", AllianceID: rose, AlliancePosition: "APPLICANT"})
		d := b.onDiscord(t)
		reply := linkInDM(t, d, carolID, 1, carolKey)
		require.Contains(t, reply.Content, "not a member of Rose")
	})

	t.Run("NotAManagerRefused", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := b.setUp(t)
		d := b.onDiscord(t)
		reply := d.send(fakediscord.Command("/alliance/key"), bobID, false)
		require.Contains(t, reply.Content, "Only managers of Rose")
		require.Empty(t, d.DMs(bobID), "no form is sent")

		// Nor does a form kept from an earlier role work.
		checks := b.game.RequestsFor("me")
		submit := fakediscord.ModalSubmit("alliance/key/submit/"+strconv.FormatInt(a.ID, 10), map[string]string{"api_key": bobKey})
		reply = d.send(submit, bobID, true)
		require.Contains(t, reply.Content, "Only managers of Rose")
		require.Equal(t, checks, b.game.RequestsFor("me"), "the key is not even checked")
	})

	t.Run("CanLinkApiKeyHolds", func(t *testing.T) {
		t.Parallel()
		// A manager whose canLinkApiKey was taken away links no alliance
		// key either, even with a form opened before.
		_, b := setup(t)
		a := b.setUp(t)
		d := b.onDiscord(t)
		_, err := b.st.Pool.Exec(context.Background(), `UPDATE users SET permissions = '{"canLinkApiKey": false}' WHERE discord_id = $1`, aliceID)
		require.NoError(t, err)
		checks := b.game.RequestsFor("me")
		submit := fakediscord.ModalSubmit("alliance/key/submit/"+strconv.FormatInt(a.ID, 10), map[string]string{"api_key": aliceKey})
		reply := d.send(submit, aliceID, true)
		require.Contains(t, reply.Content, "missing permission canLinkApiKey")
		require.Equal(t, checks, b.game.RequestsFor("me"), "the key is not even checked")
		open := d.send(fakediscord.Component("alliance/key/open/"+strconv.FormatInt(a.ID, 10)), aliceID, true)
		require.Contains(t, open.Content, "missing permission canLinkApiKey")
	})

	t.Run("DirectMessagesClosed", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.setUp(t)
		d := b.onDiscord(t)
		d.RefuseDMs(aliceID)
		reply := d.send(fakediscord.Command("/alliance/key"), aliceID, false)
		require.Contains(t, reply.Embeds[0].Description, "could not send you a direct message")
	})
}

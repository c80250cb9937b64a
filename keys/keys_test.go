package keys_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

const (
	botKey   = "botkey00000000000000"
	aliceKey = "alicekey000000000000"
	bobKey   = "bobkey00000000000000"
	rose     = 7
)

// notes records the notices Keys sends.
type notes struct {
	mu   sync.Mutex
	sent map[string][]string
}

func (n *notes) Notify(_ context.Context, discordID, text string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent[discordID] = append(n.sent[discordID], text)
}

type bundle struct {
	st     *store.Store
	game   *fakepnw.Server
	client *pnw.Client
	ring   *secrets.Keyring
	keys   *keys.Keys
	notes  *notes
	rose   store.Alliance
}

func setup(t *testing.T) *bundle {
	t.Helper()
	fake, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	fake.AddKey(botKey, 1)
	fake.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Bank: pnw.Amounts{pnw.Money: 100}})
	fake.AddNation(fakepnw.Nation{ID: 101, NationName: "Aliceland", AllianceID: rose, AlliancePosition: "LEADER"})
	fake.AddNation(fakepnw.Nation{ID: 102, NationName: "Bobistan", AllianceID: rose, AlliancePosition: "OFFICER"})
	game, err := pnw.New(pnw.Options{URL: fake.URL, APIKey: botKey})
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(context.Background()) })
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	ring, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)
	b := &bundle{st: storetest.NewDB(t), game: fake, client: game, ring: ring, notes: &notes{sent: map[string][]string{}}}
	b.keys = keys.New(keys.Options{Store: b.st, Game: game, Ring: ring, Notify: b.notes})
	b.rose, err = b.st.AllianceUpsert(context.Background(), store.AllianceUpsertParams{PnwAllianceID: rose, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	return b
}

// manager makes a manager of Rose with key stored as their alliance key,
// verified now.
func (b *bundle) manager(t *testing.T, discordID, key string) store.AllianceManager {
	t.Helper()
	ctx := context.Background()
	u, m := storetest.AddManager(t, b.st, b.ring, b.rose, discordID, key, "alliance_view_bank")
	_, err := b.st.AllianceManagerKeyVerified(ctx, store.AllianceManagerKeyVerifiedParams{ID: m.ID, ManagerApiKey: m.ManagerApiKey, KeyPermissions: m.KeyPermissions})
	require.NoError(t, err)
	m, err = b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: u.ID, AllianceID: b.rose.ID})
	require.NoError(t, err)
	return m
}

// TestWithAllianceKey: a read uses the alliance's own keys in turn; one the
// game refuses is marked revoked, its owner told once, and the next tried.
func TestWithAllianceKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.game.AddKey(bobKey, 102, "alliance_view_bank")
	b.manager(t, "1002", bobKey)
	alice := b.manager(t, "1001", aliceKey) // verified last, so tried first; the game no longer knows it

	var used []string
	read := func(key string) error {
		used = append(used, key)
		_, err := b.client.AllianceBank(ctx, key, rose)
		return err
	}
	require.NoError(t, b.keys.WithAllianceKey(ctx, b.rose, true, read))
	require.Contains(t, used, bobKey)
	m, err := b.st.AllianceManagerGet(ctx, store.AllianceManagerGetParams{UserID: alice.UserID, AllianceID: b.rose.ID})
	require.NoError(t, err)
	require.NotNil(t, m.KeyRevokedAt, "Alice's refused key is marked")
	require.Equal(t, keys.Revoked, keys.ManagerState(m))
	require.Len(t, b.notes.sent["1001"], 1)
	require.Contains(t, b.notes.sent["1001"][0], "The game refused your alliance key for **Rose**")

	// Only Bob's key is left; once the game refuses it too, none can read.
	b.game.RevokeKey(bobKey)
	err = b.keys.WithAllianceKey(ctx, b.rose, true, read)
	var none *keys.NoAllianceKey
	require.ErrorAs(t, err, &none)
	require.Equal(t, "No manager of Rose has an alliance key that may see the bank (the game's alliance_view_bank permission) linked: a manager links one with /alliance key.", none.Error())
	require.Len(t, b.notes.sent["1001"], 1, "told once")
	require.Len(t, b.notes.sent["1002"], 1)
}

// TestOwnNation: the game is asked, with the member's own stored key, who
// their nation is now; a key it refuses, marked refused before, or now of
// another nation is a refusal.
func TestOwnNation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.game.AddKey(aliceKey, 101)
	u, err := b.st.UserCreate(ctx, store.UserCreateParams{DiscordID: "1001", KeySalt: secrets.NewSalt()})
	require.NoError(t, err)
	info, err := b.keys.Owner(ctx, aliceKey, "")
	require.NoError(t, err)
	require.NoError(t, b.keys.LinkMember(ctx, u, aliceKey, info))
	u, err = b.st.UserGetByID(ctx, u.ID)
	require.NoError(t, err)

	n, err := b.keys.OwnNation(ctx, u)
	require.NoError(t, err)
	require.Equal(t, "101", n.Id)
	require.Equal(t, pnw.AlliancePositionEnumLEADER, n.AlliancePosition)
	require.Equal(t, "7", n.AllianceId)

	b.game.AddKey(aliceKey, 102) // the key now opens Bobistan
	_, err = b.keys.OwnNation(ctx, u)
	require.ErrorIs(t, err, keys.ErrKeyMoved)

	b.game.RevokeKey(aliceKey)
	_, err = b.keys.OwnNation(ctx, u)
	require.ErrorIs(t, err, keys.ErrKeyRefused)

	b.game.AddKey(aliceKey, 101)
	revoked := u
	revoked.KeyRevokedAt = new(time.Now())
	_, err = b.keys.OwnNation(ctx, revoked)
	require.ErrorIs(t, err, keys.ErrKeyRefused, "a key marked refused is not sent")
}

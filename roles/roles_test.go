package roles_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/roles"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/storetest"
)

const (
	botKey  = "botkey00000000000000"
	guild   = "800000000000000001"
	member  = "900000000000000001"
	officer = "900000000000000002"
	high    = "900000000000000010"
	mods    = "900000000000000011" // carries Ban Members
	rose    = 7
	alice   = "200000000000000001" // Discord users
	bob     = "200000000000000002"
	carol   = "200000000000000003"
	dave    = "200000000000000004"
)

// server is a Discord server in memory: what roles.Guilds reads and
// changes, with the bot's role at position 5.
type server struct {
	mu      sync.Mutex
	roles   []roles.Role
	members map[string][]string // user id -> role ids
	changes int
}

func (s *server) Members(context.Context, string) ([]roles.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []roles.Member
	for id, rs := range s.members {
		out = append(out, roles.Member{UserID: id, Roles: slices.Clone(rs)})
	}
	return out, nil
}

func (s *server) Roles(context.Context, string) ([]roles.Role, error) { return s.roles, nil }

func (s *server) Owner(context.Context, string) (string, error) { return alice, nil }

func (s *server) BotRoles(context.Context, string) ([]string, error) { return []string{"bot"}, nil }

func (s *server) Add(_ context.Context, _, user, role string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[user] = append(s.members[user], role)
	s.changes++
	return nil
}

func (s *server) Remove(_ context.Context, _, user, role string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[user] = slices.DeleteFunc(s.members[user], func(r string) bool { return r == role })
	s.changes++
	return nil
}

func (s *server) has(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.members[user])
	slices.Sort(out)
	return out
}

// TestSync: linked members get the roles their position gives, linked
// users outside lose them, unlinked users are left alone, and a role above
// the bot's is never attempted; a second pass changes nothing.
func TestSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	fake.AddKey(botKey, 1)
	fake.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose"})
	fake.AddNation(fakepnw.Nation{ID: 101, NationName: "Aliceland", AllianceID: rose, AlliancePosition: "LEADER"})
	fake.AddNation(fakepnw.Nation{ID: 102, NationName: "Bobistan", AllianceID: rose, AlliancePosition: "APPLICANT"})
	fake.AddNation(fakepnw.Nation{ID: 103, NationName: "Carolina"})
	game, err := pnw.New(pnw.Options{URL: fake.URL, APIKey: botKey})
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(ctx) })
	st := storetest.NewDB(t)
	by := roles.Chooser{DiscordID: alice} // who chooses the roles: the server's owner
	for id, nation := range map[string]int64{alice: 101, bob: 102, carol: 103} {
		u, err := st.UserCreate(ctx, store.UserCreateParams{DiscordID: id, KeySalt: secrets.NewSalt()})
		require.NoError(t, err)
		if id == alice {
			by.UserID = u.ID
		}
		_, err = st.UserLinkNation(ctx, store.UserLinkNationParams{ID: u.ID, PnwNationID: &nation, PnwApiKey: []byte("sealed"), KeyPermissions: []byte(`{}`)})
		require.NoError(t, err)
	}
	a, err := st.AllianceUpsert(ctx, store.AllianceUpsertParams{PnwAllianceID: rose, Name: "Rose", RouteSlug: "rose"})
	require.NoError(t, err)
	a, err = st.AllianceSetGuild(ctx, store.AllianceSetGuildParams{ID: a.ID, DiscordGuildID: ptr(guild)})
	require.NoError(t, err)
	srv := &server{
		roles: []roles.Role{{ID: member, Position: 2}, {ID: officer, Position: 3}, {ID: "bot", Position: 5}, {ID: high, Position: 7},
			{ID: mods, Position: 1, Powers: []string{"Ban Members"}}},
		members: map[string][]string{alice: nil, bob: {member}, carol: {member, officer}, dave: {member}},
	}
	r := roles.New(roles.Options{Store: st, Game: game, Guilds: srv})

	_, err = r.Sync(ctx, a, nil)
	require.ErrorIs(t, err, roles.ErrNoRoles)
	_, err = r.Choose(ctx, by, a, member, member)
	var invalid *roles.Invalid
	require.ErrorAs(t, err, &invalid)
	_, err = r.Choose(ctx, by, a, member, mods)
	require.ErrorAs(t, err, &invalid)
	require.Contains(t, invalid.Message, "carries Ban Members", "the bot never hands out power")
	a, err = r.Choose(ctx, by, a, member, officer)
	require.NoError(t, err)

	got, err := r.Sync(ctx, a, nil)
	require.NoError(t, err)
	require.Equal(t, roles.Synced{Given: 2, Taken: 3}, got)
	require.Equal(t, []string{member, officer}, srv.has(alice), "the leader is a member and in government")
	require.Empty(t, srv.has(bob), "an applicant is no member")
	require.Empty(t, srv.has(carol), "left the alliance")
	require.Equal(t, []string{member}, srv.has(dave), "never linked: left alone")

	changes := srv.changes
	_, err = r.Sync(ctx, a, nil)
	require.NoError(t, err)
	require.Equal(t, changes, srv.changes, "in step: nothing to change")

	a, err = r.Choose(ctx, by, a, member, high)
	require.NoError(t, err)
	got, err = r.Sync(ctx, a, nil)
	require.NoError(t, err)
	require.Equal(t, []roles.Skip{{Role: high, Reason: roles.TooHigh}}, got.Skipped)
	require.Contains(t, got.Skipped[0].String(), "is not below the bot's highest role")
	require.NotContains(t, srv.has(alice), high, "never attempted")
}

func ptr[T any](v T) *T { return &v }

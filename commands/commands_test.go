package commands_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"pnwbot/access"
	"pnwbot/audit"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/commands"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/secrets"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
)

const (
	botKey   = "botkey00000000000000"
	aliceKey = "alicekey000000000000"
	bobKey   = "bobkey00000000000000"
	aliceID  = "200000000000000001"
	bobID    = "200000000000000002"

	aliceNation = 1001
	bobNation   = 1002
	rose        = 77
)

type testBundle struct {
	st     *store.Store
	game   *fakepnw.Server
	client *pnw.Client
	keys   *secrets.Keyring
	router *bot.Router
	deps   *commands.Deps
	// built is what deps was built from: a test that changes it builds
	// the handlers again (with), as a process started so would be.
	built commands.Deps
	now   time.Time
}

// with builds the bundle's handlers again from its Deps as change leaves
// them.
func (b *testBundle) with(change func(*commands.Deps)) {
	change(&b.built)
	b.deps = commands.New(b.built)
	b.router = b.deps.Router()
}

func setup(t testing.TB) (*bot.Router, *testBundle) {
	t.Helper()
	st := storetest.NewDB(t)
	fake, err := fakepnw.New()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	fake.AddKey(botKey, 1)
	fake.AddKey(aliceKey, aliceNation, "nation_view_resources", "alliance_view_bank")
	fake.AddKey(bobKey, bobNation)
	fake.AddAlliance(fakepnw.Alliance{ID: rose, Name: "Rose", Acronym: "Rose", Score: 123456.78, Rank: 3, Color: "purple", AcceptMembers: true})
	fake.AddNation(fakepnw.Nation{ID: 1, NationName: "Bot Nation", LeaderName: "Bot"})
	fake.AddNation(fakepnw.Nation{ID: aliceNation, NationName: "Aliceland", LeaderName: "Alice", AllianceID: rose, AlliancePosition: "OFFICER",
		Score: 2500.5, NumCities: 21, Color: "purple", Soldiers: 150000, Tanks: 12500, Aircraft: 1500, Ships: 200, OffensiveWarsCount: 2,
		LastActive: time.Now().Add(-time.Hour)})
	fake.AddNation(fakepnw.Nation{ID: bobNation, NationName: "Bobistan", LeaderName: "Bob", Color: "red"})
	fake.AddNation(fakepnw.Nation{ID: 1003, NationName: "Alicia", LeaderName: "Other"})

	game, err := pnw.New(pnw.Options{URL: fake.URL, APIKey: botKey, Cache: kv.NewPostgresCache(st), Usage: kv.NewUsage(st)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = game.Close(context.Background()) })
	master, err := secrets.ParseKey(secrets.GenerateKey())
	require.NoError(t, err)
	keys, err := secrets.NewKeyring(master, nil)
	require.NoError(t, err)

	b := &testBundle{st: st, game: fake, client: game, keys: keys, now: time.Now()}
	b.built = commands.Deps{Store: st, Game: game, Keys: keys, Now: func() time.Time { return b.now }}
	b.with(func(*commands.Deps) {})
	return b.router, b
}

// interaction loads testdata/name.json, replacing {{placeholders}}; the
// invoker defaults to Alice, who may manage the server on Discord.
func interaction(t testing.TB, name string, vars ...string) *discordgo.Interaction {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	require.NoError(t, err)
	vars = append(vars, "user", aliceID, "username", "alice", "permissions", strconv.FormatInt(fakediscord.MemberPermissions|discordgo.PermissionManageGuild, 10))
	pairs := make([]string, 0, len(vars))
	for i := 0; i+1 < len(vars); i += 2 {
		pairs = append(pairs, "{{"+vars[i]+"}}", vars[i+1])
	}
	var i discordgo.Interaction
	require.NoError(t, json.Unmarshal([]byte(strings.NewReplacer(pairs...).Replace(string(raw))), &i))
	return &i
}

// serve runs an interaction through the router as the bot would.
func (b *testBundle) serve(t testing.TB, name string, vars ...string) (*bot.Response, error) {
	t.Helper()
	return b.router.Serve(context.Background(), interaction(t, name, vars...))
}

// reply serves an interaction that must succeed.
func (b *testBundle) reply(t testing.TB, name string, vars ...string) *bot.Response {
	t.Helper()
	resp, err := b.serve(t, name, vars...)
	require.NoError(t, err)
	require.NotNil(t, resp)
	return resp
}

func (b *testBundle) link(t testing.TB, user, key string) (*bot.Response, error) {
	t.Helper()
	return b.serve(t, "link_submit", "key", key, "user", user)
}

func (b *testBundle) user(t *testing.T, discordID string) store.User {
	t.Helper()
	u, err := b.st.UserGetByDiscordID(context.Background(), discordID)
	require.NoError(t, err)
	return u
}

func (b *testBundle) auditActions(t *testing.T) []store.AuditLog {
	t.Helper()
	rows, err := b.st.AuditLogList(context.Background(), store.AuditLogListParams{RowLimit: 100})
	require.NoError(t, err)
	return rows
}

// embedText flattens an embed for assertions.
func embedText(e *discordgo.MessageEmbed) string {
	var sb strings.Builder
	sb.WriteString(e.Title + "\n" + e.Description + "\n")
	for _, f := range e.Fields {
		sb.WriteString(f.Name + ": " + f.Value + "\n")
	}
	if e.Footer != nil {
		sb.WriteString(e.Footer.Text)
	}
	return sb.String()
}

// bootstrap makes ids the SUPER_ADMIN_DISCORD_IDS, as a start does.
func (b *testBundle) bootstrap(ctx context.Context, ids []string) error {
	return access.Changes{Log: audit.Log{Store: b.st}}.BootstrapSuperAdmins(ctx, ids)
}

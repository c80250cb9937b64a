package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
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
	pnwbank "pnwbot/bank"
	"pnwbot/bot"
	"pnwbot/bot/fakediscord"
	"pnwbot/commands"
	"pnwbot/ia"
	"pnwbot/keys"
	"pnwbot/members"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/roles"
	"pnwbot/secrets"
	"pnwbot/settings"
	"pnwbot/store"
	"pnwbot/store/kv"
	"pnwbot/store/storetest"
	"pnwbot/war"
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
	built wiring
	now   time.Time
}

// with builds the bundle's handlers again from its wiring as change
// leaves it.
func (b *testBundle) with(change func(*wiring)) {
	change(&b.built)
	b.deps = build(b.built)
	b.router = b.deps.Router()
}

// wiring is what a test builds the handlers from: the commands' Deps, and
// what the domain is built with besides.
type wiring struct {
	commands.Deps
	// Guilds gives and takes server roles; nil answers that there is no
	// Discord.
	Guilds commands.Guilds
	// WithdrawalCap is the most value a manager may withdraw in 24 hours;
	// zero means the setting bank.withdrawal_cap_per_manager_per_day.
	WithdrawalCap float64
}

// build builds the domain from w as cmd's newDomain does, each of its
// fields w's Deps leaves unset, then the handlers on it.
func build(w wiring) *commands.Deps {
	d := w.Deps
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Settings == nil {
		d.Settings = settings.New(d.Store, settings.Options{Logger: d.Logger})
	}
	var guilds commands.Guilds = noGuilds{}
	if w.Guilds != nil {
		guilds = w.Guilds
	}
	notices := d.Notices
	if notices == nil {
		notices = d.DM
	}
	notify := bot.Notifier{Messenger: notices, Logger: d.Logger}
	if d.AuditLog == (audit.Log{}) {
		d.AuditLog = audit.Log{Store: d.Store, Logger: d.Logger}
	}
	if d.Access == (access.Changes{}) {
		d.Access = access.Changes{Log: d.AuditLog}
	}
	if d.GameKeys == nil {
		d.GameKeys = keys.New(keys.Options{Store: d.Store, Game: d.Game, Ring: d.Keys, Notify: notify, Logger: d.Logger, Now: d.Now})
	}
	if d.Roles == nil {
		var connections roles.Connections // none without the web side
		if d.LinkedRoles != nil {
			connections = d.LinkedRoles
		}
		d.Roles = roles.New(roles.Options{Store: d.Store, Game: d.Game, Guilds: commands.RoleGuilds{Discord: guilds}, Connections: connections, Keys: d.GameKeys, Logger: d.Logger})
	}
	if d.Bank == nil {
		d.Bank = pnwbank.New(pnwbank.Options{Store: d.Store, Game: d.Game, Keys: d.GameKeys, Settings: d.Settings, Logger: d.Logger, Now: d.Now, Cap: w.WithdrawalCap})
	}
	if d.War == nil {
		d.War = war.New(war.Options{Store: d.Store, Game: d.Game, Notifier: commands.WarAlerts{Discord: d.Channels}, Logger: d.Logger})
	}
	if d.IA == nil {
		d.IA = ia.New(ia.Options{Store: d.Store, Game: d.Game, Keys: d.GameKeys, Guild: commands.IAGuild{Discord: guilds},
			Notifier: commands.IANotices{Discord: d.Channels, Notices: notify}, Logger: d.Logger, Now: d.Now})
	}
	if d.Members == nil {
		d.Members = members.New(members.Options{Store: d.Store, Game: d.Game, Keys: d.GameKeys, Logger: d.Logger})
	}
	return commands.New(d)
}

// noGuilds is Discord's guilds when a test has none: every call answers
// that there is no Discord guild access.
type noGuilds struct{}

var errNoGuilds = errors.New("no Discord guild access")

func (noGuilds) GuildMembers(context.Context, string) ([]*discordgo.Member, error) {
	return nil, errNoGuilds
}
func (noGuilds) GuildRoles(context.Context, string) ([]*discordgo.Role, error) {
	return nil, errNoGuilds
}
func (noGuilds) GuildOwner(context.Context, string) (string, error)             { return "", errNoGuilds }
func (noGuilds) BotRoles(context.Context, string) ([]string, error)             { return nil, errNoGuilds }
func (noGuilds) AddMemberRole(context.Context, string, string, string) error    { return errNoGuilds }
func (noGuilds) RemoveMemberRole(context.Context, string, string, string) error { return errNoGuilds }

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
	b.built = wiring{Deps: commands.Deps{Store: st, Game: game, Keys: keys, Now: func() time.Time { return b.now }}}
	b.with(func(*wiring) {})
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

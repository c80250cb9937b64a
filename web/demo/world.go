package demo

import (
	"time"

	"github.com/bwmarrin/discordgo"

	"pnwbot/bot/fakediscord"
	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
)

// World is the fixture the demo runs in: what the fake game knows, the game
// API keys a visitor can paste into /link, and the Discord members the page
// can act as.
type World struct {
	// BotKey is the bot's own game key (PNW_API_KEY); MutationKey the
	// key the game wants for bank withdrawals (PNW_BOT_KEY).
	BotKey, MutationKey string
	Keys                []Key
	Users               []User
	// Roles are the Discord server's roles /alliance roles offers.
	Roles []Role
	// Channels are its text channels, where the bot posts unasked.
	Channels  []Channel
	Events    []Event
	Alliances []fakepnw.Alliance
	Nations   []fakepnw.Nation
	// discord names the threads the bot starts.
	discord *fakediscord.Fake
}

// Channel is a text channel of the demo's Discord server.
type Channel struct {
	ID, Name string
}

// Event is the world moving: the fake game acts when the page's button
// asks, so that what the bot makes of it can be seen arriving.
type Event struct {
	ID, Label, Hint string
	do              func() error
}

// Role is a role of the demo's Discord server.
type Role struct {
	ID, Name string
}

// Key is a game API key and the nation it belongs to.
type Key struct {
	Key, Nation, Leader, Alliance string
	// LinkedBy names the user who linked the nation with this key before
	// the demo began (pnwbot demo links it at start); "" for none.
	LinkedBy string
}

// User is a member of the demo's Discord server.
type User struct {
	ID, Name string
	// Permissions are the Discord permissions they hold in the server
	// beyond an ordinary member's.
	Permissions int64 `json:"-"`
}

// Alliances of the fixture world.
const (
	rose      = 790
	arrgh     = 913
	syndicate = 1742
)

// Seed fills game and the Discord server of discord with the fixture world
// (bob is a member of Rose who linked his nation, its leader tess);
// its events act through game and its subscriptions, subs.
func Seed(game *fakepnw.Server, subs *fakepnw.Subscriptions, discord *fakediscord.Fake) World {
	founded := time.Date(2019, 3, 14, 12, 0, 0, 0, time.UTC)
	w := World{discord: discord, BotKey: "demoBotKey000000", MutationKey: "demoMutationKey0", Alliances: []fakepnw.Alliance{
		{ID: rose, Name: "Rose", Acronym: "Rose", Score: 412345.6, AverageScore: 3120.5, Rank: 4, Color: "purple", AcceptMembers: true, Founded: founded,
			Bank: pnw.Amounts{pnw.Money: 48_250_000, pnw.Food: 310_000, pnw.Steel: 42_000, pnw.Aluminum: 27_500, pnw.Gasoline: 18_000, pnw.Munitions: 21_000, pnw.Uranium: 1_900}},
		{ID: arrgh, Name: "Arrgh", Acronym: "ARRGH", Score: 98765.4, AverageScore: 1890.2, Rank: 37, Color: "pink", Founded: founded.AddDate(1, 0, 0)},
		{ID: syndicate, Name: "The Syndicate", Acronym: "TS", Score: 356789.1, AverageScore: 2950.7, Rank: 6, Color: "orange", AcceptMembers: true, Founded: founded.AddDate(0, 6, 0)},
	}}
	for _, a := range w.Alliances {
		game.AddAlliance(a)
	}
	active := time.Now().Add(-40 * time.Minute)
	nations := []struct {
		fakepnw.Nation
		key, alliance string
		officer       bool   // the key may see and move the alliance's bank
		linkedBy      string // a member who linked it already
	}{
		{fakepnw.Nation{ID: 101, NationName: "Testonia", LeaderName: "Tess", AllianceID: rose, AlliancePosition: "LEADER", Score: 5120.4, NumCities: 31, Color: "purple",
			Soldiers: 225000, Tanks: 18000, Aircraft: 2250, Ships: 300, Missiles: 4, Nukes: 1, OffensiveWarsCount: 1}, "demoTestonia0000", "Rose", true, ""},
		{fakepnw.Nation{ID: 102, NationName: "Aliceland", LeaderName: "Alice", AllianceID: rose, AlliancePosition: "OFFICER", Score: 2500.5, NumCities: 21, Color: "purple",
			Soldiers: 150000, Tanks: 12500, Aircraft: 1500, Ships: 200}, "demoAliceland000", "Rose", true, ""},
		{fakepnw.Nation{ID: 103, NationName: "Bobistan", LeaderName: "Bob", AllianceID: rose, Score: 1420.9, NumCities: 14, Color: "purple",
			Soldiers: 60000, Tanks: 5000, Aircraft: 800, Ships: 90, DefensiveWarsCount: 2}, "demoBobistan0000", "Rose", false, "bob"},
		{fakepnw.Nation{ID: 104, NationName: "Carolia", LeaderName: "Carol", AllianceID: syndicate, AlliancePosition: "HEIR", Score: 3890.2, NumCities: 26, Color: "orange",
			Soldiers: 190000, Tanks: 15500, Aircraft: 1900, Ships: 240, Missiles: 2}, "demoCarolia00000", "The Syndicate", true, ""},
		{fakepnw.Nation{ID: 105, NationName: "Drifter Isle", LeaderName: "Dave", Score: 640.1, NumCities: 7, Color: "beige", BeigeTurns: 12,
			Soldiers: 15000, Tanks: 700, Aircraft: 90}, "demoDrifter00000", "", false, ""},
		{fakepnw.Nation{ID: 106, NationName: "Skullport", LeaderName: "Redbeard", AllianceID: arrgh, AlliancePosition: "LEADER", Score: 4630.8, NumCities: 28, Color: "pink",
			Soldiers: 205000, Tanks: 16500, Aircraft: 2100, Ships: 280, Missiles: 3}, "demoSkullport000", "Arrgh", true, ""},
	}
	game.AddNation(fakepnw.Nation{ID: 1, NationName: "Pnwbot Nation", LeaderName: "pnwbot", Founded: founded, LastActive: active})
	game.AddKey(w.BotKey, 1)
	game.SetBotKey(w.MutationKey)
	for _, n := range nations {
		n.Founded, n.LastActive = founded, active
		game.AddNation(n.Nation)
		w.Nations = append(w.Nations, n.Nation)
		perms := []string{"nation_view_resources", "alliance_view_bank"}
		if n.officer {
			perms = append(perms, "alliance_withdraw_bank")
		}
		game.AddKey(n.key, n.ID, perms...)
		w.Keys = append(w.Keys, Key{Key: n.key, Nation: n.NationName, Leader: n.LeaderName, Alliance: n.alliance, LinkedBy: n.linkedBy})
	}
	w.Users = []User{
		{ID: "200000000000000001", Name: "tess", Permissions: discordgo.PermissionAdministrator}, // the server's owner and admin
		{ID: "200000000000000002", Name: "alice"},
		{ID: "200000000000000003", Name: "bob"},
		{ID: "200000000000000004", Name: "carol"},
	}
	// The bot's role is above those it gives, as a server owner sets it.
	w.Roles = []Role{{ID: "400000000000000002", Name: "Rose"}, {ID: "400000000000000003", Name: "Rose government"}}
	const botRole = "400000000000000009"
	discord.AddRole(fakediscord.GuildID, fakediscord.GuildID, "@everyone", 0)
	for i, r := range w.Roles {
		discord.AddRole(fakediscord.GuildID, r.ID, r.Name, i+1)
	}
	discord.AddRole(fakediscord.GuildID, botRole, "pnwbot", len(w.Roles)+1)
	discord.AddMember(fakediscord.GuildID, fakediscord.BotUserID, botRole)
	for _, u := range w.Users {
		discord.AddMember(fakediscord.GuildID, u.ID)
	}
	discord.SetOwner(fakediscord.GuildID, w.Users[0].ID) // tess: she chooses the roles that follow the game
	w.Channels = []Channel{{ID: "600000000000000001", Name: "war-alerts"}, {ID: "600000000000000002", Name: "audits"},
		{ID: "600000000000000003", Name: "bank-requests"}}
	for _, c := range w.Channels {
		discord.AddChannel(fakediscord.GuildID, c.ID, c.Name)
	}
	w.Events = []Event{
		{ID: "war", Label: "Arrgh declares war on Testonia",
			Hint: "Skullport attacks; the alert arrives in #war-alerts once Rose chose it: /war alerts channel channel: #war-alerts kind: defensive",
			do: func() error {
				subs.DeclareWar(fakepnw.War{AttID: 106, AttAllianceID: arrgh, DefID: 101, DefAllianceID: rose, Reason: "Arrr, yer bank."})
				return nil
			}},
		{ID: "deposit", Label: "alice deposits 5,000,000 money with #deposit",
			Hint: "the ledger has it within seconds (within a minute of the first /alliance key, its first read): /bank balance nation: Aliceland",
			do: func() error {
				_, err := subs.Deposit(102, pnw.Amounts{pnw.Money: 5_000_000}, "#deposit")
				return err
			}},
		{ID: "inactive", Label: "bob goes inactive for 8 days",
			Hint: "then /audit run shows it, given a rule (/audit rules set kind: inactive); /audit channel channel: #audits posts the daily report there within seconds, and bob, who linked his nation, gets a reminder in his DMs",
			do: func() error {
				game.SetInactiveDays(103, 8)
				return nil
			}},
	}
	return w
}

func (w World) channel(id string) *Channel {
	for _, c := range w.Channels {
		if c.ID == id {
			return &c
		}
	}
	return nil
}

func (w World) event(id string) *Event {
	for _, e := range w.Events {
		if e.ID == id {
			return &e
		}
	}
	return nil
}

package fakediscord

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// guilds is the fake's servers: their roles and members. Like Discord, it
// refuses (403, Missing Permissions) to give or take a role that is not
// below the bot's highest role, and lists members only to an application
// with the Server Members intent (on unless SetMembersIntent(false)).
type guilds struct {
	mu      sync.Mutex
	roles   map[string][]*discordgo.Role   // by guild
	members map[string]map[string][]string // role ids by user id, by guild
	owners  map[string]string              // owner's user id, by guild
	intent  bool
	changes int
}

func newGuilds() *guilds {
	return &guilds{roles: map[string][]*discordgo.Role{}, members: map[string]map[string][]string{}, owners: map[string]string{}, intent: true}
}

func (g *guilds) routes(mux *http.ServeMux, auth func(http.HandlerFunc) http.HandlerFunc) {
	mux.HandleFunc("GET /api/v9/guilds/{guild}", auth(g.guild))
	mux.HandleFunc("GET /api/v9/guilds/{guild}/roles", auth(g.listRoles))
	mux.HandleFunc("GET /api/v9/guilds/{guild}/members", auth(g.listMembers))
	mux.HandleFunc("GET /api/v9/guilds/{guild}/members/{user}", auth(g.member))
	mux.HandleFunc("PUT /api/v9/guilds/{guild}/members/{user}/roles/{role}", auth(g.changeRole))
	mux.HandleFunc("DELETE /api/v9/guilds/{guild}/members/{user}/roles/{role}", auth(g.changeRole))
}

// AddRole adds a role to a guild at a position (higher is more powerful).
func (f *Fake) AddRole(guildID, roleID, name string, position int) {
	g := f.guilds
	g.mu.Lock()
	defer g.mu.Unlock()
	g.roles[guildID] = append(g.roles[guildID], &discordgo.Role{ID: roleID, Name: name, Position: position})
}

// SetOwner makes a user the guild's owner, whom Discord exempts from the
// role hierarchy.
func (f *Fake) SetOwner(guildID, userID string) {
	g := f.guilds
	g.mu.Lock()
	defer g.mu.Unlock()
	g.owners[guildID] = userID
}

// SetRolePermissions sets the permissions a role grants.
func (f *Fake) SetRolePermissions(guildID, roleID string, perms int64) {
	g := f.guilds
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range g.roles[guildID] {
		if r.ID == roleID {
			r.Permissions = perms
		}
	}
}

// AddMember adds a user to a guild with roles; the bot is BotUserID, and
// its highest role is the highest it may manage below.
func (f *Fake) AddMember(guildID, userID string, roleIDs ...string) {
	g := f.guilds
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.members[guildID] == nil {
		g.members[guildID] = map[string][]string{}
	}
	g.members[guildID][userID] = slices.Clone(roleIDs)
}

// MemberRoles returns a member's role ids, sorted.
func (f *Fake) MemberRoles(guildID, userID string) []string {
	g := f.guilds
	g.mu.Lock()
	defer g.mu.Unlock()
	roles := slices.Clone(g.members[guildID][userID])
	slices.Sort(roles)
	return roles
}

// RoleChanges counts the roles given or taken so far.
func (f *Fake) RoleChanges() int {
	g := f.guilds
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.changes
}

// SetMembersIntent turns the Server Members intent on or off.
func (f *Fake) SetMembersIntent(on bool) {
	g := f.guilds
	g.mu.Lock()
	defer g.mu.Unlock()
	g.intent = on
}

func (g *guilds) guild(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	id := r.PathValue("guild")
	if _, ok := g.roles[id]; !ok {
		writeError(w, http.StatusNotFound, 10004, "Unknown Guild")
		return
	}
	writeJSON(w, http.StatusOK, &discordgo.Guild{ID: id, OwnerID: g.owners[id], Roles: append([]*discordgo.Role{}, g.roles[id]...)})
}

func (g *guilds) listRoles(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	writeJSON(w, http.StatusOK, append([]*discordgo.Role{}, g.roles[r.PathValue("guild")]...))
}

func (g *guilds) memberJSON(guildID, userID string) *discordgo.Member {
	return &discordgo.Member{GuildID: guildID, User: &discordgo.User{ID: userID, Username: "user" + userID, Bot: userID == BotUserID},
		Roles: slices.Clone(g.members[guildID][userID])}
}

func (g *guilds) listMembers(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.intent {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return
	}
	guildID := r.PathValue("guild")
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	var ids []string
	for id := range g.members[guildID] {
		if n, _ := strconv.ParseUint(id, 10, 64); n > after {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, _ := strconv.ParseUint(ids[i], 10, 64)
		b, _ := strconv.ParseUint(ids[j], 10, 64)
		return a < b
	})
	if limit < 1 || limit > 1000 {
		limit = 1
	}
	out := []*discordgo.Member{}
	for _, id := range ids[:min(limit, len(ids))] {
		out = append(out, g.memberJSON(guildID, id))
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *guilds) member(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	guildID, userID := r.PathValue("guild"), r.PathValue("user")
	if _, ok := g.members[guildID][userID]; !ok {
		writeError(w, http.StatusNotFound, 10007, "Unknown Member")
		return
	}
	writeJSON(w, http.StatusOK, g.memberJSON(guildID, userID))
}

// position is a role's position in a guild; -1 when there is no such role.
func (g *guilds) position(guildID, roleID string) int {
	for _, role := range g.roles[guildID] {
		if role.ID == roleID {
			return role.Position
		}
	}
	return -1
}

func (g *guilds) changeRole(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	guildID, userID, roleID := r.PathValue("guild"), r.PathValue("user"), r.PathValue("role")
	roles, ok := g.members[guildID][userID]
	pos := g.position(guildID, roleID)
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, 10007, "Unknown Member")
		return
	case pos < 0:
		writeError(w, http.StatusNotFound, 10011, "Unknown Role")
		return
	}
	top := -1
	for _, id := range g.members[guildID][BotUserID] {
		top = max(top, g.position(guildID, id))
	}
	if pos >= top {
		writeError(w, http.StatusForbidden, 50013, "Missing Permissions")
		return
	}
	i := slices.Index(roles, roleID)
	switch {
	case r.Method == http.MethodPut && i < 0:
		g.members[guildID][userID] = append(roles, roleID)
		g.changes++
	case r.Method == http.MethodDelete && i >= 0:
		g.members[guildID][userID] = slices.Delete(roles, i, i+1)
		g.changes++
	}
	w.WriteHeader(http.StatusNoContent)
}

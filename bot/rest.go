package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultAPIBaseURL is Discord's.
const DefaultAPIBaseURL = "https://discord.com"

// RESTOptions configure a REST client.
type RESTOptions struct {
	// Token is the bare bot token, without the "Bot " prefix (config strips
	// it).
	Token string
	// APIBaseURL replaces https://discord.com for every REST call and the
	// gateway lookup: a REST proxy or a local fake.
	APIBaseURL string
	Logger     *slog.Logger
	// Registerer gets the count of failed REST requests; nil keeps it
	// unregistered.
	Registerer prometheus.Registerer
}

// REST is the bot's Discord REST client: direct messages, guild roles and
// members, the application's id and its Linked Roles metadata. It is made
// before the router, so that commands, jobs and the web side get it when
// they are built; the Bot answers interactions and opens the gateway with
// its session.
type REST struct {
	session *discordgo.Session
	appID   string
}

// ErrTokenRefused is DialREST's error when Discord answers 401 to the token.
var ErrTokenRefused = errors.New("bot: Discord refused the token (401 Unauthorized)")

// DialREST builds the client, checks the token and reads the application's
// id. The token is checked with a REST call, so that a wrong one fails with
// a plain 401 rather than as a gateway close code after the websocket
// handshake.
func DialREST(ctx context.Context, opts RESTOptions) (*REST, error) {
	if opts.Token == "" {
		return nil, errors.New("bot: no Discord token")
	}
	if opts.APIBaseURL == "" {
		opts.APIBaseURL = DefaultAPIBaseURL
	}
	base, err := url.Parse(opts.APIBaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("bot: Discord API URL %q is not an http(s) URL", opts.APIBaseURL)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	restErrors, err := newRESTMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("bot: metrics: %w", err)
	}
	s, err := discordgo.New("Bot " + opts.Token)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	s.Client = &http.Client{Timeout: 20 * time.Second, Transport: countErrors(rewriteHost(base), restErrors)}

	me, err := s.User("@me", discordgo.WithContext(ctx))
	var re *discordgo.RESTError
	switch {
	case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized:
		return nil, ErrTokenRefused
	case err != nil:
		return nil, fmt.Errorf("bot: reach Discord: %w", err)
	}
	opts.Logger.InfoContext(ctx, "Discord token accepted", "bot_user", me.Username, "bot_user_id", me.ID)
	app, err := s.Application("@me")
	if err != nil {
		return nil, fmt.Errorf("bot: read the application: %w", err)
	}
	return &REST{session: s, appID: app.ID}, nil
}

// rewriteHost sends every request to base's scheme and host, paths unchanged,
// so a proxy or a fake stands in for discord.com without touching
// discordgo's package-level endpoints.
func rewriteHost(base *url.URL) http.RoundTripper {
	if base.String() == DefaultAPIBaseURL {
		return http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = base.Scheme, base.Host, ""
		return http.DefaultTransport.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ApplicationID is the application's id (its OAuth2 client id).
func (r *REST) ApplicationID() string { return r.appID }

// RegisterRoleMetadata replaces the application's Linked Roles metadata
// records with the bot token.
func (r *REST) RegisterRoleMetadata(records []*discordgo.ApplicationRoleConnectionMetadata) error {
	if _, err := r.session.ApplicationRoleConnectionMetadataUpdate(r.appID, records); err != nil {
		return fmt.Errorf("bot: register Linked Roles metadata: %w", err)
	}
	return nil
}

// DirectMessage sends resp to a user as a direct message: the way to reach a
// user outside an interaction, such as a form to fill in privately or a
// notice. Discord refuses (403) when the user accepts no DMs from the bot.
func (r *REST) DirectMessage(ctx context.Context, userID string, resp *Response) error {
	opt := discordgo.WithContext(ctx)
	ch, err := r.session.UserChannelCreate(userID, opt)
	if err != nil {
		return fmt.Errorf("bot: open DM: %w", err)
	}
	_, err = r.session.ChannelMessageSendComplex(ch.ID, &discordgo.MessageSend{
		Content: resp.Content, Embeds: resp.Embeds, Components: resp.Components, AllowedMentions: noMentions(),
	}, opt)
	if err != nil {
		return fmt.Errorf("bot: send DM: %w", err)
	}
	return nil
}

// GuildMembers lists every member of a guild, 1,000 a request. Discord
// allows it only to an application with the Server Members intent (in the
// developer portal).
func (r *REST) GuildMembers(ctx context.Context, guildID string) ([]*discordgo.Member, error) {
	var all []*discordgo.Member
	after := ""
	for {
		page, err := r.session.GuildMembers(guildID, after, 1000, discordgo.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("bot: list members: %w", err)
		}
		all = append(all, page...)
		if len(page) < 1000 {
			return all, nil
		}
		after = page[len(page)-1].User.ID
	}
}

// GuildRoles lists a guild's roles.
func (r *REST) GuildRoles(ctx context.Context, guildID string) ([]*discordgo.Role, error) {
	roles, err := r.session.GuildRoles(guildID, discordgo.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("bot: list roles: %w", err)
	}
	return roles, nil
}

// GuildOwner returns the user id of a guild's owner, whom Discord exempts
// from the role hierarchy.
func (r *REST) GuildOwner(ctx context.Context, guildID string) (string, error) {
	g, err := r.session.Guild(guildID, discordgo.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("bot: read guild: %w", err)
	}
	return g.OwnerID, nil
}

// BotRoles returns the role ids the bot holds in a guild: the highest of
// them bounds the roles it may give or take.
func (r *REST) BotRoles(ctx context.Context, guildID string) ([]string, error) {
	me, err := r.session.User("@me", discordgo.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("bot: who am I: %w", err)
	}
	m, err := r.session.GuildMember(guildID, me.ID, discordgo.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("bot: own member: %w", err)
	}
	return m.Roles, nil
}

// AddMemberRole gives a member a role.
func (r *REST) AddMemberRole(ctx context.Context, guildID, userID, roleID string) error {
	if err := r.session.GuildMemberRoleAdd(guildID, userID, roleID, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("bot: give role: %w", err)
	}
	return nil
}

// RemoveMemberRole takes a role from a member.
func (r *REST) RemoveMemberRole(ctx context.Context, guildID, userID, roleID string) error {
	if err := r.session.GuildMemberRoleRemove(guildID, userID, roleID, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("bot: take role: %w", err)
	}
	return nil
}

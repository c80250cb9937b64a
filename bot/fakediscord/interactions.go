package fakediscord

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// The invoker and guild of the interactions built here.
const (
	UserID   = "200000000000000001"
	Username = "player"
	GuildID  = "300000000000000001"
	// MemberPermissions is what an ordinary member holds in a channel, as
	// Discord sends it in member.permissions: no moderation or admin power.
	MemberPermissions int64 = 2248473465835073
)

// Command builds a slash command interaction for a command path such as
// "/alliance/info", invoked by UserID in GuildID, with options for the leaf.
func Command(path string, options ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	return command(discordgo.InteractionApplicationCommand, path, options)
}

// Autocomplete builds an autocomplete interaction; mark the option being
// typed with Focused.
func Autocomplete(path string, options ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	return command(discordgo.InteractionApplicationCommandAutocomplete, path, options)
}

func command(t discordgo.InteractionType, path string, options []*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	names := strings.Split(strings.TrimPrefix(path, "/"), "/")
	// Nest the options under the subcommand, and it under its group.
	for k := len(names) - 1; k >= 1; k-- {
		typ := discordgo.ApplicationCommandOptionSubCommand
		if k < len(names)-1 {
			typ = discordgo.ApplicationCommandOptionSubCommandGroup
		}
		options = []*discordgo.ApplicationCommandInteractionDataOption{{Name: names[k], Type: typ, Options: options}}
	}
	i := interaction(t)
	i.Data = discordgo.ApplicationCommandInteractionData{
		ID: snowflake(), Name: names[0], CommandType: discordgo.ChatApplicationCommand, Options: options,
	}
	return i
}

// Option is a command option; its type follows value's: string, int, int64,
// float64 or bool.
func Option(name string, value any) *discordgo.ApplicationCommandInteractionDataOption {
	o := &discordgo.ApplicationCommandInteractionDataOption{Name: name, Value: value}
	switch v := value.(type) {
	case string:
		o.Type = discordgo.ApplicationCommandOptionString
	case int:
		o.Type, o.Value = discordgo.ApplicationCommandOptionInteger, float64(v)
	case int64:
		o.Type, o.Value = discordgo.ApplicationCommandOptionInteger, float64(v)
	case float64:
		o.Type = discordgo.ApplicationCommandOptionNumber
	case bool:
		o.Type = discordgo.ApplicationCommandOptionBoolean
	default:
		panic("fakediscord: unsupported option value")
	}
	return o
}

// Focused marks o as the option being typed.
func Focused(o *discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	o.Focused = true
	return o
}

// Component builds a button click with this custom_id on a bot message.
func Component(customID string) *discordgo.Interaction {
	i := interaction(discordgo.InteractionMessageComponent)
	i.Data = discordgo.MessageComponentInteractionData{CustomID: customID, ComponentType: discordgo.ButtonComponent}
	i.Message = &discordgo.Message{ID: snowflake(), ChannelID: i.ChannelID, Author: botUser()}
	return i
}

// ModalSubmit builds a modal submission with one text input per value, keyed
// by the inputs' custom_id.
func ModalSubmit(customID string, values map[string]string) *discordgo.Interaction {
	i := interaction(discordgo.InteractionModalSubmit)
	d := discordgo.ModalSubmitInteractionData{CustomID: customID}
	for id, v := range values {
		d.Components = append(d.Components, &discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			&discordgo.TextInput{CustomID: id, Value: v},
		}})
	}
	i.Data = d
	return i
}

func interaction(t discordgo.InteractionType) *discordgo.Interaction {
	id := snowflake()
	return &discordgo.Interaction{
		ID: id, AppID: AppID, Type: t, Token: "token-" + id, Version: 1,
		GuildID: GuildID, ChannelID: snowflake(), Locale: discordgo.EnglishUS,
		Member: &discordgo.Member{GuildID: GuildID, User: &discordgo.User{ID: UserID, Username: Username}, Permissions: MemberPermissions},
	}
}

// WithPermissions gives the invoker of i, a member, these permissions too
// (discordgo.PermissionManageRoles, say).
func WithPermissions(i *discordgo.Interaction, perms int64) *discordgo.Interaction {
	i.Member.Permissions |= perms
	return i
}

// InDM moves i to a DM: the invoker is i.User and there is no member.
func InDM(i *discordgo.Interaction) *discordgo.Interaction {
	i.User, i.Member, i.GuildID = i.Member.User, nil, ""
	i.Context = discordgo.InteractionContextBotDM
	return i
}

// As makes user the invoker of i, in place of UserID.
func As(user *discordgo.User, i *discordgo.Interaction) *discordgo.Interaction {
	if i.Member != nil {
		i.Member.User = user
	} else {
		i.User = user
	}
	return i
}

// snowflake returns a random ID shaped like Discord's.
func snowflake() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<52))
	return strconv.FormatInt(1<<60+n.Int64(), 10)
}

// MarshalInteraction encodes i as Discord sends it. discordgo drops a modal
// submission's components when encoding; this keeps them.
func MarshalInteraction(i *discordgo.Interaction) ([]byte, error) {
	d, ok := i.Data.(discordgo.ModalSubmitInteractionData)
	if !ok {
		return json.Marshal(i)
	}
	type modal struct {
		CustomID   string                       `json:"custom_id"`
		Components []discordgo.MessageComponent `json:"components"`
	}
	type alias discordgo.Interaction // without Interaction's methods
	return json.Marshal(struct {
		*alias
		Data modal `json:"data"`
	}{(*alias)(i), modal{d.CustomID, d.Components}})
}

// NewKey returns an Ed25519 key pair for the interactions endpoint.
func NewKey() (ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return pub, priv
}

// SignedRequest returns POST /interactions carrying body, signed by key at
// timestamp as Discord signs it.
func SignedRequest(key ed25519.PrivateKey, body []byte, timestamp time.Time) *http.Request {
	ts := strconv.FormatInt(timestamp.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, "/interactions", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Signature-Timestamp", ts)
	r.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(key, append([]byte(ts), body...))))
	return r
}

// Floor is the cheapest interactions endpoint there is, the floor that
// benchmarks compare pnwbot with: it verifies the signature against pub,
// decodes the interaction and answers "pong" and its id.
func Floor(pub ed25519.PublicKey) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i discordgo.Interaction
		if !discordgo.VerifyInteraction(r, pub) || json.NewDecoder(r.Body).Decode(&i) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "pong " + i.ID},
		})
	})
}

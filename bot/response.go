package bot

import (
	"errors"

	"github.com/bwmarrin/discordgo"
)

// ResponseType says what a Response is.
type ResponseType int

const (
	// TypeMessage is a new message (callback type 4).
	TypeMessage ResponseType = iota
	// TypeUpdate edits the message a component sits on (type 7).
	TypeUpdate
	// TypeModal opens a modal (type 9); only as a first, fast answer.
	TypeModal
	// TypeChoices answers autocomplete (type 8).
	TypeChoices
)

// maxChoices is Discord's limit on autocomplete choices.
const maxChoices = 25

// Response is what a handler answers. Replies never ping anyone.
type Response struct {
	Type       ResponseType
	Content    string
	Embeds     []*discordgo.MessageEmbed
	Components []discordgo.MessageComponent
	// Ephemeral makes a message private. A reply on an ephemeral route, or to
	// a user who prefers private replies, is private whatever this says.
	Ephemeral bool
	// CustomID and Title are a modal's.
	CustomID string
	Title    string
	Choices  []*discordgo.ApplicationCommandOptionChoice
	// Files are attachments, such as a chart an embed shows with
	// "attachment://name.png". A reply with files is always deferred, then
	// sent as an edit: an HTTP interaction's first answer cannot carry them.
	Files []*discordgo.File
}

// Reply returns a message response.
func Reply(content string) *Response { return &Response{Content: content} }

// Modal returns a modal with one text input a row. Set Required: true on the
// inputs that need it: discordgo sends false as "optional".
func Modal(customID, title string, inputs ...*discordgo.TextInput) *Response {
	rows := make([]discordgo.MessageComponent, len(inputs))
	for i, in := range inputs {
		rows[i] = discordgo.ActionsRow{Components: []discordgo.MessageComponent{in}}
	}
	return &Response{Type: TypeModal, CustomID: customID, Title: title, Components: rows}
}

// Choices returns an autocomplete answer, keeping the first 25 choices.
func Choices(choices ...*discordgo.ApplicationCommandOptionChoice) *Response {
	if choices == nil {
		choices = []*discordgo.ApplicationCommandOptionChoice{} // Discord wants [], not null
	}
	return &Response{Type: TypeChoices, Choices: choices[:min(len(choices), maxChoices)]}
}

// privateIfNeeded returns resp made private when it is a message and req's
// reply must be: the route says so or the caller prefers it.
func privateIfNeeded(req *Request, resp *Response) *Response {
	if resp == nil || resp.Type != TypeMessage || resp.Ephemeral || !req.private() {
		return resp
	}
	private := *resp // handlers may share a response value
	private.Ephemeral = true
	return &private
}

// check rejects a response Discord would refuse.
func (r *Response) check() error {
	switch {
	case r == nil:
		return errors.New("handler returned no response and no error")
	case (r.Type == TypeMessage || r.Type == TypeUpdate) && r.Content == "" && len(r.Embeds) == 0 && len(r.Components) == 0:
		return errors.New("handler returned an empty message")
	case r.Type < TypeMessage || r.Type > TypeChoices:
		return errors.New("handler returned an unknown response type")
	}
	return nil
}

func noMentions() *discordgo.MessageAllowedMentions { return &mentionNobody }

// mentionNobody is shared by every message: it is only ever encoded.
var mentionNobody = discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}

func (r *Response) flags() discordgo.MessageFlags {
	if r.Ephemeral && r.Type == TypeMessage {
		return discordgo.MessageFlagsEphemeral
	}
	return 0
}

// interactionResponse is r as a first answer.
func (r *Response) interactionResponse() *discordgo.InteractionResponse {
	switch r.Type {
	case TypeModal:
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: &discordgo.InteractionResponseData{
			CustomID: r.CustomID, Title: r.Title, Components: r.Components,
		}}
	case TypeChoices:
		return &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult, Data: &discordgo.InteractionResponseData{
			Choices: r.Choices,
		}}
	}
	t := discordgo.InteractionResponseChannelMessageWithSource
	if r.Type == TypeUpdate {
		t = discordgo.InteractionResponseUpdateMessage
	}
	return &discordgo.InteractionResponse{Type: t, Data: &discordgo.InteractionResponseData{
		Content: r.Content, Embeds: r.Embeds, Components: r.Components,
		Flags: r.flags(), AllowedMentions: noMentions(),
	}}
}

// edit is r as an edit of the original response.
func (r *Response) edit() *discordgo.WebhookEdit {
	components := r.Components
	if components == nil {
		components = []discordgo.MessageComponent{} // clears the buttons of the message
	}
	embeds := r.Embeds
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	return &discordgo.WebhookEdit{
		Content: &r.Content, Components: &components, Embeds: &embeds, AllowedMentions: noMentions(), Files: r.Files,
	}
}

// followup is r as a follow-up message.
func (r *Response) followup() *discordgo.WebhookParams {
	return &discordgo.WebhookParams{
		Content: r.Content, Embeds: r.Embeds, Components: r.Components,
		Flags: r.flags(), AllowedMentions: noMentions(), Files: r.Files,
	}
}

package bot

import (
	"bytes"
	"encoding/json"

	"github.com/bwmarrin/discordgo"
)

// decodeInteraction decodes an interaction as discordgo's UnmarshalJSON
// does, in one pass: discordgo reads the data twice (once as raw bytes,
// then into its type), a cost every interaction pays on the hot path.
// wireData holds the fields of every kind of data side by side; those two
// kinds disagree on (resolved) are kept raw and decoded for the kind at
// hand, and so are a modal's components, whose types only discordgo knows.
func decodeInteraction(raw []byte, i *discordgo.Interaction) error {
	w := wireInteraction{plainInteraction: (*plainInteraction)(i)}
	if err := json.Unmarshal(raw, &w); err != nil {
		return err
	}
	i.Data = nil
	d := w.Data
	if d == nil {
		d = &wireData{} // no data: discordgo fails, the router answers "unknown"
	}
	switch i.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		v := discordgo.ApplicationCommandInteractionData{ID: string(d.ID), Name: d.Name, CommandType: d.CommandType, Options: d.Options, TargetID: d.TargetID}
		if err := decodeRaw(d.Resolved, &v.Resolved); err != nil {
			return err
		}
		i.Data = v
	case discordgo.InteractionMessageComponent:
		v := discordgo.MessageComponentInteractionData{CustomID: d.CustomID, ComponentType: d.ComponentType, Values: d.Values}
		if err := decodeRaw(d.Resolved, &v.Resolved); err != nil {
			return err
		}
		i.Data = v
	case discordgo.InteractionModalSubmit:
		v := discordgo.ModalSubmitInteractionData{CustomID: d.CustomID, Components: make([]discordgo.MessageComponent, len(d.Components))}
		for n, c := range d.Components {
			var err error
			if v.Components[n], err = discordgo.MessageComponentFromJSON(c); err != nil {
				return err
			}
		}
		i.Data = v
	}
	return nil
}

// plainInteraction is discordgo.Interaction without its UnmarshalJSON.
type plainInteraction discordgo.Interaction

// wireInteraction decodes into the interaction plainInteraction points to,
// but for its data.
type wireInteraction struct {
	*plainInteraction
	Data *wireData `json:"data"`
}

// wireData is the data of any kind of interaction.
type wireData struct {
	// Commands and autocomplete.
	ID          lenientID                                            `json:"id"`
	Name        string                                               `json:"name"`
	CommandType discordgo.ApplicationCommandType                     `json:"type"`
	Options     []*discordgo.ApplicationCommandInteractionDataOption `json:"options"`
	TargetID    string                                               `json:"target_id"`
	// Components and modals.
	CustomID      string                  `json:"custom_id"`
	ComponentType discordgo.ComponentType `json:"component_type"`
	Values        []string                `json:"values"`
	Components    []json.RawMessage       `json:"components"`
	// Commands and components, each in a type of its own.
	Resolved json.RawMessage `json:"resolved"`
}

// lenientID is a command's id, a string; as only commands read it, any
// other JSON value decodes as its text rather than failing the
// interaction (a component's data may carry a numeric id).
type lenientID string

func (id *lenientID) UnmarshalJSON(raw []byte) error {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		*id = lenientID(raw[1 : len(raw)-1])
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	*id = lenientID(s)
	return nil
}

// decodeRaw decodes raw into v, unless raw is absent.
func decodeRaw(raw json.RawMessage, v any) error {
	if raw == nil {
		return nil
	}
	return json.Unmarshal(raw, v)
}

package fakediscord

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/bwmarrin/discordgo"
)

// Channel is a guild text channel or a thread of the fake.
type Channel struct {
	ID, GuildID string
	// ParentID is a thread's channel.
	ParentID string
	Name     string
	Type     discordgo.ChannelType
	Archived bool
	// Members are the users added to a thread.
	Members []string
}

// Message is a message the bot posted in a guild channel or thread, as
// last edited.
type Message struct {
	ID, ChannelID string
	*Reply
	// Edits counts the edits since it was posted.
	Edits int
}

func (f *Fake) channelRoutes(mux *http.ServeMux) {
	mux.HandleFunc("PATCH /api/v9/channels/{channel}/messages/{message}", f.authorized(f.editMessage))
	mux.HandleFunc("POST /api/v9/channels/{channel}/threads", f.authorized(f.startThread))
	mux.HandleFunc("PUT /api/v9/channels/{channel}/thread-members/{user}", f.authorized(f.addThreadMember))
	mux.HandleFunc("PATCH /api/v9/channels/{channel}", f.authorized(f.editChannel))
}

// AddChannel adds a text channel to a guild, where the bot may post.
func (f *Fake) AddChannel(guildID, channelID, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[channelID] = &Channel{ID: channelID, GuildID: guildID, Name: name, Type: discordgo.ChannelTypeGuildText}
}

// Channel returns a channel or thread, and whether it exists.
func (f *Fake) Channel(id string) (Channel, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.channels[id]
	if !ok {
		return Channel{}, false
	}
	cp := *c
	cp.Members = slices.Clone(c.Members)
	return cp, true
}

// Threads returns the threads started under a channel, oldest first.
func (f *Fake) Threads(parentID string) []Channel {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Channel
	for _, id := range f.threadOrder {
		if c := f.channels[id]; c.ParentID == parentID {
			cp := *c
			cp.Members = slices.Clone(c.Members)
			out = append(out, cp)
		}
	}
	return out
}

// ChannelMessages returns the bot's messages in a channel, oldest first.
func (f *Fake) ChannelMessages(channelID string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Message, len(f.messages[channelID]))
	for i, m := range f.messages[channelID] {
		out[i] = *m
	}
	return out
}

// WaitChannelMessages waits until a channel has n messages of the bot
// and returns them.
func (f *Fake) WaitChannelMessages(ctx context.Context, channelID string, n int) ([]Message, error) {
	err := f.wait(ctx, func() bool { return len(f.messages[channelID]) >= n })
	return f.ChannelMessages(channelID), err
}

// WaitChannelEdit waits until a message has been edited at least once.
func (f *Fake) WaitChannelEdit(ctx context.Context, channelID, messageID string) (Message, error) {
	var m Message
	err := f.wait(ctx, func() bool {
		for _, x := range f.messages[channelID] {
			if x.ID == messageID && x.Edits > 0 {
				m = *x
				return true
			}
		}
		return false
	})
	return m, err
}

// postInChannel records a message in a guild channel or an unarchived
// thread (f.mu held); false when there is no such channel.
func (f *Fake) postInChannel(w http.ResponseWriter, channelID string, reply *Reply) bool {
	c, ok := f.channels[channelID]
	if !ok {
		return false
	}
	c.Archived = false // a message unarchives a thread
	m := &Message{ID: f.id(), ChannelID: channelID, Reply: reply}
	f.messages[channelID] = append(f.messages[channelID], m)
	f.notify()
	writeJSON(w, http.StatusOK, &discordgo.Message{ID: m.ID, ChannelID: channelID, GuildID: c.GuildID, Content: reply.Content,
		Embeds: reply.Embeds, Author: botUser()})
	return true
}

func (f *Fake) editMessage(w http.ResponseWriter, r *http.Request) {
	reply, ok := readReply(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.messages[r.PathValue("channel")] {
		if m.ID == r.PathValue("message") {
			m.Reply, m.Edits = reply, m.Edits+1
			f.notify()
			writeJSON(w, http.StatusOK, &discordgo.Message{ID: m.ID, ChannelID: m.ChannelID, Content: reply.Content, Embeds: reply.Embeds, Author: botUser()})
			return
		}
	}
	writeError(w, http.StatusNotFound, 10008, "Unknown Message")
}

func (f *Fake) startThread(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string                `json:"name"`
		Type discordgo.ChannelType `json:"type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Name == "" || len(body.Name) > 100 {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	parent, ok := f.channels[r.PathValue("channel")]
	if !ok || parent.Type != discordgo.ChannelTypeGuildText {
		writeError(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	}
	th := &Channel{ID: f.id(), GuildID: parent.GuildID, ParentID: parent.ID, Name: body.Name, Type: body.Type}
	f.channels[th.ID] = th
	f.threadOrder = append(f.threadOrder, th.ID)
	f.notify()
	writeJSON(w, http.StatusCreated, &discordgo.Channel{ID: th.ID, GuildID: th.GuildID, ParentID: th.ParentID, Name: th.Name, Type: th.Type})
}

func (f *Fake) addThreadMember(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	th, ok := f.channels[r.PathValue("channel")]
	if !ok || th.ParentID == "" {
		writeError(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	}
	if !slices.Contains(th.Members, r.PathValue("user")) {
		th.Members = append(th.Members, r.PathValue("user"))
	}
	f.notify()
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) editChannel(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Archived *bool `json:"archived"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.channels[r.PathValue("channel")]
	if !ok {
		writeError(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	}
	if body.Archived != nil {
		c.Archived = *body.Archived
	}
	f.notify()
	writeJSON(w, http.StatusOK, &discordgo.Channel{ID: c.ID, GuildID: c.GuildID, ParentID: c.ParentID, Name: c.Name, Type: c.Type})
}

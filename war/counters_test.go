package war_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
	"pnwbot/pnw/fakepnw"
	"pnwbot/war"
)

func TestDeclareRange(t *testing.T) {
	require.True(t, war.InRange(1000, 750))
	require.True(t, war.InRange(1000, 2500))
	require.False(t, war.InRange(1000, 749.99))
	require.False(t, war.InRange(1000, 2500.01))
}

func TestStrengthFollowsTheAttackersMilitary(t *testing.T) {
	air := pnw.Nation{Aircraft: 2000}
	planes := pnw.Nation{Aircraft: 1000}
	tanks := pnw.Nation{Tanks: 50000, Soldiers: 200000}
	require.Greater(t, war.Strength(planes, air), war.Strength(tanks, air), "against an air force, planes count")
	ground := pnw.Nation{Soldiers: 300000, Tanks: 20000}
	require.Greater(t, war.Strength(tanks, ground), war.Strength(planes, ground), "against an army, tanks count")
}

func TestCountersExcludeWhoCannotDeclare(t *testing.T) {
	w := newWorld(t)
	svc, _ := w.service(t, false)
	// The attacker, score 1500: members of score 600 to 2000 can declare.
	members := []fakepnw.Nation{
		{ID: 301, NationName: "Strong", Score: 1400, Soldiers: 200000, Tanks: 15000, Aircraft: 1500, Ships: 100},
		{ID: 302, NationName: "Weaker", Score: 1000, Soldiers: 100000, Tanks: 8000, Aircraft: 800, Ships: 50},
		{ID: 303, NationName: "TooSmall", Score: 500, Soldiers: 900000, Aircraft: 9000},
		{ID: 304, NationName: "TooBig", Score: 2100, Aircraft: 9000},
		{ID: 305, NationName: "NoSlot", Score: 1200, Aircraft: 9000, OffensiveWarsCount: 5},
		{ID: 306, NationName: "Beige", Score: 1200, Aircraft: 9000, BeigeTurns: 12},
		{ID: 307, NationName: "Vacation", Score: 1200, Aircraft: 9000, VacationModeTurns: 30},
		{ID: 308, NationName: "Applicant", Score: 1200, Aircraft: 9000, AlliancePosition: "APPLICANT"},
		{ID: 309, NationName: "EdgeLow", Score: 600, Soldiers: 1000, OffensiveWarsCount: 4},
	}
	for _, m := range members {
		m.AllianceID = ours
		w.game.AddNation(m)
	}
	_, err := w.st.Pool.Exec(t.Context(), `UPDATE users SET pnw_nation_id = 302 WHERE discord_id = $1`, bystanderUser)
	require.NoError(t, err)

	att, counters, err := svc.Counters(t.Context(), ours, attackerID)
	require.NoError(t, err)
	require.Equal(t, "Raidistan", att.NationName)
	var names []string
	for _, c := range counters {
		names = append(names, c.Nation.NationName)
	}
	// Arrakis, the defender (score 1400), is in range too.
	require.Equal(t, []string{"Strong", "Weaker", "Arrakis", "EdgeLow"}, names)
	require.Equal(t, bystanderUser, counters[1].User)
	require.Equal(t, defenderUser, counters[2].User)
	require.Empty(t, counters[0].User)
	for _, c := range counters {
		require.Empty(t, war.CanCounter(c.Nation, att))
	}
}

func TestWarRoom(t *testing.T) {
	w := newWorld(t)
	svc, _ := w.service(t, true)
	w.following(t, 1)
	first := w.declare()
	alert := w.alerts(t, 1)[0]
	require.Len(t, alert.Components, 1, "Find counters and War room buttons")
	w.sent(t, first.ID) // its sender has looked for a room already

	const clicker = "700000000000000009"
	room, err := svc.OpenRoom(t.Context(), w.alli.ID, int64(first.ID), clicker)
	require.NoError(t, err)
	require.True(t, room.Opened)
	th, ok := w.discord.Channel(room.ThreadID)
	require.True(t, ok)
	require.Equal(t, alertChannel, th.ParentID)
	require.Equal(t, "vs Raidistan", th.Name)
	require.ElementsMatch(t, []string{clicker, defenderUser}, th.Members)
	card := w.discord.ChannelMessages(room.ThreadID)
	require.Len(t, card, 1)
	require.Contains(t, card[0].Embeds[0].Title, "War room: Raidistan")

	// Asked again: the same room.
	again, err := svc.OpenRoom(t.Context(), w.alli.ID, int64(first.ID))
	require.NoError(t, err)
	require.Equal(t, room.ThreadID, again.ThreadID)
	require.False(t, again.Opened)

	// A later war by the same attacker goes to the channel and the room.
	w.game.AddNation(fakepnw.Nation{ID: 202, NationName: "Giedi", AllianceID: ours, Score: 1300})
	second := w.subs.DeclareWar(fakepnw.War{AttID: attackerID, AttAllianceID: enemy, DefID: 202, DefAllianceID: ours})
	w.alerts(t, 2)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	msgs, err := w.discord.WaitChannelMessages(ctx, room.ThreadID, 2)
	require.NoError(t, err)
	require.Contains(t, msgs[1].Embeds[0].Title, "Giedi is attacked by Raidistan")

	// Archived when both wars have ended, not before.
	w.subs.UpdateWar(first.ID, func(x *fakepnw.War) { x.Ended = time.Now() })
	_, err = w.discord.WaitChannelEdit(ctx, alertChannel, alert.ID)
	require.NoError(t, err)
	th, _ = w.discord.Channel(room.ThreadID)
	require.False(t, th.Archived)
	w.subs.UpdateWar(second.ID, func(x *fakepnw.War) { x.Ended = time.Now() })
	require.Eventually(t, func() bool { th, _ := w.discord.Channel(room.ThreadID); return th.Archived }, 10*time.Second, 10*time.Millisecond)

	// A war with no alert here has no room.
	_, err = svc.OpenRoom(t.Context(), w.alli.ID, 999999)
	require.ErrorIs(t, err, war.ErrNoAlert)
}

// sent waits until the war's alert is marked sent.
func (w *world) sent(t *testing.T, warID int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var sent bool
		err := w.st.Pool.QueryRow(t.Context(), `SELECT sent_at IS NOT NULL FROM war_alerts WHERE war_id = $1`, warID).Scan(&sent)
		return err == nil && sent
	}, 10*time.Second, 5*time.Millisecond)
}

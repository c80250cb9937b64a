package war

import (
	"context"
	"errors"
	"fmt"

	"pnwbot/store"
)

// ErrNoAlert: the war has no alert for this alliance, so no room either.
var ErrNoAlert = errors.New("war: this war has no alert here")

// Room is a war room: a private thread for the wars against one attacker.
type Room struct {
	ThreadID string
	// Opened says the thread was opened by this call.
	Opened bool
}

// OpenRoom opens the war room of a war alerted to the alliance (its row
// id), or finds the one open against the same attacker, and adds the
// defender's linked user and users to it.
func (s *Service) OpenRoom(ctx context.Context, allianceID, warID int64, users ...string) (Room, error) {
	row, err := s.st.WarAlertGet(ctx, store.WarAlertGetParams{AllianceID: allianceID, WarID: warID})
	if errors.Is(err, store.ErrNotFound) {
		return Room{}, ErrNoAlert
	} else if err != nil {
		return Room{}, err
	}
	a, err := alertOf(row)
	if err != nil {
		return Room{}, err
	}
	var room Room
	open, err := s.st.WarRoomOpen(ctx, store.WarRoomOpenParams{AllianceID: allianceID, AttackerID: row.AttackerID})
	switch {
	case err == nil:
		room.ThreadID = open.ThreadID
	case errors.Is(err, store.ErrNotFound):
		if room, err = s.newRoom(ctx, a); err != nil {
			return room, err
		}
	default:
		return room, err
	}
	if a.DefenderUser != "" {
		users = append(users, a.DefenderUser)
	}
	for _, u := range users {
		if err := s.notify.AddToRoom(ctx, room.ThreadID, u); err != nil {
			return room, fmt.Errorf("add to the war room: %w", err)
		}
	}
	return room, nil
}

// newRoom starts the thread and records it; when another click recorded
// one first, that one is the room and this thread is archived.
func (s *Service) newRoom(ctx context.Context, a Alert) (Room, error) {
	thread, err := s.notify.OpenRoom(ctx, a)
	if err != nil {
		return Room{}, fmt.Errorf("open the war room: %w", err)
	}
	_, err = s.st.WarRoomCreate(ctx, store.WarRoomCreateParams{AllianceID: a.AllianceID, AttackerID: a.War.AttackerID, ChannelID: a.ChannelID, ThreadID: thread})
	if store.IsUniqueViolation(err, "war_rooms_open_idx") {
		_ = s.notify.ArchiveRoom(ctx, thread)
		open, err := s.st.WarRoomOpen(ctx, store.WarRoomOpenParams{AllianceID: a.AllianceID, AttackerID: a.War.AttackerID})
		return Room{ThreadID: open.ThreadID}, err
	} else if err != nil {
		return Room{}, err
	}
	return Room{ThreadID: thread, Opened: true}, nil
}

// intoRoom posts a new alert in the room open against its attacker, if
// any, and adds its defender.
func (s *Service) intoRoom(ctx context.Context, a Alert) error {
	room, err := s.st.WarRoomOpen(ctx, store.WarRoomOpenParams{AllianceID: a.AllianceID, AttackerID: a.War.AttackerID})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if err := s.notify.PostInRoom(ctx, room.ThreadID, a); err != nil {
		return fmt.Errorf("post in the war room: %w", err)
	}
	if a.DefenderUser != "" {
		return s.notify.AddToRoom(ctx, room.ThreadID, a.DefenderUser)
	}
	return nil
}

// closeRoom archives the room against an attacker once none of the
// alliance's wars with it is open.
func (s *Service) closeRoom(ctx context.Context, allianceID, attackerID int64) error {
	room, err := s.st.WarRoomOpen(ctx, store.WarRoomOpenParams{AllianceID: allianceID, AttackerID: attackerID})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	open, err := s.st.WarAlertOpenByAttacker(ctx, store.WarAlertOpenByAttackerParams{AllianceID: allianceID, AttackerID: attackerID})
	if err != nil || len(open) > 0 {
		return err
	}
	if err := s.notify.ArchiveRoom(ctx, room.ThreadID); err != nil {
		return fmt.Errorf("archive the war room: %w", err)
	}
	_, err = s.st.WarRoomArchive(ctx, room.ID)
	return err
}

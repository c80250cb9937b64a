package settings

import (
	"cmp"
	"context"
	"errors"

	"pnwbot/audit"
	"pnwbot/store"
)

// Changes writes app_config (/admin config): each change is audited with
// it in one transaction, and Settings reads the table again, so that it
// counts at once on this replica and within RefreshEvery on the others.
type Changes struct {
	Log      audit.Log
	Settings *Settings
}

// Invalid is a value a known setting refuses: Reason says why.
type Invalid struct{ Reason error }

func (e *Invalid) Error() string { return e.Reason.Error() }

// ErrNotOfType is a value that is not of its data type (app_config's CHECK).
var ErrNotOfType = errors.New("settings: value not of its type")

// Set stores value, of dataType, under key, as user. A known setting keeps
// its own category (unless category names one) and description, and
// refuses a value it cannot be (*Invalid); an unknown key goes in category,
// "general" when empty.
func (c Changes) Set(ctx context.Context, user int64, key, value, dataType, category string) error {
	next := store.AppConfigSetParams{Key: key, Value: value, DataType: dataType, Category: cmp.Or(category, "general"), UpdatedBy: &user}
	if k, known := Find(key); known {
		if err := k.Check(value, dataType); err != nil {
			return &Invalid{err}
		}
		next.Category, next.Description = cmp.Or(category, k.Category), k.Description
	}
	err := c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		var old any
		if before, err := q.AppConfigGet(ctx, key); err == nil {
			old = map[string]any{"value": before.Value, "type": before.DataType, "category": before.Category}
		} else if !errors.Is(err, store.ErrNotFound) {
			return audit.Entry{}, err
		}
		_, err := q.AppConfigSet(ctx, next)
		return audit.Entry{User: &user, Action: "config.set", Resource: "app_config", ResourceID: key, Old: old,
			New: map[string]any{"value": next.Value, "type": next.DataType, "category": next.Category}}, err
	})
	if store.IsNotOfType(err) {
		return ErrNotOfType
	} else if err != nil {
		return err
	}
	c.Settings.Refresh()
	return nil
}

// Delete removes the value stored under key, as user: a known setting's
// default serves again. store.ErrNotFound when none is stored.
func (c Changes) Delete(ctx context.Context, user int64, key string) error {
	err := c.Log.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		before, err := q.AppConfigGet(ctx, key)
		if err != nil {
			return audit.Entry{}, err
		}
		_, err = q.AppConfigDelete(ctx, key)
		return audit.Entry{User: &user, Action: "config.delete", Resource: "app_config", ResourceID: key,
			Old: map[string]any{"value": before.Value, "type": before.DataType, "category": before.Category}}, err
	})
	if err == nil {
		c.Settings.Refresh()
	}
	return err
}

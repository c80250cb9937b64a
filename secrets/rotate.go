package secrets

import (
	"context"
	"errors"
	"fmt"

	"pnwbot/store"
)

// RotateStats counts what a rotation did.
type RotateStats struct {
	Rotated int // re-sealed under the new master key
	Current int // already under the new master key (an earlier, interrupted run)
	Failed  int // opened with neither key: left untouched
	Changed int // relinked while being rotated: looked at again
}

// maxRotatePasses bounds the passes over rows that keep changing under a
// rotation, as they do when the bot still seals with the old key.
const maxRotatePasses = 3

// storedKey is one sealed key row, whichever table it lives in.
type storedKey struct {
	id      int64
	sealed  []byte
	salt    []byte
	owner   Owner
	replace func(ctx context.Context, newKey []byte) (swapped int64, err error)
}

// Rotate re-seals every stored key (members' and managers') under kr's current
// master key, reading them with kr's old one. Each row is swapped on its own
// with a compare-and-swap, so an interrupted run loses nothing and running
// again finishes the job. progress, when not nil, is called after each batch.
func Rotate(ctx context.Context, st *store.Store, kr *Keyring, batch int32, progress func(RotateStats)) (RotateStats, error) {
	if kr.old == nil {
		return RotateStats{}, errors.New("rotation needs the old master key (ENCRYPTION_KEY_OLD)")
	}
	var stats RotateStats
	for pass := 1; ; pass++ {
		changed := stats.Changed
		stats.Current, stats.Failed = 0, 0 // each pass sees every row again
		if err := kr.rotatePass(ctx, st, batch, &stats, progress); err != nil {
			return stats, err
		}
		if stats.Changed == changed {
			break
		}
		if pass == maxRotatePasses {
			return stats, errors.New("stored keys keep changing under the old master key: " +
				"restart the bot with the new ENCRYPTION_KEY (and the old one as ENCRYPTION_KEY_OLD), then run rotate-key again")
		}
	}
	if stats.Failed > 0 {
		return stats, fmt.Errorf("%d stored keys open with neither ENCRYPTION_KEY nor ENCRYPTION_KEY_OLD and were left untouched", stats.Failed)
	}
	return stats, nil
}

// rotatePass goes once over every stored key.
func (kr *Keyring) rotatePass(ctx context.Context, st *store.Store, batch int32, stats *RotateStats, progress func(RotateStats)) error {
	for _, list := range []func(ctx context.Context, after int64) ([]storedKey, error){
		userKeys(st, batch), managerKeys(st, batch),
	} {
		for after := int64(0); ; {
			keys, err := list(ctx, after)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := kr.rotateOne(ctx, k, stats); err != nil {
					return err
				}
				after = k.id
			}
			if progress != nil && len(keys) > 0 {
				progress(*stats)
			}
			if len(keys) < int(batch) {
				break
			}
		}
	}
	return nil
}

func (kr *Keyring) rotateOne(ctx context.Context, k storedKey, stats *RotateStats) error {
	if kr.Current(k.sealed) {
		stats.Current++
		return nil
	}
	plain, err := kr.Open(k.sealed, k.salt, k.owner)
	if err != nil {
		stats.Failed++
		return nil
	}
	resealed, err := kr.Seal(plain, k.salt, k.owner)
	if err != nil {
		return err
	}
	swapped, err := k.replace(ctx, resealed)
	if err != nil {
		return fmt.Errorf("re-seal key of %s for user %d: %w", k.owner.Purpose, k.owner.UserID, err)
	}
	if swapped == 0 { // relinked or unlinked meanwhile: the next pass looks again
		stats.Changed++
		return nil
	}
	stats.Rotated++
	return nil
}

func userKeys(st *store.Store, batch int32) func(context.Context, int64) ([]storedKey, error) {
	return func(ctx context.Context, after int64) ([]storedKey, error) {
		rows, err := st.UserListKeys(ctx, store.UserListKeysParams{AfterID: after, RowLimit: batch})
		if err != nil {
			return nil, fmt.Errorf("list user keys: %w", err)
		}
		keys := make([]storedKey, len(rows))
		for i, r := range rows {
			keys[i] = storedKey{id: r.ID, sealed: r.PnwApiKey, salt: r.KeySalt, owner: NationKey(r.ID),
				replace: func(ctx context.Context, newKey []byte) (int64, error) {
					return st.UserReplaceKey(ctx, store.UserReplaceKeyParams{ID: r.ID, OldKey: r.PnwApiKey, NewKey: newKey})
				}}
		}
		return keys, nil
	}
}

func managerKeys(st *store.Store, batch int32) func(context.Context, int64) ([]storedKey, error) {
	return func(ctx context.Context, after int64) ([]storedKey, error) {
		rows, err := st.AllianceManagerListKeys(ctx, store.AllianceManagerListKeysParams{AfterID: after, RowLimit: batch})
		if err != nil {
			return nil, fmt.Errorf("list manager keys: %w", err)
		}
		keys := make([]storedKey, len(rows))
		for i, r := range rows {
			keys[i] = storedKey{id: r.ID, sealed: r.ManagerApiKey, salt: r.KeySalt, owner: AllianceKey(r.UserID, r.AllianceID),
				replace: func(ctx context.Context, newKey []byte) (int64, error) {
					return st.AllianceManagerReplaceKey(ctx, store.AllianceManagerReplaceKeyParams{ID: r.ID, OldKey: r.ManagerApiKey, NewKey: newKey})
				}}
		}
		return keys, nil
	}
}

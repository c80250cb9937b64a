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
}

// storedKey is one sealed key row, whichever table it lives in.
type storedKey struct {
	id      int64
	sealed  []byte
	salt    []byte
	owner   Owner
	replace func(ctx context.Context, newKey []byte) error
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
	for _, list := range []func(ctx context.Context, after int64) ([]storedKey, error){
		userKeys(st, batch), managerKeys(st, batch),
	} {
		for after := int64(0); ; {
			keys, err := list(ctx, after)
			if err != nil {
				return stats, err
			}
			for _, k := range keys {
				if err := kr.rotateOne(ctx, k, &stats); err != nil {
					return stats, err
				}
				after = k.id
			}
			if progress != nil && len(keys) > 0 {
				progress(stats)
			}
			if len(keys) < int(batch) {
				break
			}
		}
	}
	if stats.Failed > 0 {
		return stats, fmt.Errorf("%d stored keys open with neither ENCRYPTION_KEY nor ENCRYPTION_KEY_OLD and were left untouched", stats.Failed)
	}
	return stats, nil
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
	// A swap that matches no row means the owner relinked or unlinked
	// meanwhile, and the row already holds a value sealed under the new key.
	if err := k.replace(ctx, resealed); err != nil {
		return fmt.Errorf("re-seal key of %s for user %d: %w", k.owner.Purpose, k.owner.UserID, err)
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
				replace: func(ctx context.Context, newKey []byte) error {
					_, err := st.UserReplaceKey(ctx, store.UserReplaceKeyParams{ID: r.ID, OldKey: r.PnwApiKey, NewKey: newKey})
					return err
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
				replace: func(ctx context.Context, newKey []byte) error {
					_, err := st.AllianceManagerReplaceKey(ctx, store.AllianceManagerReplaceKeyParams{ID: r.ID, OldKey: r.ManagerApiKey, NewKey: newKey})
					return err
				}}
		}
		return keys, nil
	}
}

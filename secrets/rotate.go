package secrets

import (
	"context"
	"errors"
	"fmt"
)

// RotateStats counts what a rotation did.
type RotateStats struct {
	Rotated int // re-sealed under the new master key
	Current int // already under the new master key (an earlier, interrupted run)
	Failed  int // opened with neither key: left untouched (see Unreadable)
	Changed int // relinked while being rotated: looked at again
}

// maxRotatePasses bounds the passes over rows that keep changing under a
// rotation, as they do when the bot still seals with the old key.
const maxRotatePasses = 3

// StoredKey is one sealed key row, whichever table it lives in.
type StoredKey struct {
	ID     int64 // the row's id, increasing through a KeyTable
	Sealed []byte
	Salt   []byte
	Owner  Owner
}

// KeyTable is one table of sealed keys (store/kv.KeyTables gives the
// members' and the managers').
type KeyTable interface {
	// ListKeys returns up to limit stored keys with ids above after, by id.
	ListKeys(ctx context.Context, after int64, limit int32) ([]StoredKey, error)
	// ReplaceKey swaps k's sealed key for newKey, unless the row no longer
	// holds k.Sealed (relinked or unlinked meanwhile): then swapped is false.
	ReplaceKey(ctx context.Context, k StoredKey, newKey []byte) (swapped bool, err error)
}

// Rotate re-seals every stored key in tables under kr's current master key,
// reading them with kr's old one. Each row is swapped on its own with a
// compare-and-swap, so an interrupted run loses nothing and running again
// finishes the job. Keys that open with neither master key are left
// untouched and counted in Failed. progress, when not nil, is called after
// each batch.
func Rotate(ctx context.Context, tables []KeyTable, kr *Keyring, batch int32, progress func(RotateStats)) (RotateStats, error) {
	if kr.old == nil {
		return RotateStats{}, errors.New("rotation needs the old master key (ENCRYPTION_KEY_OLD)")
	}
	var stats RotateStats
	for pass := 1; ; pass++ {
		changed := stats.Changed
		stats.Current, stats.Failed = 0, 0 // each pass sees every row again
		if err := kr.rotatePass(ctx, tables, batch, &stats, progress); err != nil {
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
	return stats, nil
}

// rotatePass goes once over every stored key.
func (kr *Keyring) rotatePass(ctx context.Context, tables []KeyTable, batch int32, stats *RotateStats, progress func(RotateStats)) error {
	return eachBatch(ctx, tables, batch, func(table KeyTable, keys []StoredKey) error {
		for _, k := range keys {
			if err := kr.rotateOne(ctx, table, k, stats); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(*stats)
		}
		return nil
	})
}

// eachBatch calls fn with every stored key in tables, a batch at a time.
func eachBatch(ctx context.Context, tables []KeyTable, batch int32, fn func(KeyTable, []StoredKey) error) error {
	for _, table := range tables {
		for after := int64(0); ; {
			keys, err := table.ListKeys(ctx, after, batch)
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				if err := fn(table, keys); err != nil {
					return err
				}
				after = keys[len(keys)-1].ID
			}
			if len(keys) < int(batch) {
				break
			}
		}
	}
	return nil
}

// Unreadable returns the owners of the stored keys in tables that kr does
// not open: sealed under a master key kr does not hold, such as one written
// by a process still running with the old ENCRYPTION_KEY after a rotation.
// Their owners must link them again.
func Unreadable(ctx context.Context, tables []KeyTable, kr *Keyring, batch int32) ([]Owner, error) {
	var bad []Owner
	err := eachBatch(ctx, tables, batch, func(_ KeyTable, keys []StoredKey) error {
		for _, k := range keys {
			if _, err := kr.Open(k.Sealed, k.Salt, k.Owner); err != nil {
				bad = append(bad, k.Owner)
			}
		}
		return nil
	})
	return bad, err
}

func (kr *Keyring) rotateOne(ctx context.Context, table KeyTable, k StoredKey, stats *RotateStats) error {
	if kr.Current(k.Sealed) {
		stats.Current++
		return nil
	}
	plain, err := kr.Open(k.Sealed, k.Salt, k.Owner)
	if err != nil {
		stats.Failed++
		return nil
	}
	resealed, err := kr.Seal(plain, k.Salt, k.Owner)
	if err != nil {
		return err
	}
	swapped, err := table.ReplaceKey(ctx, k, resealed)
	if err != nil {
		return fmt.Errorf("re-seal key of %s for user %d: %w", k.Owner.Purpose, k.Owner.UserID, err)
	}
	if !swapped { // relinked or unlinked meanwhile: the next pass looks again
		stats.Changed++
		return nil
	}
	stats.Rotated++
	return nil
}

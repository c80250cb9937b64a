package kv

import (
	"context"
	"fmt"

	"pnwbot/secrets"
	"pnwbot/store"
)

// KeyTables returns the tables of sealed keys a rotation walks: members'
// nation keys, managers' alliance keys, then the Discord grants kept for
// Linked Roles (access and refresh token).
func KeyTables(st *store.Store) []secrets.KeyTable {
	return []secrets.KeyTable{userKeys{st}, managerKeys{st}, roleTokens{st, false}, roleTokens{st, true}}
}

// userKeys are the members' keys in users.pnw_api_key.
type userKeys struct{ st *store.Store }

func (t userKeys) ListKeys(ctx context.Context, after int64, limit int32) ([]secrets.StoredKey, error) {
	rows, err := t.st.UserListKeys(ctx, store.UserListKeysParams{AfterID: after, RowLimit: limit})
	if err != nil {
		return nil, fmt.Errorf("list user keys: %w", err)
	}
	keys := make([]secrets.StoredKey, len(rows))
	for i, r := range rows {
		keys[i] = secrets.StoredKey{ID: r.ID, Sealed: r.PnwApiKey, Salt: r.KeySalt, Owner: secrets.NationKey(r.ID)}
	}
	return keys, nil
}

func (t userKeys) ReplaceKey(ctx context.Context, k secrets.StoredKey, newKey []byte) (bool, error) {
	n, err := t.st.UserReplaceKey(ctx, store.UserReplaceKeyParams{ID: k.ID, OldKey: k.Sealed, NewKey: newKey})
	return n > 0, err
}

// managerKeys are the managers' keys in alliance_managers.manager_api_key.
type managerKeys struct{ st *store.Store }

func (t managerKeys) ListKeys(ctx context.Context, after int64, limit int32) ([]secrets.StoredKey, error) {
	rows, err := t.st.AllianceManagerListKeys(ctx, store.AllianceManagerListKeysParams{AfterID: after, RowLimit: limit})
	if err != nil {
		return nil, fmt.Errorf("list manager keys: %w", err)
	}
	keys := make([]secrets.StoredKey, len(rows))
	for i, r := range rows {
		keys[i] = secrets.StoredKey{ID: r.ID, Sealed: r.ManagerApiKey, Salt: r.KeySalt, Owner: secrets.AllianceKey(r.UserID, r.AllianceID)}
	}
	return keys, nil
}

func (t managerKeys) ReplaceKey(ctx context.Context, k secrets.StoredKey, newKey []byte) (bool, error) {
	n, err := t.st.AllianceManagerReplaceKey(ctx, store.AllianceManagerReplaceKeyParams{ID: k.ID, OldKey: k.Sealed, NewKey: newKey})
	return n > 0, err
}

// roleTokens are one column of role_connections: the access tokens, or the
// refresh tokens.
type roleTokens struct {
	st      *store.Store
	refresh bool
}

func (t roleTokens) ListKeys(ctx context.Context, after int64, limit int32) ([]secrets.StoredKey, error) {
	rows, err := t.st.RoleConnectionListTokens(ctx, store.RoleConnectionListTokensParams{AfterUserID: after, RowLimit: limit})
	if err != nil {
		return nil, fmt.Errorf("list role connection tokens: %w", err)
	}
	keys := make([]secrets.StoredKey, len(rows))
	for i, r := range rows {
		sealed := r.AccessToken
		if t.refresh {
			sealed = r.RefreshToken
		}
		keys[i] = secrets.StoredKey{ID: r.UserID, Sealed: sealed, Salt: r.KeySalt, Owner: secrets.DiscordGrant(r.UserID)}
	}
	return keys, nil
}

func (t roleTokens) ReplaceKey(ctx context.Context, k secrets.StoredKey, newKey []byte) (bool, error) {
	var n int64
	var err error
	if t.refresh {
		n, err = t.st.RoleConnectionReplaceRefreshToken(ctx, store.RoleConnectionReplaceRefreshTokenParams{UserID: k.ID, OldToken: k.Sealed, NewToken: newKey})
	} else {
		n, err = t.st.RoleConnectionReplaceAccessToken(ctx, store.RoleConnectionReplaceAccessTokenParams{UserID: k.ID, OldToken: k.Sealed, NewToken: newKey})
	}
	return n > 0, err
}

package storetest

import (
	"encoding/json"
	"testing"

	"pnwbot/secrets"
	"pnwbot/store"
)

// AddManager makes a new user, of Discord id discordID, an admin of
// alliance a ("admin": access.Admin, which storetest stays below), and with
// key not "" gives them it as their alliance key (SetAllianceKey). It
// returns the rows as stored.
func AddManager(t testing.TB, st *store.Store, ring *secrets.Keyring, a store.Alliance, discordID, key string, perms ...string) (store.User, store.AllianceManager) {
	t.Helper()
	u, err := st.UserCreate(t.Context(), store.UserCreateParams{DiscordID: discordID, KeySalt: secrets.NewSalt()})
	if err != nil {
		t.Fatalf("storetest: user: %v", err)
	}
	m, err := st.AllianceManagerUpsert(t.Context(), store.AllianceManagerUpsertParams{UserID: u.ID, AllianceID: a.ID, Role: "admin", Permissions: []byte(`{}`)})
	if err != nil {
		t.Fatalf("storetest: manager: %v", err)
	}
	if key != "" {
		m = SetAllianceKey(t, st, ring, u, m, key, perms...)
	}
	return u, m
}

// SetAllianceKey stores key as manager m's alliance key (m is u's row),
// sealed with ring as pnwbot seals it, that may do perms (the game's
// permission names), as /alliance key would; it returns the row as stored.
func SetAllianceKey(t testing.TB, st *store.Store, ring *secrets.Keyring, u store.User, m store.AllianceManager, key string, perms ...string) store.AllianceManager {
	t.Helper()
	sealed, err := ring.Seal(key, u.KeySalt, secrets.AllianceKey(u.ID, m.AllianceID))
	if err != nil {
		t.Fatalf("storetest: seal: %v", err)
	}
	may := map[string]bool{}
	for _, p := range perms {
		may[p] = true
	}
	granted, _ := json.Marshal(may) // a map of bools
	if m, err = st.AllianceManagerSetKey(t.Context(), store.AllianceManagerSetKeyParams{ID: m.ID, ManagerApiKey: sealed, KeyPermissions: granted}); err != nil {
		t.Fatalf("storetest: alliance key: %v", err)
	}
	return m
}

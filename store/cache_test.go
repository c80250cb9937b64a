package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/store"
	"pnwbot/store/storetest"
)

func TestCache(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *store.Store {
		t.Helper()
		return storetest.NewDB(t)
	}

	set := func(t *testing.T, s *store.Store, key, data string, ttl time.Duration, tags ...string) {
		t.Helper()
		require.NoError(t, s.CacheSet(t.Context(), store.CacheSetParams{
			CacheKey: key, Data: []byte(data), Tags: append([]string{}, tags...), ExpiresAt: time.Now().Add(ttl),
		}))
	}

	get := func(t *testing.T, s *store.Store, key string) (string, error) {
		t.Helper()
		row, err := s.CacheGet(t.Context(), key)
		return string(row.Data), err
	}

	t.Run("SetGetOverwrite", func(t *testing.T) {
		t.Parallel()
		s := setup(t)

		set(t, s, "nation:1", `{"score":1}`, time.Hour)
		data, err := get(t, s, "nation:1")
		require.NoError(t, err)
		require.JSONEq(t, `{"score":1}`, data)

		set(t, s, "nation:1", `{"score":2}`, time.Hour)
		data, err = get(t, s, "nation:1")
		require.NoError(t, err)
		require.JSONEq(t, `{"score":2}`, data)

		_, err = get(t, s, "nation:2")
		require.ErrorIs(t, err, store.ErrNotFound)

		require.NoError(t, s.CacheDelete(t.Context(), "nation:1"))
		_, err = get(t, s, "nation:1")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("ExpiredIsAMiss", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		set(t, s, "nation:1", `{}`, -time.Second)

		_, err := get(t, s, "nation:1")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("InvalidateTag", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		set(t, s, "nation:1", `{}`, time.Hour, "alliance:10", "nation:1")
		set(t, s, "nation:2", `{}`, time.Hour, "alliance:10")
		set(t, s, "nation:3", `{}`, time.Hour, "alliance:11")
		set(t, s, "bank:10", `{}`, time.Hour)

		n, err := s.CacheInvalidateTag(t.Context(), "alliance:10")
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		for key, present := range map[string]bool{"nation:1": false, "nation:2": false, "nation:3": true, "bank:10": true} {
			_, err := get(t, s, key)
			if present {
				require.NoError(t, err, key)
			} else {
				require.ErrorIs(t, err, store.ErrNotFound, key)
			}
		}
	})
}

func TestAppConfig(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *store.Store {
		t.Helper()
		return storetest.NewDB(t)
	}

	set := func(t *testing.T, s *store.Store, key, value, category, dataType string) store.AppConfig {
		t.Helper()
		c, err := s.AppConfigSet(t.Context(), store.AppConfigSetParams{Key: key, Value: value, Category: category, DataType: dataType})
		require.NoError(t, err)
		return c
	}

	t.Run("SetGetList", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		admin := newUser(t, s, "1")
		set(t, s, "cache.ttl_seconds", "300", "cache", "number")
		set(t, s, "bot.maintenance", "false", "bot", "boolean")
		set(t, s, "cache.enabled", "true", "cache", "boolean")

		updated, err := s.AppConfigSet(t.Context(), store.AppConfigSetParams{
			Key: "cache.ttl_seconds", Value: "600", Category: "cache", DataType: "number", Description: "seconds", UpdatedBy: &admin.ID,
		})
		require.NoError(t, err)
		require.Equal(t, "600", updated.Value)

		got, err := s.AppConfigGet(t.Context(), "cache.ttl_seconds")
		require.NoError(t, err)
		require.Equal(t, "600", got.Value)
		require.Equal(t, "number", got.DataType)
		require.Equal(t, "seconds", got.Description)
		require.Equal(t, &admin.ID, got.UpdatedBy)

		_, err = s.AppConfigGet(t.Context(), "missing")
		require.ErrorIs(t, err, store.ErrNotFound)

		keys := func(rows []store.AppConfig) []string {
			out := []string{}
			for _, r := range rows {
				out = append(out, r.Key)
			}
			return out
		}
		all, err := s.AppConfigList(t.Context(), nil)
		require.NoError(t, err)
		require.Equal(t, []string{"bot.maintenance", "cache.enabled", "cache.ttl_seconds"}, keys(all))
		cache, err := s.AppConfigList(t.Context(), ptr("cache"))
		require.NoError(t, err)
		require.Equal(t, []string{"cache.enabled", "cache.ttl_seconds"}, keys(cache))

		n, err := s.AppConfigDelete(t.Context(), "bot.maintenance")
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		all, err = s.AppConfigList(t.Context(), nil)
		require.NoError(t, err)
		require.Len(t, all, 2)
	})

	t.Run("BadUpdateKeepsValue", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		set(t, s, "cache.ttl_seconds", "300", "cache", "number")

		_, err := s.AppConfigSet(t.Context(), store.AppConfigSetParams{Key: "cache.ttl_seconds", Value: "soon", Category: "cache", DataType: "number"})
		requireViolation(t, err, codeCheck, "app_config_value_matches_type")
		got, err := s.AppConfigGet(t.Context(), "cache.ttl_seconds")
		require.NoError(t, err)
		require.Equal(t, "300", got.Value)
	})
}

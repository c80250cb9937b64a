package store_test

import (
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"pnwbot/store/storetest"
)

// BenchmarkUserGetByDiscordID measures the hottest query, run on every
// interaction, against real PostgreSQL with 10,000 users.
func BenchmarkUserGetByDiscordID(b *testing.B) {
	const users = 10_000
	s := storetest.NewDB(b)
	rows := make([][]any, users)
	for i := range rows {
		rows[i] = []any{strconv.Itoa(100_000 + i), "user", salt()}
	}
	_, err := s.Pool.CopyFrom(b.Context(), pgx.Identifier{"users"}, []string{"discord_id", "discord_username", "key_salt"}, pgx.CopyFromRows(rows))
	require.NoError(b, err)
	_, err = s.Pool.Exec(b.Context(), "ANALYZE users")
	require.NoError(b, err)

	b.Run("Serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := s.UserGetByDiscordID(b.Context(), strconv.Itoa(100_000+i%users)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})

	b.Run("Parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.UserGetByDiscordID(b.Context(), strconv.Itoa(100_000+i%users)); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

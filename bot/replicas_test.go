package bot

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
)

// TestShards: a replica identifies as its shard, of as many as Discord
// recommends when asked to.
func TestShards(t *testing.T) {
	t.Parallel()
	var got *Request
	b, tb := setup(t, Options{GuildID: fakediscord.GuildID, ShardID: 1, ShardCount: AutoShards}, testCommands(&got)...)
	tb.fake.SetShards(2)
	require.NoError(t, b.Start(waitCtx(t)))
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	require.Equal(t, &[2]int{1, 2}, tb.fake.Identify().Shard)

	b, tb = setup(t, Options{GuildID: fakediscord.GuildID, ShardID: 2, ShardCount: AutoShards}, testCommands(&got)...)
	tb.fake.SetShards(2)
	require.ErrorContains(t, b.Start(waitCtx(t)), "Discord recommends 2 shards, so DISCORD_SHARD_ID goes from 0 to 1")
	require.Nil(t, tb.fake.Identify(), "never connected")
}

// TestNoGateway: with no gateway the bot still registers its commands
// (the application read over REST) and is ready.
func TestNoGateway(t *testing.T) {
	t.Parallel()
	var got *Request
	b, tb := setup(t, Options{GuildID: fakediscord.GuildID, NoGateway: true}, testCommands(&got)...)
	var digests []string
	b.opts.RegisterOnce = func(ctx context.Context, digest string, register func(context.Context) error) (bool, error) {
		digests = append(digests, digest)
		return true, register(ctx)
	}
	require.NoError(t, b.Start(waitCtx(t)))
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	require.Nil(t, tb.fake.Identify())
	require.NotEmpty(t, tb.fake.Commands(fakediscord.GuildID))
	require.Len(t, digests, 1)
	require.Len(t, digests[0], 64, "a SHA-256 of the application, guild and definitions")
	require.Contains(t, tb.logs.String(), "commands registered")
}

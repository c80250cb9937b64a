package commands_test

import (
	"context"
	"image/png"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/store"
)

func TestAdminUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	a := b.setUp(t)
	require.NoError(t, b.bootstrap(ctx, []string{superID}))
	alice := b.user(t, aliceID).ID
	// Fixed rows, beside those setUp's commands logged (flushed later, or
	// not at all): yesterday 30 sent for Alice in Rose, slow; today 100
	// sent by the bot's key and 300 from the cache.
	today := time.Now().UTC().Truncate(24 * time.Hour).Add(time.Hour)
	var rows []store.APIUsageLogInsertBatchParams
	for i := range 30 {
		rows = append(rows, store.APIUsageLogInsertBatchParams{UserID: &alice, AllianceID: &a.ID, Endpoint: "allianceBank", StatusCode: 200,
			ResponseTimeMs: int32(900 + i), CreatedAt: today.AddDate(0, 0, -1)})
	}
	for i := range 400 {
		rows = append(rows, store.APIUsageLogInsertBatchParams{Endpoint: "nationsByID", StatusCode: 200, ResponseTimeMs: 40, CacheHit: i >= 100, CreatedAt: today})
	}
	_, err := b.st.APIUsageLogInsertBatch(ctx, rows)
	require.NoError(t, err)

	_, err = b.as(t, aliceID, "/admin/usage")
	require.ErrorContains(t, err, "missing canManageSystem")

	resp, err := b.as(t, superID, "/admin/usage", "days", 3)
	require.NoError(t, err)
	text := embedText(resp.Embeds[0])
	require.Contains(t, text, "Game API usage, last 3 days")
	require.Contains(t, text, today.AddDate(0, 0, -2).Format("Jan 2")+": 0 sent · 0 from cache", "a day without lookups is shown")
	require.Contains(t, text, today.AddDate(0, 0, -1).Format("Jan 2")+": 30 sent")
	require.Contains(t, text, "`allianceBank`: p95 928 ms")
	require.Contains(t, text, "<@"+aliceID+">: 30 sent")
	require.Contains(t, text, "Rose: 30 sent")
	require.Regexp(t, `Bot's key \(PNW_API_KEY\): 1,(8|9)\d\d left of 2,000`, text)
	require.Contains(t, text, "% of ")
	for _, key := range []string{botKey, aliceKey, bobKey, carolKey} {
		require.NotContains(t, text, key, "a key is named by its id, never shown")
	}

	require.Equal(t, "attachment://usage.png", resp.Embeds[0].Image.URL)
	require.Len(t, resp.Files, 1)
	img, err := png.Decode(resp.Files[0].Reader)
	require.NoError(t, err)
	require.Equal(t, 768, img.Bounds().Dx())

	_, err = b.as(t, superID, "/admin/usage", "days", 91)
	require.ErrorContains(t, err, "1 to 90 days")
}

func TestAdminCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b := setup(t)
	require.NoError(t, b.bootstrap(ctx, []string{superID}))
	_, err := b.client.Alliance(ctx, rose)
	require.NoError(t, err)
	_, err = b.client.Alliance(ctx, rose)
	require.NoError(t, err)
	require.Equal(t, 1, b.game.Requests(), "cached")

	_, err = b.as(t, superID, "/admin/cache/invalidate", "tag", "rose")
	require.ErrorContains(t, err, "`nation:ID` or `alliance:ID`")
	_, err = b.as(t, aliceID, "/admin/cache/invalidate", "tag", "alliance:77")
	require.ErrorContains(t, err, "missing canManageSystem")
	resp, err := b.as(t, superID, "/admin/cache/invalidate", "tag", "alliance:77")
	require.NoError(t, err)
	require.Contains(t, resp.Content, "`alliance:77`")
	require.Equal(t, "cache.invalidate", b.auditActions(t)[0].Action)
	_, err = b.client.Alliance(ctx, rose)
	require.NoError(t, err)
	require.Equal(t, 2, b.game.Requests(), "the next lookup asks the game")

	_, err = b.st.APIUsageLogInsertBatch(ctx, []store.APIUsageLogInsertBatchParams{
		{Endpoint: "alliancesByID", StatusCode: 200, CacheHit: true, CreatedAt: time.Now()},
		{Endpoint: "alliancesByID", StatusCode: 200, CreatedAt: time.Now()},
	})
	require.NoError(t, err)
	resp, err = b.as(t, superID, "/admin/cache/stats")
	require.NoError(t, err)
	require.Regexp(t, "`alliancesByID`: \\d+ lookups · \\d+% from cache", embedText(resp.Embeds[0]))
}

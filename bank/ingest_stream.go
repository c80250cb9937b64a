package bank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"pnwbot/pnw"
	"pnwbot/pnw/stream"
	"pnwbot/store"
)

// bankStreamLock is the PostgreSQL advisory lock of the replica that
// follows the alliances' bank record streams: one at a time.
const bankStreamLock int64 = 0x706e77_62616e6b // "pnw" "bank"

// streamRecheck is how often a replica without the streams tries to take
// them, and the holder looks for alliances that gained or lost a key.
const streamRecheck = 15 * time.Second

// Follow keeps, while this replica holds the lock, one stream of the
// game's new bank records per alliance the ingest pass reads, subscribed
// with one of its managers' keys that may see the bank (newClient makes a
// client for a key), and stores each record as it arrives, through the
// pass's idempotent insert (StoreStreamed): a record is in the ledger
// within seconds, and the pass still reads whatever the stream missed. It
// returns when ctx ends.
func (b *Bank) Follow(ctx context.Context, newClient func(key string) *stream.Client) {
	for ctx.Err() == nil {
		if err := b.holdStreams(ctx, newClient); err != nil && ctx.Err() == nil {
			b.logger.WarnContext(ctx, "ledger stream: paused; the pass reads the records", "error", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(streamRecheck):
		}
	}
}

// holdStreams takes the lock on a connection of its own and, while it
// holds it, runs a stream per alliance; nil when another replica holds it.
func (b *Bank) holdStreams(ctx context.Context, newClient func(key string) *stream.Client) error {
	lock, err := b.store.TryLock(ctx, bankStreamLock)
	if err != nil || lock == nil {
		return err
	}
	defer lock.Release(ctx)
	runs := map[int64]*allianceStream{}
	defer func() {
		for _, r := range runs {
			r.stop()
		}
	}()
	for {
		alliances, err := b.store.BankIngestAlliances(ctx)
		if err != nil {
			return err
		}
		want := map[int64]bool{}
		for _, row := range alliances {
			a := row.Alliance
			want[a.ID] = true
			if r := runs[a.ID]; r != nil && !r.ended() {
				continue
			}
			key := ""
			err := b.keys.WithAllianceKey(ctx, a, true, func(k string) error { key = k; return nil })
			if err != nil {
				continue // no usable key now: the pass says why
			}
			runs[a.ID] = b.startStream(ctx, newClient(key), a)
		}
		for id, r := range runs {
			if !want[id] {
				r.stop()
				delete(runs, id)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(streamRecheck):
		}
		if err := lock.Check(ctx); err != nil {
			return err // the lock may be gone with the connection
		}
	}
}

// allianceStream is one alliance's stream running.
type allianceStream struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *allianceStream) ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func (r *allianceStream) stop() {
	r.cancel()
	<-r.done
}

// startStream subscribes to the bank records the alliance sends and
// receives.
func (b *Bank) startStream(ctx context.Context, c *stream.Client, a store.Alliance) *allianceStream {
	ctx, cancel := context.WithCancel(ctx)
	r := &allianceStream{cancel: cancel, done: make(chan struct{})}
	id := strconv.FormatInt(a.PnwAllianceID, 10)
	subs := []stream.Subscription{
		{Model: "bankrec", Event: "create", Filters: url.Values{"receiver_id": {id}, "receiver_type": {"2"}}},
		{Model: "bankrec", Event: "create", Filters: url.Values{"sender_id": {id}, "sender_type": {"2"}}},
	}
	go func() {
		defer close(r.done)
		err := c.Run(ctx, subs, func(ctx context.Context, e stream.Event) error {
			recs := make([]pnw.Bankrec, 0, len(e.Records))
			for _, raw := range e.Records {
				rec, err := bankrecFromStream(raw)
				if err != nil {
					return err
				}
				recs = append(recs, rec)
			}
			_, err := b.StoreStreamed(ctx, recs)
			return err
		})
		if err != nil && ctx.Err() == nil {
			b.logger.WarnContext(ctx, "ledger stream ended; tried again soon", "alliance_id", a.ID, "error", err)
		}
	}()
	return r
}

// bankrecFromStream reads a bank record of the stream: its ids and amounts
// may come as numbers or strings.
func bankrecFromStream(raw json.RawMessage) (pnw.Bankrec, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return pnw.Bankrec{}, fmt.Errorf("bank record: %w", err)
	}
	str := func(k string) string {
		if m[k] == nil {
			return ""
		}
		return fmt.Sprint(m[k])
	}
	num := func(k string) float64 {
		f, _ := strconv.ParseFloat(str(k), 64)
		return f
	}
	typ := func(k string) int {
		n, _ := strconv.Atoi(str(k))
		return n
	}
	r := pnw.Bankrec{Id: str("id"), Date: str("date"), SenderId: str("sender_id"), SenderType: typ("sender_type"),
		ReceiverId: str("receiver_id"), ReceiverType: typ("receiver_type"), BankerId: str("banker_id"), Note: str("note"),
		TaxId: str("tax_id")}
	var moved pnw.Amounts
	for _, res := range pnw.Resources {
		moved[res] = num(res.String())
	}
	r.SetAmounts(moved)
	if r.Id == "" {
		return r, errors.New("bank record without an id")
	}
	return r, nil
}

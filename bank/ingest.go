package bank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"pnwbot/audit"
	"pnwbot/pnw"
	"pnwbot/store"
)

// RecordsKept is how far back the game answers bank and tax records: a
// span no pass read within it is a gap.
const RecordsKept = 14 * 24 * time.Hour

// ingestParallel is how many alliances a pass reads at once: each with
// its own key, so the game's limits per key are not shared.
const ingestParallel = 4

// IngestReport is what a pass did.
type IngestReport struct {
	Alliances int `json:"alliances"` // read, or tried
	Failed    int `json:"failed"`    // could not be read (each logged, its error kept)
	Requests  int `json:"requests"`  // sent to the game
	Read      int `json:"read"`      // records the game returned
	Stored    int `json:"stored"`    // of those, new to the ledger
	Gaps      int `json:"gaps"`      // spans found that no pass read in time
	Snapshots int `json:"snapshots"` // holdings kept for the day's chart point
}

// Ingest is one pass: for each alliance with a manager key that may see
// its bank, it reads the bank and tax records after the last ones stored
// (one request per alliance, more only when over MaxLedgerRecords came)
// and stores them with the cursor in one transaction each, so a failed
// pass or a restart loses nothing and counts nothing twice. A failed
// alliance does not stop the others; only the database does.
func (b *Bank) Ingest(ctx context.Context) (IngestReport, error) {
	alliances, err := b.store.BankIngestAlliances(ctx)
	if err != nil {
		return IngestReport{}, fmt.Errorf("ledger alliances: %w", err)
	}
	var mu sync.Mutex
	report := IngestReport{Alliances: len(alliances)}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(ingestParallel)
	for _, a := range alliances {
		g.Go(func() error {
			r, err := b.ingestAlliance(ctx, a)
			mu.Lock()
			defer mu.Unlock()
			report.Requests += r.Requests
			report.Read += r.Read
			report.Stored += r.Stored
			report.Gaps += r.Gaps
			report.Snapshots += r.Snapshots
			if err == nil {
				return nil
			}
			if errors.Is(err, store.ErrUnavailable) || ctx.Err() != nil {
				return err
			}
			report.Failed++
			b.logger.WarnContext(ctx, "ledger: alliance not read this pass", "alliance_id", a.Alliance.ID, "error", err)
			msg := err.Error()
			if err := b.store.BankIngestFailed(ctx, store.BankIngestFailedParams{AllianceID: a.Alliance.ID, Error: &msg, Now: b.now()}); err != nil {
				return fmt.Errorf("record ledger failure: %w", err)
			}
			return nil
		})
	}
	return report, g.Wait()
}

// ingestAlliance reads one alliance until it has every record the game has
// after its cursor, with its managers' keys that may see the bank
// (keys.WithAllianceKey: a refused key is marked and the next tried).
func (b *Bank) ingestAlliance(ctx context.Context, row store.BankIngestAlliancesRow) (IngestReport, error) {
	var r IngestReport
	a := row.Alliance
	ctx = pnw.WithCaller(ctx, pnw.Caller{AllianceID: a.ID})
	lastBank, lastTax := row.LastBankID, row.LastTaxID
	var key string
	for {
		readAt := b.now()
		var recs pnw.LedgerRecords
		err := b.keys.WithAllianceKey(ctx, a, true, func(k string) error {
			r.Requests++
			var err error
			recs, err = b.game.AllianceRecordsSince(ctx, k, int(a.PnwAllianceID), int(lastBank+1), int(lastTax+1))
			key = k
			return err
		})
		if err != nil {
			return r, err
		}
		rows, err := gameRecords(recs)
		if err != nil {
			return r, err
		}
		stored, gap, err := b.storeRecords(ctx, a.ID, rows, readAt)
		if err != nil {
			return r, err
		}
		r.Read += len(rows)
		r.Stored += stored
		if gap {
			r.Gaps++
		}
		lastBank, lastTax = max(lastBank, lastID(recs.Bank)), max(lastTax, lastID(recs.Tax))
		if len(recs.Bank) < pnw.MaxLedgerRecords && len(recs.Tax) < pnw.MaxLedgerRecords {
			break
		}
	}
	took, err := b.snapshot(ctx, a, key)
	if took {
		r.Snapshots++
	}
	return r, err
}

// snapshot keeps the alliance's holdings of the day, for the chart: read
// once a day, with the key that just read its records.
func (b *Bank) snapshot(ctx context.Context, a store.Alliance, key string) (bool, error) {
	day := b.now().UTC().Truncate(24 * time.Hour)
	if taken, err := b.store.BankSnapshotTaken(ctx, store.BankSnapshotTakenParams{AllianceID: a.ID, Day: day}); err != nil || taken {
		return false, err
	}
	bank, err := b.game.AllianceBank(ctx, key, int(a.PnwAllianceID))
	if err != nil {
		return false, fmt.Errorf("holdings: %w", err)
	}
	holdings := bank.Data.Amounts()
	prices, err := b.Prices(ctx)
	if err != nil {
		return false, fmt.Errorf("prices: %w", err)
	}
	value, _ := prices.Worth(holdings) // a resource without a price counts nothing

	raw, err := json.Marshal(holdings)
	if err != nil {
		return false, err
	}
	_, err = b.store.BankSnapshotInsert(ctx, store.BankSnapshotInsertParams{AllianceID: a.ID, Day: day, Holdings: raw, Value: value})
	return err == nil, err
}

// storeRecords writes records read at readAt and moves the alliance's cursor
// past them, in one transaction; it reports how many were new and whether
// the span since the last read had outlived the game's memory (a gap,
// stored and audited).
func (b *Bank) storeRecords(ctx context.Context, allianceID int64, rows []gameRecord, readAt time.Time) (stored int, gap bool, err error) {
	raw, err := json.Marshal(rows)
	if err != nil {
		return 0, false, err
	}
	var lastBank, lastTax int64
	for _, r := range rows {
		if r.Kind == KindTax {
			lastTax = max(lastTax, r.PnwID)
		} else {
			lastBank = max(lastBank, r.PnwID)
		}
	}
	err = b.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.BankIngestLock(ctx, store.BankIngestLockParams{AllianceID: allianceID, Now: readAt})
		if err != nil {
			return err
		}
		if oldest := readAt.Add(-RecordsKept); !cur.Created && cur.LastReadAt.Before(oldest) {
			gap = true
			if _, err := q.BankGapInsert(ctx, store.BankGapInsertParams{AllianceID: allianceID, GapFrom: cur.LastReadAt, GapTo: oldest}); err != nil {
				return err
			}
			if err := audit.Write(ctx, q, audit.Entry{Alliance: &allianceID, Action: "bank.ledger_gap", Resource: "alliance",
				ResourceID: strconv.FormatInt(allianceID, 10), Failed: true, New: map[string]any{"from": cur.LastReadAt, "to": oldest,
					"why": "no pass read the bank within the 14 days the game keeps records: records of that span may be missing"}}); err != nil {
				return err
			}
		}
		n, err := q.BankRecordInsertGame(ctx, store.BankRecordInsertGameParams{AllianceID: allianceID, Records: raw})
		if err != nil {
			return err
		}
		stored = int(n)
		return q.BankIngestAdvance(ctx, store.BankIngestAdvanceParams{AllianceID: allianceID, LastBankID: lastBank, LastTaxID: lastTax, ReadAt: readAt})
	})
	if err != nil {
		return 0, false, fmt.Errorf("store ledger records: %w", err)
	}
	if gap {
		b.logger.WarnContext(ctx, "ledger: a span outlived the game's 14 days unread; its records may be missing", "alliance_id", allianceID)
	}
	return stored, gap, nil
}

// gameRecord is a record as BankRecordInsertGame takes it.
type gameRecord struct {
	Kind         Kind        `json:"kind"`
	PnwID        int64       `json:"pnw_id"`
	Date         time.Time   `json:"date"`
	SenderID     int64       `json:"sender_id"`
	SenderType   int         `json:"sender_type"`
	ReceiverID   int64       `json:"receiver_id"`
	ReceiverType int         `json:"receiver_type"`
	BankerID     int64       `json:"banker_id"`
	Note         string      `json:"note"`
	TaxID        *int64      `json:"tax_id"`
	Amounts      pnw.Amounts `json:"amounts"`
}

func gameRecords(recs pnw.LedgerRecords) ([]gameRecord, error) {
	out := make([]gameRecord, 0, len(recs.Bank)+len(recs.Tax))
	for _, set := range []struct {
		kind Kind
		recs []pnw.Bankrec
	}{{KindBank, recs.Bank}, {KindTax, recs.Tax}} {
		for _, b := range set.recs {
			r, err := fromGame(set.kind, b)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// fromGame reads one of the game's records.
func fromGame(kind Kind, b pnw.Bankrec) (gameRecord, error) {
	id, err := strconv.ParseInt(b.Id, 10, 64)
	if err != nil || id <= 0 {
		return gameRecord{}, fmt.Errorf("bank record id %q", b.Id)
	}
	date, err := pnw.ParseTime(b.Date)
	if err != nil {
		return gameRecord{}, fmt.Errorf("bank record %d: %w", id, err)
	}
	num := func(s string) int64 {
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	r := gameRecord{Kind: kind, PnwID: id, Date: date, SenderID: num(b.SenderId), SenderType: b.SenderType,
		ReceiverID: num(b.ReceiverId), ReceiverType: b.ReceiverType, BankerID: num(b.BankerId), Note: b.Note, Amounts: b.Amounts()}
	if t := num(b.TaxId); t != 0 {
		r.TaxID = &t
	}
	if r.SenderType != TypeNation && r.SenderType != TypeAlliance || r.ReceiverType != TypeNation && r.ReceiverType != TypeAlliance {
		return gameRecord{}, fmt.Errorf("bank record %d: sender type %d, receiver type %d", id, r.SenderType, r.ReceiverType)
	}
	return r, nil
}

func lastID(recs []pnw.Bankrec) int64 {
	var last int64
	for _, b := range recs {
		if id, err := strconv.ParseInt(b.Id, 10, 64); err == nil {
			last = max(last, id)
		}
	}
	return last
}

// StoreStreamed stores records the game pushed (its bankrec subscription)
// in the ledger of each alliance they involve whose ledger a pass has
// started. The cursor does not move: the next pass reads them again and
// skips them, and reads what the stream missed. It returns how many were
// new.
func (b *Bank) StoreStreamed(ctx context.Context, recs []pnw.Bankrec) (int, error) {
	byAlliance := map[int64][]gameRecord{}
	for _, b := range recs {
		kind := KindBank
		if n, _ := strconv.ParseInt(b.TaxId, 10, 64); n != 0 {
			kind = KindTax
		}
		r, err := fromGame(kind, b)
		if err != nil {
			return 0, err
		}
		for _, side := range [][2]int64{{r.SenderID, int64(r.SenderType)}, {r.ReceiverID, int64(r.ReceiverType)}} {
			if side[1] == TypeAlliance {
				byAlliance[side[0]] = append(byAlliance[side[0]], r)
			}
		}
	}
	stored := 0
	for pnwID, rows := range byAlliance {
		a, err := b.store.AllianceGetByPnwID(ctx, pnwID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return stored, fmt.Errorf("alliance: %w", err)
		}
		if _, err := b.store.BankIngestGet(ctx, a.ID); errors.Is(err, store.ErrNotFound) {
			continue // no ledger yet: its first pass reads them
		} else if err != nil {
			return stored, fmt.Errorf("ledger cursor: %w", err)
		}
		raw, err := json.Marshal(rows)
		if err != nil {
			return stored, err
		}
		n, err := b.store.BankRecordInsertGame(ctx, store.BankRecordInsertGameParams{AllianceID: a.ID, Records: raw})
		if err != nil {
			return stored, fmt.Errorf("store streamed records: %w", err)
		}
		stored += int(n)
	}
	return stored, nil
}

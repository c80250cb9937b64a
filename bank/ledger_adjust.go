package bank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"pnwbot/audit"
	"pnwbot/keys"
	"pnwbot/pnw"
	"pnwbot/store"
)

// Adjust adds a banker's manual entry to a nation's account in the
// manager's alliance: amounts signed (a negative one debits), with a note
// saying why. It is audited as bank.adjust with the balance before and
// after, in the transaction that writes it. interactionID is the Discord
// interaction that adjusts: applied again (a replay), it changes nothing and
// answers Repeated.
func (b *Bank) Adjust(ctx context.Context, m keys.Actor, interactionID string, nationID int64, a pnw.Amounts, note string) (before, after pnw.Amounts, err error) {
	for _, r := range pnw.Resources {
		v := a[r]
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > MaxAmount:
			return before, after, &Invalid{fmt.Sprintf("The amount of %s is not a number the bank can hold. Nothing was changed.", r)}
		case math.Round(v*100)/100 != v:
			return before, after, &Invalid{fmt.Sprintf("The amount of %s has more than two decimals, which the game does not keep. Nothing was changed.", r)}
		}
	}
	note = strings.TrimSpace(note)
	switch {
	case a.IsZero():
		return before, after, &Invalid{"Give at least one amount: positive credits the nation, negative debits it. Nothing was changed."}
	case note == "":
		return before, after, &Invalid{"Say why in the note: it stays in the ledger. Nothing was changed."}
	case len([]rune(note)) > MaxNote:
		return before, after, &Invalid{fmt.Sprintf("The note is too long: at most %d characters. Nothing was changed.", MaxNote)}
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return before, after, err
	}
	err = b.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		// One adjustment of the alliance at a time: each audits the balance it changed.
		if _, err := q.AllianceLock(ctx, m.Alliance.ID); err != nil {
			return audit.Entry{}, err
		}
		acc, err := accountWith(ctx, q, m.Alliance, nationID)
		if err != nil {
			return audit.Entry{}, err
		}
		before = acc.Balance
		rec, err := q.BankRecordInsertAdjustment(ctx, store.BankRecordInsertAdjustmentParams{AllianceID: m.Alliance.ID, Date: b.now(),
			AlliancePnwID: m.Alliance.PnwAllianceID, NationID: nationID, Note: note, Amounts: raw, CreatedBy: &m.User.ID, InteractionID: interactionID})
		if errors.Is(err, store.ErrNotFound) {
			return audit.Entry{}, &Repeated{"This adjustment is already recorded: this was the same interaction again. Nothing more was changed."}
		}
		if err != nil {
			return audit.Entry{}, err
		}
		if acc, err = accountWith(ctx, q, m.Alliance, nationID); err != nil {
			return audit.Entry{}, err
		}
		after = acc.Balance
		return audit.Entry{User: &m.User.ID, Alliance: &m.Alliance.ID, Action: "bank.adjust", Resource: "bank_record",
			ResourceID: strconv.FormatInt(rec.ID, 10), Old: map[string]any{"balance": before},
			New: map[string]any{"balance": after, "nation_id": nationID, "amounts": json.RawMessage(raw), "note": note}}, nil
	})
	if err != nil {
		return before, after, fmt.Errorf("adjust: %w", err)
	}
	return before, after, nil
}

package bank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"pnwbot/audit"
	"pnwbot/pnw"
	"pnwbot/store"
)

// Alliance settings of the ledger (keys of alliances.settings).
const (
	// SettingTaxCreditPercent is the share of a member's taxes credited
	// to their balance, 0 to 100 (default 0).
	SettingTaxCreditPercent = "bank.tax_credit_percent"
	// SettingChannel is the Discord channel where requests are posted.
	SettingChannel = "bank.channel_id"
)

// AllianceRules are an alliance's ledger rules, from its settings.
func AllianceRules(a store.Alliance) Rules {
	var s map[string]any
	_ = json.Unmarshal(a.Settings, &s) // a CHECK keeps it an object
	p, _ := s[SettingTaxCreditPercent].(float64)
	return Rules{AllianceID: a.PnwAllianceID, TaxCreditPercent: min(max(p, 0), 100)}
}

// Account returns a nation's account in the alliance's ledger: the fold of
// its records (empty when it has none).
func (b *Bank) Account(ctx context.Context, a store.Alliance, nationID int64) (*Account, error) {
	return accountWith(ctx, b.store.Queries, a, nationID)
}

func accountWith(ctx context.Context, q *store.Queries, a store.Alliance, nationID int64) (*Account, error) {
	rows, err := q.BankRecordListNation(ctx, store.BankRecordListNationParams{AllianceID: a.ID, NationID: &nationID})
	if err != nil {
		return nil, fmt.Errorf("ledger records: %w", err)
	}
	records, err := toRecords(rows)
	if err != nil {
		return nil, err
	}
	if acc := Fold(AllianceRules(a), records)[nationID]; acc != nil {
		return acc, nil
	}
	return &Account{NationID: nationID}, nil
}

// Accounts returns every nation's account in the alliance's ledger.
func (b *Bank) Accounts(ctx context.Context, a store.Alliance) (map[int64]*Account, error) {
	rows, err := b.store.BankRecordListAlliance(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("ledger records: %w", err)
	}
	records, err := toRecords(rows)
	if err != nil {
		return nil, err
	}
	return Fold(AllianceRules(a), records), nil
}

// Status is how complete an alliance's ledger is.
type Status struct {
	// Since is the oldest time the ledger holds every record from; zero
	// before the first pass read the alliance.
	Since time.Time
	// LastRead is when a pass last read the game.
	LastRead time.Time
	// LastError is why the last pass could not read it, if it could not.
	LastError string
	// Gaps are spans whose records may be missing.
	Gaps []store.BankGap
}

// Status says since when the alliance's ledger holds its records, and what
// it may miss.
func (b *Bank) Status(ctx context.Context, allianceID int64) (Status, error) {
	cur, err := b.store.BankIngestGet(ctx, allianceID)
	if errors.Is(err, store.ErrNotFound) {
		return Status{}, nil
	} else if err != nil {
		return Status{}, fmt.Errorf("ledger cursor: %w", err)
	}
	gaps, err := b.store.BankGapList(ctx, allianceID)
	if err != nil {
		return Status{}, fmt.Errorf("ledger gaps: %w", err)
	}
	s := Status{Since: cur.FirstReadAt.Add(-RecordsKept), LastRead: cur.LastReadAt, Gaps: gaps}
	if cur.LastError != nil {
		s.LastError = *cur.LastError
	}
	return s, nil
}

func toRecords(rows []store.BankRecord) ([]Record, error) {
	out := make([]Record, len(rows))
	for i, r := range rows {
		var amounts pnw.Amounts
		if err := json.Unmarshal(r.Amounts, &amounts); err != nil {
			return nil, fmt.Errorf("ledger record %d: %w", r.ID, err)
		}
		out[i] = Record{ID: r.ID, Kind: Kind(r.Kind), Date: r.Date, SenderID: r.SenderID, SenderType: int(r.SenderType),
			ReceiverID: r.ReceiverID, ReceiverType: int(r.ReceiverType), BankerID: r.BankerID, Note: r.Note, Amounts: amounts}
		if r.PnwID != nil {
			out[i].GameID = *r.PnwID
		}
		if r.NationID != nil {
			out[i].NationID = *r.NationID
		}
	}
	return out, nil
}

// Channel is the Discord channel where the alliance's requests are posted;
// "" when none was chosen.
func Channel(a store.Alliance) string {
	var s map[string]any
	_ = json.Unmarshal(a.Settings, &s) // a CHECK keeps it an object
	c, _ := s[SettingChannel].(string)
	return c
}

// SetChannel stores where the alliance's requests are posted (audited as
// bank.channel) and returns the channel it replaces.
func (b *Bank) SetChannel(ctx context.Context, a store.Alliance, userID int64, channelID string) (string, error) {
	old, err := b.setSetting(ctx, a.ID, userID, SettingChannel, channelID)
	s, _ := old.(string)
	return s, err
}

// SetTaxCreditPercent stores the share of taxes credited to members
// (audited) and returns the share it replaces.
func (b *Bank) SetTaxCreditPercent(ctx context.Context, a store.Alliance, userID int64, percent float64) (float64, error) {
	old, err := b.setSetting(ctx, a.ID, userID, SettingTaxCreditPercent, percent)
	p, _ := old.(float64)
	return p, err
}

// setSetting changes one key of the alliance's settings under its lock,
// with an audit row naming the old and new value.
func (b *Bank) setSetting(ctx context.Context, allianceID, userID int64, key string, value any) (old any, err error) {
	err = b.audit.Change(ctx, func(q *store.Queries) (audit.Entry, error) {
		if _, err := q.AllianceLock(ctx, allianceID); err != nil {
			return audit.Entry{}, err
		}
		cur, err := q.AllianceGetByID(ctx, allianceID)
		if err != nil {
			return audit.Entry{}, err
		}
		var s map[string]any
		if err := json.Unmarshal(cur.Settings, &s); err != nil {
			return audit.Entry{}, fmt.Errorf("alliance settings: %w", err)
		}
		old = s[key]
		s[key] = value
		raw, err := json.Marshal(s)
		if err != nil {
			return audit.Entry{}, err
		}
		_, err = q.AllianceUpdateSettings(ctx, store.AllianceUpdateSettingsParams{ID: allianceID, Settings: raw, IsPublic: cur.IsPublic})
		return audit.Entry{User: &userID, Alliance: &allianceID, Action: "alliance.settings", Resource: "alliance",
			ResourceID: strconv.FormatInt(cur.PnwAllianceID, 10), Old: map[string]any{key: old}, New: map[string]any{key: value}}, err
	})
	if err != nil {
		return nil, fmt.Errorf("alliance setting %s: %w", key, err)
	}
	return old, nil
}

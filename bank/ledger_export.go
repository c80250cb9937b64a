package bank

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"pnwbot/pnw"
)

// WriteCSV writes a ledger's entries as CSV, one row a record, for a
// spreadsheet: a text cell that starts with =, +, -, @, a tab or a carriage
// return is prefixed with ' so that no spreadsheet runs it as a formula;
// commas, quotes and line breaks are quoted as CSV does.
func WriteCSV(w io.Writer, entries []Entry) error {
	c := csv.NewWriter(w)
	header := []string{"date", "kind", "game_id", "effect", "tags", "nation_id", "sender_type", "sender_id", "receiver_type", "receiver_id", "note"}
	for _, r := range pnw.Resources {
		header = append(header, r.String())
	}
	for _, r := range pnw.Resources {
		header = append(header, "credit_"+r.String())
	}
	if err := c.Write(header); err != nil {
		return err
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, e := range entries {
		game := ""
		if e.GameID != 0 {
			game = id(e.GameID)
		}
		row := []string{e.Date.UTC().Format(time.DateTime), string(e.Kind), game, string(e.Effect), safeCell(strings.Join(e.Tags, " ")),
			id(e.NationID), party(e.SenderType), id(e.SenderID), party(e.ReceiverType), id(e.ReceiverID), safeCell(e.Note)}
		for _, v := range e.Amounts {
			row = append(row, strconv.FormatFloat(v, 'f', -1, 64))
		}
		for _, v := range e.Credit {
			row = append(row, strconv.FormatFloat(v, 'f', -1, 64))
		}
		if err := c.Write(row); err != nil {
			return err
		}
	}
	c.Flush()
	return c.Error()
}

func party(typ int) string {
	if typ == TypeAlliance {
		return "alliance"
	}
	return "nation"
}

// safeCell keeps a spreadsheet from reading text as a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

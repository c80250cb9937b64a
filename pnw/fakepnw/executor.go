package fakepnw

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"pnwbot/pnw"
)

// executor resolves one validated operation over the fixtures; the
// server's lock is held throughout.
type executor struct {
	s      *Server
	vars   map[string]any
	viewer *apiKey
	errs   []map[string]any
}

// maxFirst is the largest `first` the game accepts for a paginated query.
func maxFirst(field string) int {
	if field == "wars" || field == "trades" {
		return 1000
	}
	return 500
}

func (x *executor) selection(set ast.SelectionSet, typeName string, obj map[string]any, path []any) map[string]any {
	out := map[string]any{}
	for _, f := range collectFields(set) {
		out[f.Alias] = x.field(f, typeName, obj, append(slices.Clip(path), f.Alias))
	}
	return out
}

// collectFields flattens fragment spreads and inline fragments; every type
// here is concrete, so type conditions always hold.
func collectFields(set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			out = append(out, sel)
		case *ast.FragmentSpread:
			out = append(out, collectFields(sel.Definition.SelectionSet)...)
		case *ast.InlineFragment:
			out = append(out, collectFields(sel.SelectionSet)...)
		}
	}
	return out
}

func (x *executor) field(f *ast.Field, parent string, obj map[string]any, path []any) any {
	if f.Name == "__typename" {
		return parent
	}
	v, err := x.resolve(parent, f.Name, obj, f.ArgumentMap(x.vars))
	if err != nil {
		x.errs = append(x.errs, map[string]any{"message": err.Error(), "path": path})
		return nil
	}
	return x.complete(f, f.Definition.Type, v, path)
}

func (x *executor) complete(f *ast.Field, t *ast.Type, v any, path []any) any {
	if v == nil {
		return nil
	}
	if t.Elem != nil {
		var items []any
		switch l := v.(type) {
		case []map[string]any:
			for _, m := range l {
				items = append(items, m)
			}
		case []any:
			items = l
		}
		out := make([]any, len(items))
		for i, item := range items {
			out[i] = x.complete(f, t.Elem, item, append(slices.Clip(path), i))
		}
		return out
	}
	if m, ok := v.(map[string]any); ok {
		return x.selection(f.SelectionSet, t.NamedType, m, path)
	}
	return v
}

// resolve computes one field: relations and root fields here, the rest
// straight from the record.
func (x *executor) resolve(parent, name string, obj, args map[string]any) (any, error) {
	s := x.s
	switch parent + "." + name {
	case "Query.me":
		return x.me(), nil
	case "Query.nations":
		return paginate("nations", x.nations(args), args)
	case "Query.alliances":
		return paginate("alliances", x.alliances(args), args)
	case "Query.wars":
		return paginate("wars", x.wars(args), args)
	case "Query.trades":
		return paginate("trades", x.trades(args), args)
	case "Query.top_trade_info":
		return map[string]any{"market_index": 100}, nil
	case "TopTradeInfo.resources":
		want := list(args["resource"])
		var out []map[string]any
		for _, p := range s.prices {
			if want == nil || slices.ContainsFunc(want, func(r string) bool { return strings.EqualFold(r, p.Resource) }) {
				out = append(out, p.record())
			}
		}
		return out, nil
	case "Nation.alliance":
		a, ok := s.alliances[toInt(obj["alliance_id"])]
		if !ok {
			return nil, nil
		}
		return a.record(), nil
	case "Nation.cities":
		n := s.nations[toInt(obj["id"])]
		out := []map[string]any{}
		for _, c := range n.Cities {
			m := record(c, nil, "")
			m["nation_id"] = strconv.Itoa(n.ID)
			out = append(out, m)
		}
		return out, nil
	case "Alliance.nations":
		return x.nations(map[string]any{"alliance_id": []any{obj["id"]}}), nil
	case "Alliance.bankrecs", "Alliance.taxrecs":
		if !x.seesBank(obj) {
			return nil, nil
		}
		return x.bankrecs(toInt(obj["id"]), name == "taxrecs", args), nil
	case "War.attacker", "War.defender":
		n, ok := s.nations[toInt(obj[map[string]string{"attacker": "att_id", "defender": "def_id"}[name]])]
		if !ok {
			return nil, nil
		}
		return n.record(), nil
	case "Mutation.bankWithdraw":
		return x.withdraw(args)
	case "Mutation.assignAlliancePosition":
		return x.assignPosition(args)
	case "Mutation.assignTaxBracket":
		return x.assignTaxBracket(args)
	}
	if parent == "Nation" && name == "tax_id" && !x.officerOf(toInt(obj["alliance_id"])) {
		return nil, nil
	}
	if parent == "Alliance" && isResource(name) && !x.seesBank(obj) {
		return nil, nil
	}
	return obj[name], nil
}

func (x *executor) me() map[string]any {
	perms := map[string]any{}
	for _, f := range x.s.schema.Types["ApiKeyPermissions"].Fields {
		perms[f.Name] = x.viewer.perms[f.Name]
	}
	var nation any
	if n, ok := x.s.nations[x.viewer.nationID]; ok {
		nation = n.record()
	}
	return map[string]any{
		"key":          x.viewer.key,
		"requests":     x.viewer.used,
		"max_requests": x.viewer.max,
		"permissions":  perms,
		"nation":       nation,
	}
}

// seesBank: the viewer's nation is a member of the alliance and the key has
// alliance_view_bank.
func (x *executor) seesBank(alliance map[string]any) bool {
	n, ok := x.s.nations[x.viewer.nationID]
	return ok && n.AllianceID == toInt(alliance["id"]) && n.AlliancePosition != "APPLICANT" &&
		x.viewer.perms["alliance_view_bank"]
}

func (x *executor) nations(args map[string]any) []map[string]any {
	var out []map[string]any
	for _, n := range sortedByID(x.s.nations) {
		if match(args["id"], n.ID) && match(args["alliance_id"], n.AllianceID) &&
			match(args["nation_name"], n.NationName) && match(args["discord_id"], n.DiscordID) {
			out = append(out, n.record())
		}
	}
	return out
}

func (x *executor) alliances(args map[string]any) []map[string]any {
	var out []map[string]any
	for _, a := range sortedByID(x.s.alliances) {
		if match(args["id"], a.ID) && match(args["name"], a.Name) {
			out = append(out, a.record())
		}
	}
	return out
}

func (x *executor) wars(args map[string]any) []map[string]any {
	active, _ := args["active"].(bool)
	var out []map[string]any
	for _, w := range x.s.wars {
		if (!active || w.Ended.IsZero()) && match(args["id"], w.ID) &&
			(match(args["alliance_id"], w.AttAllianceID) || match(args["alliance_id"], w.DefAllianceID)) &&
			(match(args["nation_id"], w.AttID) || match(args["nation_id"], w.DefID)) {
			out = append(out, w.record())
		}
	}
	return order(out, args["orderBy"])
}

func (x *executor) trades(args map[string]any) []map[string]any {
	var out []map[string]any
	for _, t := range x.s.trades {
		if match(args["nation_id"], t.SenderID) || match(args["nation_id"], t.ReceiverID) {
			out = append(out, t.record())
		}
	}
	return order(out, args["orderBy"])
}

// bankrecs serves an alliance's bank or tax records as the game does: only
// the last RecordsKept, filtered by min_id, max_id, after and before.
func (x *executor) bankrecs(allianceID int, tax bool, args map[string]any) []map[string]any {
	out := []map[string]any{}
	oldest := time.Now().Add(-RecordsKept)
	after, _ := args["after"].(string)
	before, _ := args["before"].(string)
	for _, r := range x.s.bankrecs {
		involved := r.SenderType == 2 && r.SenderID == allianceID || r.ReceiverType == 2 && r.ReceiverID == allianceID
		date := r.Date.UTC().Format(plainDate)
		if !involved || (r.TaxID != 0) != tax || r.Date.Before(oldest) ||
			args["min_id"] != nil && r.ID < toInt(args["min_id"]) || args["max_id"] != nil && r.ID > toInt(args["max_id"]) ||
			after != "" && date < after || before != "" && date > before {
			continue
		}
		out = append(out, r.record())
	}
	out = order(out, args["orderBy"])
	if limit := toInt(args["limit"]); limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (x *executor) withdraw(args map[string]any) (any, error) {
	s := x.s
	if !x.viewer.perms["alliance_withdraw_bank"] {
		return nil, errors.New("This API key does not have the alliance_withdraw_bank permission.")
	}
	banker, ok := s.nations[x.viewer.nationID]
	a, inAlliance := s.alliances[banker.AllianceID]
	if !ok || !inAlliance {
		return nil, errors.New("You are not in an alliance.")
	}
	bank := a.Bank
	var moved pnw.Amounts
	for _, r := range pnw.Resources {
		v := toFloat(args[r.String()])
		if v < 0 || v > bank[r] {
			return nil, fmt.Errorf("Your alliance does not have enough %s.", r)
		}
		bank[r] -= v
		moved[r] = v
	}
	receiver, receiverType := toInt(args["receiver"]), toInt(args["receiver_type"])
	_, nationExists := s.nations[receiver]
	to, allianceExists := s.alliances[receiver]
	if receiverType == 1 && !nationExists || receiverType == 2 && !allianceExists || receiverType < 1 || receiverType > 2 {
		return nil, errors.New("The receiver does not exist.")
	}
	a.Bank = bank
	s.alliances[a.ID] = a
	if receiverType == 2 {
		for r, v := range moved {
			to.Bank[r] += v
		}
		s.alliances[to.ID] = to
	}
	s.nextID++
	note, _ := args["note"].(string)
	rec := Bankrec{
		ID: s.nextID, Date: time.Now(), SenderID: a.ID, SenderType: 2,
		ReceiverID: receiver, ReceiverType: receiverType, BankerID: banker.ID, Note: note,
		Resources: moved,
	}
	s.bankrecs = append(s.bankrecs, rec)
	return rec.record(), nil
}

func isResource(name string) bool {
	_, ok := pnw.ResourceNamed(name)
	return ok
}

// paginate serves a list as the game's paginators do.
func paginate(field string, items []map[string]any, args map[string]any) (any, error) {
	first, page := toInt(args["first"]), max(toInt(args["page"]), 1)
	if first < 1 || first > maxFirst(field) {
		return nil, fmt.Errorf("Maximum number of %d requested items exceeded, got %d. Fetch smaller chunks.", maxFirst(field), first)
	}
	total := len(items)
	start, end := min((page-1)*first, total), min(page*first, total)
	data := items[start:end]
	if data == nil {
		data = []map[string]any{}
	}
	return map[string]any{
		"paginatorInfo": map[string]any{
			"count": len(data), "currentPage": page, "firstItem": start + 1, "lastItem": end,
			"hasMorePages": end < total, "lastPage": max((total+first-1)/first, 1), "perPage": first, "total": total,
		},
		"data": data,
	}, nil
}

// order applies an orderBy argument on ID or DATE.
func order(items []map[string]any, orderBy any) []map[string]any {
	clauses, _ := orderBy.([]any)
	for _, c := range slices.Backward(clauses) {
		clause, _ := c.(map[string]any)
		column, _ := clause["column"].(string)
		desc := clause["order"] == "DESC"
		slices.SortStableFunc(items, func(a, b map[string]any) int {
			var r int
			switch column {
			case "ID":
				r = toInt(a["id"]) - toInt(b["id"])
			case "DATE":
				r = strings.Compare(fmt.Sprint(a["date"]), fmt.Sprint(b["date"]))
			}
			if desc {
				return -r
			}
			return r
		})
	}
	return items
}

// match reports whether a list filter is absent or holds v (case-insensitive,
// as the game's database compares).
func match(filter any, v any) bool {
	l := list(filter)
	return l == nil || slices.ContainsFunc(l, func(s string) bool { return strings.EqualFold(s, fmt.Sprint(v)) })
}

// list reads a list argument as strings; nil when absent.
func list(v any) []string {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return []string{fmt.Sprint(v)}
	}
	out := make([]string, rv.Len())
	for i := range out {
		out[i] = fmt.Sprint(rv.Index(i).Interface())
	}
	return out
}

func toInt(v any) int {
	switch v := v.(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(v)
		return n
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	}
	return 0
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case float64:
		return v
	case int64:
		return float64(v)
	case int:
		return float64(v)
	}
	return 0
}

func sortedByID[T any](m map[int]T) []T {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]T, len(ids))
	for i, id := range ids {
		out[i] = m[id]
	}
	return out
}

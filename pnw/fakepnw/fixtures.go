package fakepnw

import (
	"encoding/json"
	"strconv"
	"time"

	"pnwbot/pnw"
)

// Nation is a nation fixture. Zero fields come back as zero values;
// AlliancePosition defaults to MEMBER in an alliance and NOALLIANCE outside.
type Nation struct {
	ID                 int     `json:"id,string"`
	NationName         string  `json:"nation_name"`
	LeaderName         string  `json:"leader_name"`
	AllianceID         int     `json:"alliance_id,string"`
	AlliancePosition   string  `json:"alliance_position"` // NOALLIANCE, APPLICANT, MEMBER, OFFICER, HEIR, LEADER
	Score              float64 `json:"score"`
	NumCities          int     `json:"num_cities"`
	Color              string  `json:"color"`
	Flag               string  `json:"flag"`
	VacationModeTurns  int     `json:"vacation_mode_turns"`
	BeigeTurns         int     `json:"beige_turns"`
	Soldiers           int     `json:"soldiers"`
	Tanks              int     `json:"tanks"`
	Aircraft           int     `json:"aircraft"`
	Ships              int     `json:"ships"`
	Missiles           int     `json:"missiles"`
	Nukes              int     `json:"nukes"`
	OffensiveWarsCount int     `json:"offensive_wars_count"`
	DefensiveWarsCount int     `json:"defensive_wars_count"`
	Discord            string  `json:"discord"`
	DiscordID          string  `json:"discord_id"`
	TaxID              int     `json:"tax_id,string"`      // its tax bracket; visible to its alliance's officers
	AllianceSeniority  int     `json:"alliance_seniority"` // days in its alliance (an applicant's: since applying)
	// Cities are its cities, for Nation.cities.
	Cities []City `json:"-"`
	// Founded and LastActive come back in the game's two date formats:
	// "2006-01-02 15:04:05" and "2006-01-02T15:04:05+00:00".
	Founded    time.Time `json:"-"`
	LastActive time.Time `json:"-"`
}

// City is a city's military buildings; zero fields come back as zero.
type City struct {
	ID       int `json:"id,string"`
	Barracks int `json:"barracks"`
	Factory  int `json:"factory"`
	Hangar   int `json:"hangar"`
	Drydock  int `json:"drydock"`
}

// Alliance is an alliance fixture. Bank is visible only to keys of its
// members with the alliance_view_bank permission.
type Alliance struct {
	ID            int         `json:"id,string"`
	Name          string      `json:"name"`
	Acronym       string      `json:"acronym"`
	Score         float64     `json:"score"`
	AverageScore  float64     `json:"average_score"`
	Rank          int         `json:"rank"`
	Color         string      `json:"color"`
	Flag          string      `json:"flag"`
	DiscordLink   string      `json:"discord_link"`
	ForumLink     string      `json:"forum_link"`
	WikiLink      string      `json:"wiki_link"`
	AcceptMembers bool        `json:"accept_members"`
	Founded       time.Time   `json:"-"`
	Bank          pnw.Amounts `json:"-"`
	// TaxBrackets are the brackets assignTaxBracket accepts.
	TaxBrackets []TaxBracket `json:"-"`
}

// Bankrec is a bank record; one with a TaxID is a tax record. Sender and
// receiver types: 1 nation, 2 alliance.
type Bankrec struct {
	ID           int         `json:"id,string"`
	Date         time.Time   `json:"-"`
	SenderID     int         `json:"sender_id,string"`
	SenderType   int         `json:"sender_type"`
	ReceiverID   int         `json:"receiver_id,string"`
	ReceiverType int         `json:"receiver_type"`
	BankerID     int         `json:"banker_id,string"`
	Note         string      `json:"note"`
	TaxID        int         `json:"tax_id,string"`
	Resources    pnw.Amounts `json:"-"`
}

// War is a war fixture; it is active while Ended is zero.
type War struct {
	ID            int       `json:"id,string"`
	Date          time.Time `json:"-"`
	Ended         time.Time `json:"-"`
	Reason        string    `json:"reason"`
	WarType       string    `json:"war_type"` // ORDINARY, ATTRITION, RAID
	TurnsLeft     int       `json:"turns_left"`
	AttID         int       `json:"att_id,string"`
	AttAllianceID int       `json:"att_alliance_id,string"`
	DefID         int       `json:"def_id,string"`
	DefAllianceID int       `json:"def_alliance_id,string"`
	AttPoints     int       `json:"att_points"`
	DefPoints     int       `json:"def_points"`
	AttResistance int       `json:"att_resistance"`
	DefResistance int       `json:"def_resistance"`
	WinnerID      int       `json:"winner_id,string"`
}

// Trade is a market trade fixture.
type Trade struct {
	ID            int       `json:"id,string"`
	Type          string    `json:"type"` // GLOBAL, PERSONAL, ALLIANCE
	Date          time.Time `json:"-"`
	SenderID      int       `json:"sender_id,string"`
	ReceiverID    int       `json:"receiver_id,string"`
	OfferResource string    `json:"offer_resource"`
	OfferAmount   int       `json:"offer_amount"`
	BuyOrSell     string    `json:"buy_or_sell"`
	Price         int       `json:"price"`
	Accepted      bool      `json:"accepted"`
	DateAccepted  time.Time `json:"-"`
}

// TradePrice is one resource's market, as top_trade_info returns it.
type TradePrice struct {
	Resource      string // lower case, e.g. "food"
	AveragePrice  int
	BestBuyPrice  int // 0: no buy offer
	BestSellPrice int // 0: no sell offer
}

// Date formats the game uses.
const (
	plainDate = "2006-01-02 15:04:05"
	isoDate   = "2006-01-02T15:04:05+00:00"
)

// record turns a fixture into the map the executor resolves fields from.
func record(v any, dates map[string]time.Time, format string) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	for name, t := range dates {
		if !t.IsZero() {
			m[name] = t.UTC().Format(format)
		}
	}
	return m
}

func (n Nation) record() map[string]any {
	m := record(n, map[string]time.Time{"date": n.Founded}, plainDate)
	if !n.LastActive.IsZero() {
		m["last_active"] = n.LastActive.UTC().Format(isoDate)
	}
	return m
}

func (a Alliance) record() map[string]any {
	return withAmounts(record(a, map[string]time.Time{"date": a.Founded}, plainDate), a.Bank)
}

func (r Bankrec) record() map[string]any {
	return withAmounts(record(r, map[string]time.Time{"date": r.Date}, plainDate), r.Resources)
}

// withAmounts adds each resource's amount to a record, as the game names
// them.
func withAmounts(m map[string]any, a pnw.Amounts) map[string]any {
	for _, r := range pnw.Resources {
		m[r.String()] = a[r]
	}
	return m
}

func (w War) record() map[string]any {
	return record(w, map[string]time.Time{"date": w.Date, "end_date": w.Ended}, plainDate)
}

func (t Trade) record() map[string]any {
	return record(t, map[string]time.Time{"date": t.Date, "date_accepted": t.DateAccepted}, plainDate)
}

func (p TradePrice) record() map[string]any {
	offer := func(price int) any {
		if price == 0 {
			return nil
		}
		return map[string]any{"id": strconv.Itoa(price), "price": price, "offer_amount": 1000, "offer_resource": p.Resource}
	}
	return map[string]any{
		"resource":        p.Resource,
		"average_price":   p.AveragePrice,
		"best_buy_offer":  offer(p.BestBuyPrice),
		"best_sell_offer": offer(p.BestSellPrice),
	}
}

// Package ia is internal affairs: the audit rules an alliance sets over its
// members, the report of who fails which and why in numbers, reminders, and
// the automation that moves inactive members to a tax bracket and back.
// (The audit log of who did what is another thing: package audit.) It
// knows nothing of Discord or HTTP: commands, pages and jobs call it alike.
package ia

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is a kind of rule, as stored in audit_rules.kind.
type Kind string

// The kinds of rule, with their parameter.
const (
	Inactive  Kind = "inactive"  // days: the last activity is older
	Color     Kind = "color"     // the nation's color is not the alliance's (beige excepted)
	MMR       Kind = "mmr"       // barracks/factories/hangars/drydocks per city, from MinCities cities
	Discord   Kind = "discord"   // linked in pnwbot and in the server
	Applicant Kind = "applicant" // days: an applicant waits longer
	Military  Kind = "military"  // percent: units below this share of what the buildings allow
)

// Kinds lists every kind, in the order reports show them.
var Kinds = []Kind{Inactive, Color, MMR, Discord, Applicant, Military}

// Default parameters, when a rule is set without one.
const (
	DefaultInactiveDays  = 3
	DefaultApplicantDays = 2
)

// Units each military building allows.
var unitsPerBuilding = [4]int{3000, 250, 15, 5}

var unitNames = [4]string{"soldiers", "tanks", "aircraft", "ships"}

// Rule is one of an alliance's rules.
type Rule struct {
	ID   int64
	Kind Kind
	// Threshold is the days of inactive and applicant, the percent of
	// military.
	Threshold int
	// MMR is the barracks, factories, hangars and drydocks per city.
	MMR [4]int
	// MinCities: an mmr rule applies to nations with at least this many
	// cities; of several, the one with the highest MinCities that fits.
	MinCities int
}

// String says what the rule asks, in the words of /audit rules list.
func (r Rule) String() string {
	switch r.Kind {
	case Inactive:
		return fmt.Sprintf("inactive: active within the last %d days", r.Threshold)
	case Color:
		return "color: the alliance's color (beige excepted)"
	case MMR:
		s := "mmr: at least " + mmrText(r.MMR) + " barracks/factories/hangars/drydocks per city"
		if r.MinCities > 0 {
			s += fmt.Sprintf(", from %d cities", r.MinCities)
		}
		return s
	case Discord:
		return "discord: nation linked with /link, and in this server"
	case Applicant:
		return fmt.Sprintf("applicant: answered within %d days", r.Threshold)
	case Military:
		return fmt.Sprintf("military: soldiers, tanks, aircraft and ships at least %d%% of what the buildings allow", r.Threshold)
	}
	return string(r.Kind)
}

// Hint says what a member does to pass a rule of kind k, for reminders.
func Hint(k Kind) string {
	return map[Kind]string{
		Inactive:  "log in to the game",
		Color:     "switch your nation to the alliance's color",
		MMR:       "build the military buildings the rule asks per city",
		Discord:   "join the alliance's Discord server",
		Applicant: "the government answers applications",
		Military:  "recruit up to the share the rule asks",
	}[k]
}

// Member is one nation of the alliance, with what the rules look at.
type Member struct {
	NationID  int
	Name      string
	Leader    string
	Applicant bool
	// VacationTurns are the turns left in vacation mode (0: not in it).
	VacationTurns int
	Color         string
	// LastActive is zero when the game did not say.
	LastActive time.Time
	// Seniority is the days in the alliance (an applicant's: since applying).
	Seniority int
	Cities    int
	// Buildings are the barracks, factories, hangars and drydocks of all
	// its cities; Units its soldiers, tanks, aircraft and ships.
	Buildings [4]int
	Units     [4]int
	// DiscordID is the Discord account that linked the nation in pnwbot;
	// "" when none did.
	DiscordID string
	// InServer says whether that account is in the alliance's server; nil
	// when the server's members could not be listed.
	InServer *bool
}

// Env is what the rules compare members with.
type Env struct {
	Now           time.Time
	AllianceColor string
}

// Failure is a rule a member fails and why, in plain words with numbers:
// "inactive 5 days, rule 3".
type Failure struct {
	Rule Rule
	Text string
}

// Check says whether m fails r, and why; a rule that does not apply to m
// (Applies) passes.
func Check(r Rule, m Member, env Env) (string, bool) {
	if !Applies([]Rule{r}, r, m) {
		return "", false
	}
	switch r.Kind {
	case Inactive:
		if m.LastActive.IsZero() {
			return "", false
		}
		days := int(env.Now.Sub(m.LastActive) / (24 * time.Hour))
		return fmt.Sprintf("inactive %d days, rule %d", days, r.Threshold), days > r.Threshold
	case Color:
		c := strings.ToLower(m.Color)
		want := strings.ToLower(env.AllianceColor)
		return fmt.Sprintf("color %s, rule %s", c, want), want != "" && c != want && c != "beige"
	case MMR:
		if m.Cities == 0 {
			return "", false
		}
		fails := false
		for i, per := range r.MMR {
			fails = fails || m.Buildings[i] < per*m.Cities
		}
		return fmt.Sprintf("MMR %s, rule %s", perCity(m.Buildings, m.Cities), mmrText(r.MMR)), fails
	case Discord:
		switch {
		case m.DiscordID == "":
			return "discord: nation not linked with /link", true
		case m.InServer != nil && !*m.InServer:
			return "discord: linked account not in this server", true
		}
		return "", false
	case Applicant:
		return fmt.Sprintf("applicant %d days, rule %d", m.Seniority, r.Threshold), m.Seniority > r.Threshold
	case Military:
		var low []string
		for i, per := range unitsPerBuilding {
			allowed := m.Buildings[i] * per
			if allowed > 0 && m.Units[i]*100 < r.Threshold*allowed {
				low = append(low, fmt.Sprintf("%s %d%%", unitNames[i], m.Units[i]*100/allowed))
			}
		}
		return fmt.Sprintf("military %s, rule %d%%", strings.Join(low, ", "), r.Threshold), len(low) > 0
	}
	return "", false
}

// Applies says whether rule r of rules judges m: an applicant is judged by
// the applicant rule only, a member by the others; of the mmr rules only
// the one for m's city count. A member in vacation mode is judged by the
// discord rule only: they are away by design and the game freezes their
// nation, so the other rules would ask what they need not or cannot do
// until back.
func Applies(rules []Rule, r Rule, m Member) bool {
	if m.Applicant != (r.Kind == Applicant) {
		return false
	}
	if m.VacationTurns > 0 && !m.Applicant && r.Kind != Discord {
		return false
	}
	if r.Kind == MMR {
		best, ok := mmrFor(rules, m.Cities)
		return ok && best.MinCities == r.MinCities
	}
	return true
}

// Evaluate lists the rules m fails, in the order of rules.
func Evaluate(rules []Rule, m Member, env Env) []Failure {
	var out []Failure
	for _, r := range rules {
		if !Applies(rules, r, m) {
			continue
		}
		if text, fails := Check(r, m, env); fails {
			out = append(out, Failure{Rule: r, Text: text})
		}
	}
	return out
}

// mmrFor is the mmr rule with the highest MinCities up to cities; false
// when none applies.
func mmrFor(rules []Rule, cities int) (best Rule, found bool) {
	for _, r := range rules {
		if r.Kind == MMR && r.MinCities <= cities && (!found || r.MinCities > best.MinCities) {
			best, found = r, true
		}
	}
	return best, found
}

// Result is one member's failures.
type Result struct {
	Member   Member
	Failures []Failure
}

// Judge evaluates every member: those failing a rule, worst first (most
// failures, then name), and how many pass.
func Judge(rules []Rule, members []Member, env Env) (failing []Result, passing int) {
	for _, m := range members {
		if f := Evaluate(rules, m, env); len(f) > 0 {
			failing = append(failing, Result{Member: m, Failures: f})
		} else {
			passing++
		}
	}
	slices.SortStableFunc(failing, func(a, b Result) int {
		return cmp.Or(cmp.Compare(len(b.Failures), len(a.Failures)), strings.Compare(strings.ToLower(a.Member.Name), strings.ToLower(b.Member.Name)))
	})
	return failing, passing
}

// ParseMMR reads "5/5/5/3": barracks, factories, hangars and drydocks per
// city (at most 5, 5, 5 and 3, as a city allows).
func ParseMMR(s string) ([4]int, error) {
	var mmr [4]int
	parts := strings.Split(strings.ReplaceAll(s, " ", ""), "/")
	if len(parts) != 4 {
		return mmr, fmt.Errorf("write the MMR as barracks/factories/hangars/drydocks per city, e.g. 5/5/5/3")
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > maxPerCity[i] {
			return mmr, fmt.Errorf("a city holds 0 to %d %s: %q does not fit", maxPerCity[i], buildingNames[i], p)
		}
		mmr[i] = n
	}
	return mmr, nil
}

// maxPerCity is how many of each military building a city may hold.
var maxPerCity = [4]int{5, 5, 5, 3}

var buildingNames = [4]string{"barracks", "factories", "hangars", "drydocks"}

func mmrText(mmr [4]int) string {
	return fmt.Sprintf("%d/%d/%d/%d", mmr[0], mmr[1], mmr[2], mmr[3])
}

// perCity is buildings per city, rounded down to a tenth: "4.5/5/5/3".
func perCity(b [4]int, cities int) string {
	parts := make([]string, 4)
	for i, n := range b {
		tenths := n * 10 / cities
		parts[i] = strconv.Itoa(tenths / 10)
		if tenths%10 != 0 {
			parts[i] += "." + strconv.Itoa(tenths%10)
		}
	}
	return strings.Join(parts, "/")
}

package ia_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pnwbot/ia"
)

var now = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

const day = 24 * time.Hour

func yes() *bool { t := true; return &t }
func no() *bool  { f := false; return &f }

// TestCheck holds each rule kind at, just below and just above its
// threshold, and the words it fails with.
func TestCheck(t *testing.T) {
	t.Parallel()
	env := ia.Env{Now: now, AllianceColor: "blue"}
	inactive := ia.Rule{Kind: ia.Inactive, Threshold: 3}
	applicant := ia.Rule{Kind: ia.Applicant, Threshold: 2}
	military := ia.Rule{Kind: ia.Military, Threshold: 50}
	mmr := ia.Rule{Kind: ia.MMR, MMR: [4]int{5, 5, 5, 3}}
	mmr10 := ia.Rule{Kind: ia.MMR, MMR: [4]int{5, 5, 5, 3}, MinCities: 10}
	// Ten cities of 5/5/5/3 allow 150,000 soldiers, 12,500 tanks, 750
	// aircraft and 150 ships.
	full := [4]int{50, 50, 50, 30}
	cases := []struct {
		name  string
		rule  ia.Rule
		m     ia.Member
		fails bool
		text  string
	}{
		{"InactiveExactlyAtRule", inactive, ia.Member{LastActive: ago(3 * day)}, false, ""},
		{"InactiveJustUnderADayMore", inactive, ia.Member{LastActive: ago(4*day - time.Second)}, false, ""},
		{"InactiveOneDayOver", inactive, ia.Member{LastActive: ago(4 * day)}, true, "inactive 4 days, rule 3"},
		{"InactiveFiveDays", inactive, ia.Member{LastActive: ago(5*day + time.Hour)}, true, "inactive 5 days, rule 3"},
		{"InactiveUnknown", inactive, ia.Member{}, false, ""},
		{"InactiveApplicantNotChecked", inactive, ia.Member{Applicant: true, LastActive: ago(30 * day)}, false, ""},
		{"InactiveVacationModeNotChecked", inactive, ia.Member{VacationTurns: 40, LastActive: ago(30 * day)}, false, ""},
		{"ColorVacationModeNotChecked", ia.Rule{Kind: ia.Color}, ia.Member{VacationTurns: 1, Color: "red"}, false, ""},
		{"MMRVacationModeNotChecked", mmr, ia.Member{VacationTurns: 1, Cities: 10}, false, ""},
		{"MilitaryVacationModeNotChecked", military, ia.Member{VacationTurns: 1, Buildings: full}, false, ""},
		{"DiscordVacationModeChecked", ia.Rule{Kind: ia.Discord}, ia.Member{VacationTurns: 1}, true, "discord: nation not linked with /link"},
		{"ApplicantVacationModeChecked", applicant, ia.Member{Applicant: true, VacationTurns: 1, Seniority: 3}, true, "applicant 3 days, rule 2"},

		{"ColorSame", ia.Rule{Kind: ia.Color}, ia.Member{Color: "Blue"}, false, ""},
		{"ColorBeigeExcepted", ia.Rule{Kind: ia.Color}, ia.Member{Color: "beige"}, false, ""},
		{"ColorOther", ia.Rule{Kind: ia.Color}, ia.Member{Color: "red"}, true, "color red, rule blue"},

		{"MMRExactlyAtRule", mmr, ia.Member{Cities: 10, Buildings: full}, false, ""},
		{"MMROneDrydockShort", mmr, ia.Member{Cities: 10, Buildings: [4]int{50, 50, 50, 29}}, true, "MMR 5/5/5/2.9, rule 5/5/5/3"},
		{"MMRWords", mmr, ia.Member{Cities: 10, Buildings: [4]int{30, 50, 50, 10}}, true, "MMR 3/5/5/1, rule 5/5/5/3"},
		{"MMRBelowItsCities", mmr10, ia.Member{Cities: 9, Buildings: [4]int{}}, false, ""},
		{"MMRAtItsCities", mmr10, ia.Member{Cities: 10, Buildings: [4]int{}}, true, "MMR 0/0/0/0, rule 5/5/5/3"},
		{"MMRNoCities", mmr, ia.Member{}, false, ""},

		{"DiscordLinkedInServer", ia.Rule{Kind: ia.Discord}, ia.Member{DiscordID: "1", InServer: yes()}, false, ""},
		{"DiscordLinkedServerUnknown", ia.Rule{Kind: ia.Discord}, ia.Member{DiscordID: "1"}, false, ""},
		{"DiscordNotLinked", ia.Rule{Kind: ia.Discord}, ia.Member{}, true, "discord: nation not linked with /link"},
		{"DiscordNotInServer", ia.Rule{Kind: ia.Discord}, ia.Member{DiscordID: "1", InServer: no()}, true, "discord: linked account not in this server"},

		{"ApplicantExactlyAtRule", applicant, ia.Member{Applicant: true, Seniority: 2}, false, ""},
		{"ApplicantOneDayOver", applicant, ia.Member{Applicant: true, Seniority: 3}, true, "applicant 3 days, rule 2"},
		{"ApplicantRuleSkipsMembers", applicant, ia.Member{Seniority: 300}, false, ""},

		{"MilitaryExactlyAtRule", military, ia.Member{Buildings: full, Units: [4]int{75000, 6250, 375, 75}}, false, ""},
		{"MilitaryOneShipShort", military, ia.Member{Buildings: full, Units: [4]int{75000, 6250, 375, 74}}, true, "military ships 49%, rule 50%"},
		{"MilitaryWords", military, ia.Member{Buildings: full, Units: [4]int{60000, 12500, 150, 0}}, true, "military soldiers 40%, aircraft 20%, ships 0%, rule 50%"},
		{"MilitaryNoBuildingsNothingAsked", military, ia.Member{}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			text, fails := ia.Check(c.rule, c.m, env)
			require.Equal(t, c.fails, fails, text)
			if c.fails {
				require.Equal(t, c.text, text)
			}
		})
	}
}

func TestEvaluateMMRTier(t *testing.T) {
	t.Parallel()
	rules := []ia.Rule{
		{ID: 1, Kind: ia.MMR, MMR: [4]int{0, 2, 5, 0}},
		{ID: 2, Kind: ia.MMR, MMR: [4]int{5, 5, 5, 3}, MinCities: 10},
	}
	env := ia.Env{Now: now}
	small := ia.Member{Cities: 9, Buildings: [4]int{0, 18, 45, 0}}
	require.Empty(t, ia.Evaluate(rules, small, env), "below 10 cities the 0/2/5/0 rule applies, and is met")
	big := ia.Member{Cities: 10, Buildings: [4]int{0, 20, 50, 0}}
	f := ia.Evaluate(rules, big, env)
	require.Len(t, f, 1, "from 10 cities only the 5/5/5/3 rule applies")
	require.Equal(t, "MMR 0/2/5/0, rule 5/5/5/3", f[0].Text)
}

func TestJudgeWorstFirst(t *testing.T) {
	t.Parallel()
	rules := []ia.Rule{{Kind: ia.Inactive, Threshold: 3}, {Kind: ia.Discord}}
	members := []ia.Member{
		{Name: "Passes", DiscordID: "1", LastActive: ago(time.Hour)},
		{Name: "zed", LastActive: ago(time.Hour)},
		{Name: "Both", LastActive: ago(10 * day)},
		{Name: "alpha", LastActive: ago(time.Hour)},
	}
	failing, passing := ia.Judge(rules, members, ia.Env{Now: now})
	require.Equal(t, 1, passing)
	var names []string
	for _, r := range failing {
		names = append(names, r.Member.Name)
	}
	require.Equal(t, []string{"Both", "alpha", "zed"}, names)
	require.Equal(t, "inactive 10 days, rule 3", failing[0].Failures[0].Text)
}

func TestParseMMR(t *testing.T) {
	t.Parallel()
	mmr, err := ia.ParseMMR("5/5/5/3")
	require.NoError(t, err)
	require.Equal(t, [4]int{5, 5, 5, 3}, mmr)
	mmr, err = ia.ParseMMR(" 0 / 2 / 5 / 0 ")
	require.NoError(t, err)
	require.Equal(t, [4]int{0, 2, 5, 0}, mmr)
	for _, bad := range []string{"", "5/5/5", "5/5/5/4", "6/5/5/3", "-1/5/5/3", "a/b/c/d", "5/5/5/3/1"} {
		_, err := ia.ParseMMR(bad)
		require.Error(t, err, bad)
	}
}

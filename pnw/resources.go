package pnw

import (
	"encoding/json"
	"fmt"
	"math"
)

// Resource is money or one of the game's eleven resources.
type Resource int

// The resources in the game's order (its bank records and bankWithdraw).
const (
	Money Resource = iota
	Coal
	Oil
	Uranium
	Iron
	Bauxite
	Lead
	Gasoline
	Munitions
	Steel
	Aluminum
	Food
	resourceCount
)

var resourceNames = [resourceCount]string{"money", "coal", "oil", "uranium", "iron", "bauxite", "lead", "gasoline", "munitions", "steel", "aluminum", "food"}

// Resources lists money and every resource, in the game's order.
var Resources = func() []Resource {
	rs := make([]Resource, resourceCount)
	for i := range rs {
		rs[i] = Resource(i)
	}
	return rs
}()

// String is the resource's name in the game's API: "money", "coal"...
func (r Resource) String() string { return resourceNames[r] }

// ResourceNamed returns the resource the game's API calls name.
func ResourceNamed(name string) (Resource, bool) {
	for r, n := range resourceNames {
		if n == name {
			return Resource(r), true
		}
	}
	return 0, false
}

// Amounts holds an amount of each resource, indexed by Resource.
type Amounts [resourceCount]float64

// Total is the sum of the amounts, whatever they are worth.
func (a Amounts) Total() float64 {
	var t float64
	for _, v := range a {
		t += v
	}
	return t
}

// IsZero reports whether every amount is zero.
func (a Amounts) IsZero() bool { return a == Amounts{} }

// Add returns a+b, kept to cents as the game keeps them, so that a long
// sum never drifts.
func (a Amounts) Add(b Amounts) Amounts {
	for r := range a {
		a[r] = cents(a[r] + b[r])
	}
	return a
}

// Sub returns a-b, kept to cents.
func (a Amounts) Sub(b Amounts) Amounts {
	for r := range a {
		a[r] = cents(a[r] - b[r])
	}
	return a
}

// Percent returns p percent of a, rounded to cents.
func (a Amounts) Percent(p float64) Amounts {
	for r := range a {
		a[r] = cents(a[r] * p / 100)
	}
	return a
}

func cents(v float64) float64 { return math.Round(v*100) / 100 }

// MarshalJSON writes the amounts above zero as an object by name, as
// withdrawals.amounts keeps them: {"money": 5, "food": 2}.
func (a Amounts) MarshalJSON() ([]byte, error) {
	m := map[string]float64{}
	for r, v := range a {
		if v != 0 {
			m[resourceNames[r]] = v
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads an object by name; an unknown name is an error.
func (a *Amounts) UnmarshalJSON(b []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*a = Amounts{}
	for name, v := range m {
		r, ok := ResourceNamed(name)
		if !ok {
			return fmt.Errorf("unknown resource %q", name)
		}
		a[r] = v
	}
	return nil
}

// Amounts is what the bank holds.
func (b AllianceBank) Amounts() Amounts {
	return Amounts{b.Money, b.Coal, b.Oil, b.Uranium, b.Iron, b.Bauxite, b.Lead, b.Gasoline, b.Munitions, b.Steel, b.Aluminum, b.Food}
}

// Amounts is what the bank record moved.
func (r Bankrec) Amounts() Amounts {
	return Amounts{r.Money, r.Coal, r.Oil, r.Uranium, r.Iron, r.Bauxite, r.Lead, r.Gasoline, r.Munitions, r.Steel, r.Aluminum, r.Food}
}

// SetAmounts makes a what the bank record moved.
func (r *Bankrec) SetAmounts(a Amounts) {
	r.Money, r.Coal, r.Oil, r.Uranium, r.Iron, r.Bauxite, r.Lead, r.Gasoline, r.Munitions, r.Steel, r.Aluminum, r.Food =
		a[Money], a[Coal], a[Oil], a[Uranium], a[Iron], a[Bauxite], a[Lead], a[Gasoline], a[Munitions], a[Steel], a[Aluminum], a[Food]
}

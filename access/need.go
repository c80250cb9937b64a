package access

import (
	"fmt"
	"strings"
)

// Need is what a request requires of its caller, declared once with its
// route: nothing, an account, a member permission, permissions in the
// alliance of the request, or system admin permissions. Every kind but
// nothing implies an account.
type Need struct {
	Account  bool
	Member   []MemberPermission
	Alliance []Permission
	System   []SystemPermission
}

// Account needs an account and nothing more.
var Account = Need{Account: true}

// Member needs member permissions over one's own account.
func Member(ps ...MemberPermission) Need { return Need{Account: true, Member: ps} }

// Alliance needs alliance permissions in the alliance of the request.
func Alliance(ps ...Permission) Need { return Need{Account: true, Alliance: ps} }

// System needs system admin permissions.
func System(ps ...SystemPermission) Need { return Need{Account: true, System: ps} }

// Denied is a refused request: the permissions its caller lacks (all of
// the Need's when they have no account), by name, in order.
type Denied struct {
	Need    Need
	Missing []string
}

func (d *Denied) Error() string { return "missing " + d.List() }

// List names the missing permissions for a reply: "canViewBank, canManageBank".
func (d *Denied) List() string { return strings.Join(d.Missing, ", ") }

// Check decides n against p: nil when p holds all of it, otherwise a
// *Denied naming what is missing. A caller without an account holds
// nothing: Check(n, Perms{}) lists all of n.
func Check(n Need, p Perms) error {
	var m []string
	m = append(m, names(p.Member.Missing(n.Member...))...)
	m = append(m, names(p.Alliance.Missing(n.Alliance...))...)
	m = append(m, names(p.System.Missing(n.System...))...)
	if len(m) == 0 {
		return nil
	}
	return &Denied{Need: n, Missing: m}
}

// Names renders permissions as they are stored.
func Names[P ~string](ps []P) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func names[P ~string](ps []P) []string {
	if len(ps) == 0 {
		return nil
	}
	return Names(ps)
}

// String names what n asks for, for logs.
func (n Need) String() string {
	all := append(append(Names(n.Member), Names(n.Alliance)...), Names(n.System)...)
	if len(all) == 0 {
		return fmt.Sprintf("account=%t", n.Account)
	}
	return strings.Join(all, ",")
}

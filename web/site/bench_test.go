package site_test

import (
	"net/http"
	"testing"
)

// BenchmarkSignIn is the whole sign-in round trip of a new browser: /login,
// the fake Discord's authorize redirect, the callback (token exchange,
// /users/@me, user, session and audit rows in one transaction) and the
// first /me.
func BenchmarkSignIn(b *testing.B) {
	bd := setupWith(b, true)
	bd.discord.SignIn(tess)
	for b.Loop() {
		a := do(b, bd.browser(b), http.MethodGet, bd.url+"/login", nil)
		if a.status != http.StatusOK {
			b.Fatalf("sign-in ended with %d at %s", a.status, a.url)
		}
	}
}

// BenchmarkPages renders each page for a signed-in manager (the public
// page signed out), the game's answers cached in Redis as in production.
func BenchmarkPages(b *testing.B) {
	bd := setupWith(b, true)
	bd.linkTess(b, true)
	c := bd.browser(b)
	bd.signIn(b, c, tess)
	for _, p := range []struct{ name, path string }{{"me", "/me"}, {"alliance", "/alliances/rose"}, {"public", "/a/rose"}} {
		path, client := p.path, c
		if p.name == "public" {
			client = bd.browser(b)
		}
		do(b, client, http.MethodGet, bd.url+path, nil) // warms the game cache
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if a := do(b, client, http.MethodGet, bd.url+path, nil); a.status != http.StatusOK {
					b.Fatalf("%s: %d", path, a.status)
				}
			}
		})
	}
}

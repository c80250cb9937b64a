package site

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pnwbot/audit"
)

// Limiter admits key's next request or says when it may come; the
// commands' limiters (store/kv, in Redis or PostgreSQL) implement it.
type Limiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// metrics count what the site refuses.
type metrics struct {
	refused *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (metrics, error) {
	m := metrics{refused: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pnwbot_web_refused_total",
		Help: "Web requests refused: rate_limited, or a failed anonymous sign-in (no_state, bad_state, state_mismatch...), each counted even when its audit row is skipped.",
	}, []string{"reason"})}
	if reg != nil {
		if err := reg.Register(m.refused); err != nil {
			return m, err
		}
	}
	return m, nil
}

// guard holds every page to the per-address and per-session rate limits
// and, behind https, tells browsers to come back only over https.
func (s *Site) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.secure {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		if s.opts.Requests != nil {
			keys := []string{"web:ip:" + s.clientIP(r).String()}
			if hash := s.tokenHash(r); hash != nil {
				keys = append(keys, "web:session:"+hex.EncodeToString(hash[:16]))
			}
			for _, key := range keys {
				ok, retry, err := s.opts.Requests.Allow(r.Context(), key)
				switch {
				case err != nil: // every backend failed: refuse rather than go unlimited
					s.opts.Logger.WarnContext(r.Context(), "web rate limit unavailable, refusing", "error", err)
					s.fail(w, r, http.StatusServiceUnavailable, "Try again shortly", "pnwbot cannot check its limits right now.")
					return
				case !ok:
					s.metrics.refused.WithLabelValues("rate_limited").Inc()
					w.Header().Set("Retry-After", strconv.Itoa(int(max(retry, time.Second)/time.Second)))
					s.render(w, r, http.StatusTooManyRequests, "error", page{Title: "Slow down",
						Data: failure{"Slow down", "Too many requests from here. Wait a minute and try again."}})
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// auditOnce records a refusal at most once a minute per key (an address
// for anonymous refusals, a user for refused pages), so a flood of them
// costs no more than one row a minute; nil Once audits every one.
func (s *Site) auditOnce(r *http.Request, key string, e audit.Entry) {
	if s.opts.Once != nil {
		ok, _, err := s.opts.Once.Allow(r.Context(), "audit-once:"+key)
		if err == nil && !ok {
			return
		}
	}
	s.audit(r, e)
}

// clientIP is the address the request came from: the peer, or, when the
// peer is a trusted proxy (TRUSTED_PROXIES), the nearest address in its
// X-Forwarded-For that is not one of them.
func (s *Site) clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip := ap.Addr().Unmap()
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0 && s.trusted(ip); i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		ip = hop.Unmap()
	}
	return ip
}

func (s *Site) trusted(ip netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

package secrets

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// tokenMACSize keeps tokens short enough for a Discord custom_id (100 chars).
const tokenMACSize = 16

// SignToken returns a URL-safe token binding subject to an expiry, for
// confirmations such as an account deletion button: whoever holds it can only
// confirm that one subject, and only until it expires.
func (kr *Keyring) SignToken(subject string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 36)
	return exp + "." + base64.RawURLEncoding.EncodeToString(kr.tokenMAC(subject, exp))
}

// VerifyToken reports whether token was signed for subject and has not expired.
func (kr *Keyring) VerifyToken(token, subject string, now time.Time) bool {
	exp, mac, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	sum, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil || !hmac.Equal(sum, kr.tokenMAC(subject, exp)) {
		return false
	}
	unix, err := strconv.ParseInt(exp, 36, 64)
	return err == nil && now.Before(time.Unix(unix, 0))
}

func (kr *Keyring) tokenMAC(subject, exp string) []byte {
	key, err := hkdf.Key(sha256.New, kr.current.secret, nil, "pnwbot token v1", 32)
	if err != nil {
		panic(err) // only fails for lengths HKDF-SHA256 cannot produce
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(subject + "\x00" + exp))
	return mac.Sum(nil)[:tokenMACSize]
}

// MACKey derives from the master key (ENCRYPTION_KEY) a key for one
// purpose's MACs, such as the session cache's entries: whoever can write
// to the cache but does not hold the master key cannot forge them.
func MACKey(master []byte, purpose string) []byte {
	key, err := hkdf.Key(sha256.New, master, nil, "pnwbot mac v1 "+purpose, 32)
	if err != nil {
		panic(err) // only fails for lengths HKDF-SHA256 cannot produce
	}
	return key
}

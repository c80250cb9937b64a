// Package secrets seals the game API keys pnwbot stores.
//
// A sealed key is AES-256-GCM under a key derived per row with HKDF-SHA256
// from the master key (ENCRYPTION_KEY) and the owner's random salt. The
// owner's identity (user id and purpose) is bound as additional data, so a
// ciphertext copied to another row does not open. The layout is
//
//	version (1 byte) | master key id (4) | nonce (12) | ciphertext+tag
//
// where the master key id lets a keyring hold the old and the new master key
// while `pnwbot rotate-key` moves rows from one to the other.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const (
	version    = 1
	keyIDSize  = 4
	nonceSize  = 12
	headerSize = 1 + keyIDSize + nonceSize
	// SaltSize is the length of a user's salt (users.key_salt).
	SaltSize = 16
)

// ErrOpen is returned for any sealed value that does not open: wrong master
// key, wrong owner, tampering or truncation. It says nothing more on purpose.
var ErrOpen = errors.New("secrets: sealed key does not open")

// Owner names the row a key belongs to.
type Owner struct {
	UserID int64
	// Purpose distinguishes a user's keys: "nation" for the member's own key,
	// "alliance:<alliance id>" for a manager's alliance key.
	Purpose string
}

// String names the key in messages, e.g. "user 12 (nation key)".
func (o Owner) String() string { return fmt.Sprintf("user %d (%s key)", o.UserID, o.Purpose) }

// NationKey is the owner of a user's own nation key.
func NationKey(userID int64) Owner { return Owner{UserID: userID, Purpose: "nation"} }

// DiscordGrant is the owner of a user's Discord OAuth2 tokens, kept for
// Linked Roles.
func DiscordGrant(userID int64) Owner { return Owner{UserID: userID, Purpose: "discord_oauth"} }

// AllianceKey is the owner of a manager's key for one alliance.
func AllianceKey(userID, allianceID int64) Owner {
	return Owner{UserID: userID, Purpose: "alliance:" + strconv.FormatInt(allianceID, 10)}
}

type masterKey struct {
	secret []byte
	id     [keyIDSize]byte
}

func newMasterKey(secret []byte) (*masterKey, error) {
	if len(secret) != 32 {
		return nil, fmt.Errorf("master key must be 32 bytes, got %d", len(secret))
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("pnwbot master key id"))
	k := &masterKey{secret: secret}
	copy(k.id[:], mac.Sum(nil))
	return k, nil
}

// Keyring seals with the current master key and opens with the current or,
// during a rotation, the old one.
type Keyring struct {
	current *masterKey
	old     *masterKey
}

// ParseKey decodes a master key given as base64 of 32 bytes.
func ParseKey(b64 string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errors.New("not valid base64 (generate one with `pnwbot genkey`)")
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("decodes to %d bytes, want 32 (generate one with `pnwbot genkey`)", len(b))
	}
	return b, nil
}

// GenerateKey returns a fresh master key, base64-encoded.
func GenerateKey() string {
	return base64.StdEncoding.EncodeToString(randomBytes(32))
}

// NewSalt returns a fresh random salt for a new user.
func NewSalt() []byte { return randomBytes(SaltSize) }

// randomBytes panics on failure: crypto/rand.Read never fails since Go 1.24.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// NewKeyring builds a keyring; old may be nil.
func NewKeyring(current, old []byte) (*Keyring, error) {
	cur, err := newMasterKey(current)
	if err != nil {
		return nil, err
	}
	kr := &Keyring{current: cur}
	if old != nil {
		if kr.old, err = newMasterKey(old); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

func (k *masterKey) aead(salt []byte) (cipher.AEAD, error) {
	rowKey, err := hkdf.Key(sha256.New, k.secret, salt, "pnwbot api key v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(rowKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func additionalData(header []byte, owner Owner) []byte {
	return fmt.Appendf(append([]byte(nil), header[:1+keyIDSize]...), "|%d|%s", owner.UserID, owner.Purpose)
}

// Seal encrypts plaintext for owner under the current master key.
func (kr *Keyring) Seal(plaintext string, salt []byte, owner Owner) ([]byte, error) {
	if len(salt) != SaltSize {
		return nil, fmt.Errorf("secrets: salt must be %d bytes", SaltSize)
	}
	aead, err := kr.current.aead(salt)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerSize, headerSize+len(plaintext)+aead.Overhead())
	out[0] = version
	copy(out[1:], kr.current.id[:])
	copy(out[1+keyIDSize:], randomBytes(nonceSize))
	return aead.Seal(out, out[1+keyIDSize:headerSize], []byte(plaintext), additionalData(out, owner)), nil
}

// Open decrypts a value sealed for owner.
func (kr *Keyring) Open(sealed, salt []byte, owner Owner) (string, error) {
	if len(sealed) < headerSize || sealed[0] != version {
		return "", ErrOpen
	}
	k := kr.keyFor(sealed)
	if k == nil {
		return "", ErrOpen
	}
	aead, err := k.aead(salt)
	if err != nil {
		return "", ErrOpen
	}
	plain, err := aead.Open(nil, sealed[1+keyIDSize:headerSize], sealed[headerSize:], additionalData(sealed, owner))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// Current reports whether sealed is already under the current master key.
func (kr *Keyring) Current(sealed []byte) bool {
	return kr.keyFor(sealed) == kr.current
}

func (kr *Keyring) keyFor(sealed []byte) *masterKey {
	if len(sealed) < 1+keyIDSize {
		return nil
	}
	id := sealed[1 : 1+keyIDSize]
	for _, k := range []*masterKey{kr.current, kr.old} {
		if k != nil && hmac.Equal(k.id[:], id) {
			return k
		}
	}
	return nil
}

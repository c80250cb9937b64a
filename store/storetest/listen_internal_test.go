package storetest

import (
	"net"
	"os/exec"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// TestListenTakesAnotherPort: a port taken between freePort and the
// server's bind costs a retry on another port, not the test.
func TestListenTakesAnotherPort(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("redis-server")
	require.NoError(t, err)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	_, takenPort, _ := net.SplitHostPort(taken.Addr().String())

	attempts := 0
	s := &Server{t: t, name: "redis-server", ready: "Ready to accept connections"}
	s.listen(func(port string) []string {
		if attempts++; attempts == 1 {
			port = takenPort // as if another test took it first
		}
		return []string{bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	})
	t.Cleanup(s.stop)
	require.Equal(t, 2, attempts)
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	require.NoError(t, rdb.Ping(t.Context()).Err())
}

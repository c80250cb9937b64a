package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"pnwbot/bot/fakediscord"
	"pnwbot/store/storetest"
)

// process is `pnwbot run` in a process of its own: a replica.
type process struct {
	cmd     *exec.Cmd
	logs    *syncBuffer
	exited  chan struct{}
	running chan struct{} // closed at "pnwbot is running"
	// base and metrics are its HTTP_ADDR and METRICS_ADDR as URLs, once running.
	base, metrics string
}

// startProcess runs `pnwbot run` with env (and nothing else) as its
// environment and waits until it serves. It is killed when the test ends,
// unless stop ended it first.
func startProcess(t testing.TB, env map[string]string) *process {
	t.Helper()
	return startCommand(t, exec.Command(os.Args[0]), asPnwbot+"=run", env)
}

// startCommand starts cmd with env and the variables in vars (and
// nothing else) as its environment, and waits until it logs "pnwbot is
// running". It is killed when the test ends, unless stop ended it first.
func startCommand(t testing.TB, cmd *exec.Cmd, vars string, env map[string]string) *process {
	t.Helper()
	p := &process{cmd: cmd, logs: &syncBuffer{}, exited: make(chan struct{}), running: make(chan struct{})}
	p.cmd.Env = strings.Fields(vars)
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.logs, line)
			if p.base != "" {
				continue // the access log under load: not parsed
			}
			var l struct{ Msg, HTTP, Metrics string }
			if json.Unmarshal([]byte(line), &l) == nil && (l.Msg == "pnwbot is running" || l.Msg == floorRunning) {
				p.base, p.metrics = "http://"+l.HTTP, "http://"+l.Metrics+"/metrics"
				close(p.running)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("replica logs:\n%s", p.logs)
		}
	})
	select {
	case <-p.running:
	case <-p.exited:
		t.Fatalf("pnwbot exited before serving:\n%s", p.logs)
	case <-time.After(time.Minute):
		t.Fatalf("pnwbot did not start within a minute:\n%s", p.logs)
	}
	return p
}

// stop sends SIGTERM and returns the exit code.
func (p *process) stop(t testing.TB) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		t.Fatalf("pnwbot did not stop within a minute of SIGTERM:\n%s", p.logs)
	}
	return p.cmd.ProcessState.ExitCode()
}

// get returns the body of a GET.
func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

// reply is a first response to an interaction, as much of it as tests read.
type reply struct {
	Type discordgo.InteractionResponseType
	Data struct {
		Content    string
		Embeds     []*discordgo.MessageEmbed
		Components []struct {
			Components []struct {
				CustomID string `json:"custom_id"`
			}
		}
	}
}

// post sends i, signed with key, to base's POST /interactions, and returns
// the status and the first response.
func post(t testing.TB, base string, key ed25519.PrivateKey, i *discordgo.Interaction) (int, *reply) {
	t.Helper()
	body, err := fakediscord.MarshalInteraction(i)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/interactions", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = fakediscord.SignedRequest(key, body, time.Now()).Header
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var r reply
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	}
	return resp.StatusCode, &r
}

// redisDB returns the URL of Redis database n, emptied of pnwbot's keys
// before and after the test: replicas write under the fixed prefix
// "pnwbot:", so each test of replicas takes a database of its own.
func redisDB(t testing.TB, n int) string {
	t.Helper()
	opts, err := redis.ParseURL(storetest.RedisURL())
	require.NoError(t, err)
	opts.DB = n
	rdb := redis.NewClient(opts)
	clear := func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, redisPrefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		require.NoError(t, iter.Err())
	}
	clear()
	t.Cleanup(func() {
		clear()
		rdb.Close()
	})
	u := strings.TrimSuffix(storetest.RedisURL(), "/")
	if i := strings.LastIndex(u, "/"); i > len("redis://") {
		u = u[:i]
	}
	return fmt.Sprintf("%s/%d", u, n)
}

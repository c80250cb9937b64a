#!/usr/bin/env bash
# The one test command: what a newcomer runs and what CI runs.
# Starts PostgreSQL and Redis when they are not running (installing them with
# apt-get when missing), then checks formatting, vet, generated code, and runs
# every test with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

GO_VERSION=1.26.8
log() { printf '\n== %s\n' "$*"; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "installing or starting services needs root (or sudo): $*" >&2; exit 1
  fi
}
apt_updated=
apt_install() {
  log "installing $*"
  [ -n "$apt_updated" ] || as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  apt_updated=1
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Go, from the module proxy's toolchain zip when the machine has none.
export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"
if ! command -v go >/dev/null; then
  command -v curl >/dev/null && command -v unzip >/dev/null || apt_install curl unzip ca-certificates
  log "installing Go $GO_VERSION"
  tmp=$(mktemp -d)
  # The first real proxy of GOPROXY (Go is not there yet to ask).
  proxy=$(printf '%s' "${GOPROXY:-https://proxy.golang.org}" | tr ',|' '\n\n' | grep -vxE 'direct|off' | head -1)
  curl -fsSL -o "$tmp/go.zip" "${proxy:-https://proxy.golang.org}/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-amd64.zip"
  unzip -q "$tmp/go.zip" -d "$tmp"
  as_root mv "$tmp/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64" /usr/local/go
  as_root chmod -R a+rx /usr/local/go
fi
command -v gcc >/dev/null || apt_install gcc libc6-dev   # the race detector needs cgo
[ -x /usr/bin/chromium ] || apt_install chromium       # the demo page's browser test

# PostgreSQL on 127.0.0.1:5432.
if ! listening 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
    # A fresh cluster asks for a password over TCP: trust local test connections.
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -1)
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  fi
  log "starting PostgreSQL"
  cluster=$(ls /etc/postgresql | sort -V | tail -1)
  # The package may have started it already, before the trust line: reload.
  if as_root pg_ctlcluster --skip-systemctl-redirect "$cluster" main status >/dev/null 2>&1; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$cluster" main reload
  else
    as_root pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
  fi
fi
# Redis on 127.0.0.1:6379.
if ! listening 6379; then
  command -v redis-server >/dev/null || apt_install redis-server
  if ! listening 6379; then # the package may have started one
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  fi
fi
for _ in $(seq 1 50); do listening 5432 && listening 6379 && break; sleep 0.2; done
listening 5432 || { echo "PostgreSQL is not listening on 127.0.0.1:5432"; exit 1; }
listening 6379 || { echo "Redis is not listening on 127.0.0.1:6379"; exit 1; }

log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$unformatted" ] || { echo "gofmt would change: $unformatted"; exit 1; }

log "go vet"
go vet ./...

log "generated code is fresh"
go tool sqlc diff
before=$(sha256sum pnw/generated.go)
go generate ./pnw   # genqlient; store's go:generate is the sqlc just diffed
[ "$before" = "$(sha256sum pnw/generated.go)" ] || { echo "pnw/generated.go was stale (now regenerated): review and commit it"; exit 1; }

log "govulncheck"
# It needs its vulnerability database (GOVULNDB, by default vuln.go.dev);
# where that is out of reach (offline, a closed CI) it says so and goes on.
vulndb=${GOVULNDB:-https://vuln.go.dev}
vulnhost=${vulndb#*://}; vulnhost=${vulnhost%%/*}
if [[ $vulndb == file://* ]] || timeout 5 bash -c "exec 3<>/dev/tcp/$vulnhost/443" 2>/dev/null; then
  go tool govulncheck ./...
else
  echo "skipped: the vulnerability database ($vulndb) is not reachable from here"
fi

log "go test -race"
go test -race -count=1 -timeout 10m ./...

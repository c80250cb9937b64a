#!/bin/sh
# Daily logical backup of pnwbot's database: pg_dump's custom format into
# BACKUP_DIR (default /backups), one file a day, older ones than
# BACKUP_KEEP_DAYS (default 14) removed. The docker-compose `backup` service
# runs it; BACKUP_ONCE=1 makes one backup and exits. Connection from libpq's
# PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE. See docs/operations.md.
set -eu
dir=${BACKUP_DIR:-/backups}
keep=${BACKUP_KEEP_DAYS:-14}
mkdir -p "$dir"
while :; do
  name="$dir/pnwbot-$(date -u +%Y%m%dT%H%M%SZ).dump"
  # Written aside and renamed: a file with the final name is always whole.
  if pg_dump --format=custom --file="$name.partial" && mv "$name.partial" "$name"; then
    echo "backup: wrote $name ($(wc -c <"$name") bytes)"
    find "$dir" -name 'pnwbot-*.dump' -mtime "+$keep" -print -delete
  else
    rm -f "$name.partial"
    echo "backup: pg_dump failed; trying again in an hour" >&2
    [ "${BACKUP_ONCE:-}" = 1 ] && exit 1
    sleep 3600
    continue
  fi
  [ "${BACKUP_ONCE:-}" = 1 ] && exit 0
  sleep 86400
done

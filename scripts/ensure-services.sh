#!/usr/bin/env bash
# Start PostgreSQL and Redis on this machine if they are not answering.
set -euo pipefail

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "Starting PostgreSQL ..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

# Streaming replication from 127.0.0.1: tests/test_streaming_replica.py copies this cluster with
# pg_basebackup and starts a replica beside it (docs/scaling.md). PostgreSQL 15's defaults already
# allow it (wal_level=replica, max_wal_senders=10); pg_hba.conf needs a `replication` line, since
# `all` does not cover replication connections. If a replication connection is refused, a trust
# line for 127.0.0.1 goes first in the file (the first matching line wins), then a reload.
replication_works() {
  psql "host=127.0.0.1 port=5432 user=postgres dbname=postgres replication=true" -XAtc IDENTIFY_SYSTEM >/dev/null 2>&1
}
if ! replication_works; then
  hba="$(psql -h 127.0.0.1 -U postgres -XAtc 'SHOW hba_file' 2>/dev/null || true)"
  if [ -n "$hba" ] && [ -w "$hba" ]; then
    echo "Allowing replication connections from 127.0.0.1 in $hba ..."
    lines="$(cat "$hba")"
    # Rewritten in place, so the file keeps its owner and mode.
    printf 'host replication all 127.0.0.1/32 trust\n%s\n' "$lines" >"$hba"
    psql -h 127.0.0.1 -U postgres -XAtc 'SELECT pg_reload_conf()' >/dev/null
    sleep 0.5
    replication_works || echo "note: replication from 127.0.0.1 is still refused; the streaming replica test will skip"
  else
    echo "note: replication from 127.0.0.1 is refused and pg_hba.conf is not writable here; the streaming replica test will skip"
  fi
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis ..."
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
echo "redis: $(redis-cli -h 127.0.0.1 -p 6379 ping)"

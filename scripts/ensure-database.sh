#!/usr/bin/env bash
# Create the application database named in DATABASE_URL if it does not exist yet.
set -euo pipefail
url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/casino_payments}"
name="${url##*/}"; name="${name%%\?*}"
server="${url%/*}/postgres"
if ! psql "$server" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
  echo "Creating database $name ..."
  psql "$server" -c "CREATE DATABASE \"$name\"" >/dev/null
fi

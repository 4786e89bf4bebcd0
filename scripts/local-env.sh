#!/usr/bin/env bash
# Run a command with this machine's local settings (var/local.env) in its environment.
#
# The first call writes a random DJANGO_SECRET_KEY there (the product refuses to start
# without one when DJANGO_DEBUG is off); every later call reuses it, so sessions survive a
# restart. The file is not in git. A variable already set in the environment wins.
#   scripts/local-env.sh .venv/bin/honcho start
set -euo pipefail
file="${LOCAL_ENV_FILE:-var/local.env}"

if [ ! -s "$file" ]; then
  mkdir -p "$(dirname "$file")"
  key="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
  (
    umask 077  # the key signs sessions: readable by this user only
    printf '# Written by scripts/local-env.sh the first time; delete it for a new key. Not in git.\nDJANGO_SECRET_KEY=%s\n' \
      "$key" >"$file"
  )
  echo "Wrote a new DJANGO_SECRET_KEY into $file" >&2
fi

while IFS='=' read -r name value; do
  case "$name" in '' | '#'*) continue ;; esac
  if [ -z "${!name:-}" ]; then export "$name=$value"; fi
done <"$file"

exec "$@"

#!/usr/bin/env bash
# Install Debian's chromium if the browser tests would not find it (`make test` and .ci/run).
#
# The browser tests drive $CHROMIUM (default /usr/bin/chromium) through Playwright, whose
# own browser download does not work here. Missing: `apt-get install chromium`, as root or
# through sudo; still missing afterwards: say so and fail, rather than fail in the tests.
set -euo pipefail
browser="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0

echo "Installing Debian's chromium for the browser tests ($browser is missing) ..."
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "Cannot install chromium: run as root, or install it yourself (apt-get install chromium)." >&2
    exit 1
  fi
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q >/dev/null
"${as_root[@]}" apt-get install -y -q --no-install-recommends chromium >/dev/null

if [ ! -x "$browser" ]; then
  echo "chromium was installed but $browser is still missing; set CHROMIUM to its path." >&2
  exit 1
fi

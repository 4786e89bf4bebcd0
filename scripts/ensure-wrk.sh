#!/usr/bin/env bash
# Install Debian's wrk for the HTTP benchmark if it is missing (`make bench`, bench/http_api.py).
#
# wrk is a compiled load generator: it drives the API with a small share of the machine's CPU,
# where a Python client would take a core away from the server it measures. Missing:
# `apt-get install wrk`, as root or through sudo; not possible: say so and exit non-zero, and
# the benchmark falls back to its Python client (its table says so). WRK names the binary
# looked for (default: wrk on PATH).
set -euo pipefail
wrk="${WRK:-wrk}"
command -v "$wrk" >/dev/null 2>&1 && exit 0

echo "Installing Debian's wrk for the HTTP benchmark ..."
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "Cannot install wrk: run as root, or install it yourself (apt-get install wrk)." >&2
    exit 1
  fi
  as_root=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
if ! { "${as_root[@]}" apt-get update -q >/dev/null && "${as_root[@]}" apt-get install -y -q --no-install-recommends wrk >/dev/null; }; then
  echo "Could not install wrk; the benchmark uses its Python client instead." >&2
  exit 1
fi
if ! command -v "$wrk" >/dev/null 2>&1; then
  echo "wrk was installed but $wrk is still missing; the benchmark uses its Python client instead." >&2
  exit 1
fi

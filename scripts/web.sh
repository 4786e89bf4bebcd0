#!/usr/bin/env bash
# The web process: granian serving the WSGI application (config/wsgi.py), as the Procfile runs it.
#
# Chosen by figures over gunicorn's sync and gthread workers (docs/benchmarks.md): HTTP/1.1
# keep-alive, the HTTP work in compiled code, Python only for the application. Each worker
# imports config.wsgi, which runs the unit of work's start-up check (core.E001/E002): a worker
# that refuses to start makes granian exit non-zero, as gunicorn does. A worker that dies is
# started again.
#   PORT (8000), WEB_HOST (127.0.0.1), WEB_WORKERS (one per core), WEB_THREADS (Python threads
#   per worker, 2), WEB_CONNECTIONS (connections each worker accepts, 64: granian's backpressure
#   counts connections, not requests, so a PSP's or aggregator's keep-alive pool larger than the
#   threads must still be accepted; its requests wait for a thread), WEB_ACCESS_LOG (1), WEB_LOG_LEVEL (info), VENV_BIN (.venv/bin); WEB_APP only for
#   bench/http_servers.py, which measures the server alone on an application that does nothing
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${VENV_BIN:-.venv/bin}"
workers="${WEB_WORKERS:-$(nproc)}"
threads="${WEB_THREADS:-2}"
args=(
  "${WEB_APP:-config.wsgi:application}" --interface wsgi --http 1 --no-ws
  --host "${WEB_HOST:-127.0.0.1}" --port "${PORT:-8000}"
  --workers "$workers" --blocking-threads "$threads" --backpressure "${WEB_CONNECTIONS:-64}"
  --respawn-failed-workers
  --log-level "${WEB_LOG_LEVEL:-info}"
)
if [ "${WEB_ACCESS_LOG:-1}" = 1 ]; then
  args+=(--access-log)
fi
exec "$bin/granian" "${args[@]}"

-- wrk script for `POST /api/v1/withdrawals/` (bench/http_api.py runs it).
--
-- One thread per connection (wrk -t N -c N), so each connection is one client with its own
-- player: thread n sends the n-th token of the arguments. Every request carries a fresh
-- Idempotency-Key: the run's nonce, the thread's number and a counter.
-- Arguments after `--`: <keep-alive|close> <nonce> <token> [<token> ...]
-- done() prints one JSON line (prefixed "WRK-RESULT ") that bench/http_api.py reads.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("number", #threads)
  table.insert(threads, thread)
end

function init(args)
  local tokens = #args - 2
  local token = args[3 + (number % tokens)]
  nonce = args[2] .. "-" .. number .. "-"
  headers = {
    ["Authorization"] = "Token " .. token,
    ["Content-Type"] = "application/json",
  }
  if args[1] == "close" then
    headers["Connection"] = "close"
  end
  body = '{"amount":"1.00","currency":"EUR"}'
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = nonce .. counter
  return wrk.format("POST", "/api/v1/withdrawals/", headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean
  ))
end

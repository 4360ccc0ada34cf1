-- wrk script for scripts/bench-http.sh: POSTs deposits or transfers to walletd's /v1 API with a
-- bearer token over wrk's keep-alive connections, each request with an Idempotency-Key unique to
-- the run, the thread and the request (a repeated key would be answered from the engine's record,
-- not decided, and would flatter the figures).
--
--   wrk -t T -c C -d D -s loadtest/http/wallet.lua URL -- MODE WALLETS PREFIX TOKEN RUN
--     MODE     deposit | transfer
--     WALLETS  wallets PREFIX-1 .. PREFIX-WALLETS exist, funded for transfers of 0.01
--     TOKEN    the bearer token (auth on); RUN  a word unique to this run (keys and transfer ids)
--
-- done() prints "RESULT key value" lines (requests/s, latency p50/p99 in ms, answers by status)
-- for the script to collect; wrk's own summary is printed too.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  wallets = tonumber(args[2])
  prefix = args[3]
  run = args[5]
  if (mode ~= "deposit" and mode ~= "transfer") or wallets == nil or wallets < 2 or run == nil then
    error("usage: -- deposit|transfer WALLETS PREFIX TOKEN RUN")
  end
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. args[4],
  }
  sent = 0
  statuses = {}
  math.randomseed(id * 7919 + os.time())
end

function request()
  sent = sent + 1
  local key = run .. "-" .. id .. "-" .. sent
  headers["Idempotency-Key"] = key
  local source = math.random(wallets)
  if mode == "deposit" then
    return wrk.format("POST", "/v1/wallets/" .. prefix .. "-" .. source .. "/deposits", headers,
      '{"amount":"1.00","currency":"EUR"}')
  end
  -- Another wallet than the source: 1 + (source - 1 + k) mod wallets for k in 1 .. wallets-1.
  local destination = 1 + (source - 1 + math.random(wallets - 1)) % wallets
  return wrk.format("POST", "/v1/wallets/" .. prefix .. "-" .. source .. "/transfers", headers,
    '{"transfer_id":"' .. key .. '","destination":"' .. prefix .. "-" .. destination ..
    '","amount":"0.01","currency":"EUR"}')
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT requests %d\n", summary.requests))
  io.write(string.format("RESULT requests_per_s %.1f\n", summary.requests / seconds))
  io.write(string.format("RESULT p50_ms %.3f\n", latency:percentile(50) / 1000))
  io.write(string.format("RESULT p99_ms %.3f\n", latency:percentile(99) / 1000))
  io.write(string.format("RESULT errors %d\n", summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("RESULT status_%d %d\n", status, count))
  end
end

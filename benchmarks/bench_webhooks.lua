-- Load for bench_webhooks.py when wrk is installed: `wrk -t N -c N -s bench_webhooks.lua URL -- PATH EVENTS TAG`.
-- One connection per wrk thread, so each response answers the request that thread sent last; every
-- request carries a tag in its query (?n=<TAG><thread>-<count>, stored with the row, outside the signed
-- body), so the script can say which request was still unanswered when wrk stopped, and the
-- benchmark can match "answered 202" to "stored" exactly. EVENTS: one "signature<TAB>body" a line.

local threads = {}

function setup(thread)  -- runs in the main state: keep every thread to read its counters in done()
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  path, tag = args[1], args[3]
  events = {}
  for line in io.lines(args[2]) do
    local tab = line:find("\t", 1, true)
    events[#events + 1] = {line:sub(1, tab - 1), line:sub(tab + 1)}
  end
  sent, answered, last, waiting, statuses = 0, 0, "", 0, {}
end

-- wrk calls request() once more than it sends (to check the script's request before the run), so
-- "sent > answered" would be wrong: `waiting` says whether the last request made has its answer.
function request()
  sent = sent + 1
  local event = events[(id * 7919 + sent) % #events + 1]
  last, waiting = tag .. id .. "-" .. sent, 1
  return wrk.format("POST", path .. "?n=" .. last,
                    {["Content-Type"] = "application/json", ["X-Picqer-Signature"] = event[1]}, event[2])
end

function response(status, headers, body)
  answered, waiting = answered + 1, 0
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  -- Machine-read by bench_webhooks.py: counters per thread, then the latency's quantile function.
  io.write(string.format("wrk-duration-us %d\n", summary.duration))
  local e = summary.errors
  io.write(string.format("wrk-errors %d\n", e.connect + e.read + e.write + e.timeout))
  for _, thread in ipairs(threads) do
    io.write(string.format("wrk-thread %d %d %s\n", thread:get("waiting"), thread:get("answered"), thread:get("last")))
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("wrk-status %d %d\n", status, count))
    end
  end
  for i = 1, 979 do io.write(string.format("wrk-q %.2f %d\n", i / 10, latency:percentile(i / 10))) end
  for i = 9800, 10000 do io.write(string.format("wrk-q %.2f %d\n", i / 100, latency:percentile(i / 100))) end
end

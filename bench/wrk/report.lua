-- wrk script of bench/gateway_proxy.ts: prints the run's summary as one JSON line
-- (latencies in µs): requests, duration, errors and the latency percentiles 1–99, 99.5,
-- 99.9 and 99.99.
local percentiles = {}
for p = 1, 99 do percentiles[#percentiles + 1] = p end
for _, p in ipairs({ 99.5, 99.9, 99.99 }) do percentiles[#percentiles + 1] = p end

done = function(summary, latency, requests)
  local parts = {}
  for _, p in ipairs(percentiles) do
    parts[#parts + 1] = string.format("[%g,%d]", p, latency:percentile(p))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"meanUs":%f,"maxUs":%d,"percentilesUs":[%s]}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, table.concat(parts, ",")))
end

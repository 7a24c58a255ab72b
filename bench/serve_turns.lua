-- wrk script for bench/serve.sh: POST /v1/conversations/{id}/messages
-- round-robin over pre-created conversations with realistic messages.
local ids = {}
local messages = {
  '{"text":"hello"}', '{"text":"how much is my bill this month?"}',
  '{"text":"I want to add 2 GB of data"}', '{"text":"my internet is very slow"}',
  '{"text":"is there an outage in Austin?"}', '{"text":"what plans do you have"}',
  '{"text":"je voudrais payer ma facture"}', '{"text":"quiero activar el roaming"}',
  '{"text":"ich möchte meinen Tarif wechseln"}', '{"text":"thanks, bye"}',
}
local n = 0
function init(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  n = math.random(#ids)
end
function request()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  return wrk.format("POST", "/v1/conversations/" .. id .. "/messages",
    {["Authorization"] = "Bearer " .. os.getenv("PARLEY_BENCH_KEY"),
     ["Content-Type"] = "application/json"}, messages[(n % #messages) + 1])
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

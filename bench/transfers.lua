-- wrk script: each request ships a new transfer (a unique id per thread and request), durably.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tid
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"id":"T-%s-%d-%d","from":"warehouse:W1","to":"warehouse:W2","lines":[{"sku":"A","qty":1}]}',
    os.getenv("BENCH_RUN") or "0", thread_id, counter)
  return wrk.format("POST", "/v1/stock/transfers", {
    ["Authorization"] = "Bearer " .. os.getenv("LEDGER_TOKEN"),
    ["Content-Type"] = "application/json"
  }, body)
end

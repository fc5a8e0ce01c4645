-- wrk script: POST a small JSON payment event; ids are unique across threads and runs so the
-- recipe's dedupe lets every event through.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("prefix", os.time() .. "-" .. threads)
end

local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil,
    '{"type":"payment_intent.succeeded","data":{"object":{"id":"pi_' .. prefix .. '_' .. counter ..
    '","amount":2000,"currency":"usd"}}}')
end

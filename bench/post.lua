-- wrk script: POST the W1 payment event of issue 10. The body is the same every time (the W1
-- recipe has no dedupe key), so wrk builds the request once.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"type":"payment.succeeded","amount":1234,"currency":"usd","id":"evt_123"}'

-- Withdrawals: every request has a new Idempotency-Key and the next funded user's token.
-- Set above this file by bench: `run_id` (new per wrk run), `tokens` (one per funded user),
-- wrk.method, wrk.body and the JSON Content-Type.
-- wrk cannot tie a token to a connection (request() does not know which connection asks), so
-- the tokens take turns: with as many users as connections, one user rarely has two moves in
-- flight, and its wallet row lock seldom makes another wait.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local sent = 0

function request()
  sent = sent + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["Authorization"] = "Bearer " .. tokens[sent % #tokens + 1]
  -- Keys are per user; run, thread and counter make each one new even across users.
  headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_id, thread_id or 0, sent)
  return wrk.format(nil, nil, headers, nil)
end

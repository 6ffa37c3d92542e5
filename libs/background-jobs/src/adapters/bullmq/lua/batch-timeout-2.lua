-- A batch's timeout came due: ends a batch still running as 'failed', its children not yet counted as cancelled
-- (each tenant's too: fields t.pending:<tenant> move to t.cancelled:<tenant>).
-- KEYS[1] the batch's hash (total, completed, failed, cancelled, pending, state, callbacks, timedOut, t.…)
-- KEYS[2] the set of children already counted
-- ARGV[1] the batch id (its children's ids are <batchId>.0 … <batchId>.<total - 1>)
-- Returns { due, hash (HGETALL), ids }: due is 1 when the batch is finished and its callbacks are not yet confirmed
-- enqueued; ids are the children not counted when the batch timed out, until its callbacks are confirmed enqueued
-- (the caller cancels them first, so a retried timeout cancels them again; empty when the batch finished first).
-- nil when the batch is unknown.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return nil
end
if redis.call('HGET', KEYS[1], 'state') == 'running' then
  local pending = tonumber(redis.call('HGET', KEYS[1], 'pending'))
  redis.call('HINCRBY', KEYS[1], 'cancelled', pending)
  redis.call('HSET', KEYS[1], 'pending', 0, 'state', 'failed', 'timedOut', 1)
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    local tenant = string.match(fields[i], '^t%.pending:(.*)$')
    if tenant and tonumber(fields[i + 1]) > 0 then
      redis.call('HINCRBY', KEYS[1], 't.cancelled:' .. tenant, tonumber(fields[i + 1]))
      redis.call('HSET', KEYS[1], fields[i], 0)
    end
  end
end
local ids = {}
if redis.call('HGET', KEYS[1], 'timedOut') == '1' and redis.call('HGET', KEYS[1], 'callbacks') ~= 'enqueued' then
  local total = tonumber(redis.call('HGET', KEYS[1], 'total'))
  for i = 0, total - 1 do
    local id = ARGV[1] .. '.' .. i
    if redis.call('SISMEMBER', KEYS[2], id) == 0 then
      ids[#ids + 1] = id
    end
  end
end
local due = 0
if redis.call('HGET', KEYS[1], 'state') ~= 'running' and redis.call('HGET', KEYS[1], 'callbacks') ~= 'enqueued' then
  due = 1
end
return { due, redis.call('HGETALL', KEYS[1]), ids }

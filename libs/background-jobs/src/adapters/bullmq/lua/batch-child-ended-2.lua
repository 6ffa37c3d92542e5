-- Counts one batch child's final state, once, and says whether the batch's callbacks are due.
-- KEYS[1] the batch's hash (total, completed, failed, cancelled, state, callbacks, …)
-- KEYS[2] the set of children already counted
-- ARGV[1] the child's execution id, ARGV[2] 'completed' | 'failed' | 'cancelled', ARGV[3] its tenant id or ''
--   (with a tenant, the tenant's counts move too: fields t.<count>:<tenant>)
-- Returns the hash (HGETALL) and 1 when the batch is finished and its callbacks are not yet confirmed enqueued,
-- else 0; nil when the batch is unknown. A batch that is no longer running (it timed out) counts nothing more.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return nil
end
if redis.call('HGET', KEYS[1], 'state') == 'running' and redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
  if ARGV[3] ~= '' then
    redis.call('HINCRBY', KEYS[1], 't.' .. ARGV[2] .. ':' .. ARGV[3], 1)
    redis.call('HINCRBY', KEYS[1], 't.pending:' .. ARGV[3], -1)
  end
  local pending = redis.call('HINCRBY', KEYS[1], 'pending', -1)
  if pending == 0 then
    -- The compare-and-set: only the count that finished the batch moves it out of 'running'.
    local bad = tonumber(redis.call('HGET', KEYS[1], 'failed')) + tonumber(redis.call('HGET', KEYS[1], 'cancelled'))
    if redis.call('HGET', KEYS[1], 'state') == 'running' then
      redis.call('HSET', KEYS[1], 'state', bad == 0 and 'succeeded' or 'failed')
    end
  end
end
local due = 0
if redis.call('HGET', KEYS[1], 'state') ~= 'running' and redis.call('HGET', KEYS[1], 'callbacks') ~= 'enqueued' then
  due = 1
end
return { due, redis.call('HGETALL', KEYS[1]) }

-- Executions' final states are recorded: takes each out of its dependents' pending sets, once. The runs one process
-- saw end in one tick come as one call; almost all have no dependents (no `of` set) and cost one SMEMBERS each.
-- KEYS[1] the dependencies' base key (see dependency-wait-1.lua), ARGV the execution ids.
-- Returns { queue, dependent, queue, dependent, ... } of the dependents whose last pending dependency ended here.
local base = KEYS[1]
local woken = {}
for _, id in ipairs(ARGV) do
  local of = base .. ':of:' .. id
  local dependents = redis.call('SMEMBERS', of)
  if #dependents > 0 then
    redis.call('DEL', of)
    for _, dependent in ipairs(dependents) do
      local on = base .. ':on:' .. dependent
      if redis.call('SREM', on, id) == 1 and redis.call('SCARD', on) == 0 then
        woken[#woken + 1] = redis.call('HGET', base .. ':queue', dependent) or ''
        woken[#woken + 1] = dependent
        redis.call('HDEL', base .. ':queue', dependent)
      end
    end
  end
end
return woken

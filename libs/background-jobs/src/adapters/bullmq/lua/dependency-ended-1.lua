-- One execution's final state is recorded: takes it out of each dependent's pending set, once.
-- KEYS[1] the dependencies' base key (see dependency-wait-1.lua), ARGV[1] the execution id.
-- Returns { queue, dependent, queue, dependent, ... } of the dependents whose last pending dependency it was.
local base = KEYS[1]
local of = base .. ':of:' .. ARGV[1]
local dependents = redis.call('SMEMBERS', of)
redis.call('DEL', of)
local woken = {}
for _, dependent in ipairs(dependents) do
  local on = base .. ':on:' .. dependent
  if redis.call('SREM', on, ARGV[1]) == 1 and redis.call('SCARD', on) == 0 then
    woken[#woken + 1] = redis.call('HGET', base .. ':queue', dependent) or ''
    woken[#woken + 1] = dependent
    redis.call('HDEL', base .. ':queue', dependent)
  end
end
return woken

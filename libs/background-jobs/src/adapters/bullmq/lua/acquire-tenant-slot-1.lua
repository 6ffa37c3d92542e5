--[[
  Takes (or renews) one of a tenant's slots for a run. Expired slots (of crashed instances) are dropped first;
  Redis's own clock is used, so the instances' clocks do not matter.

  Input:
    KEYS[1] the tenant's slot set
    ARGV[1] execution id
    ARGV[2] ttl (ms)
    ARGV[3] cap (slots per tenant)

  Output:
    1 when the run holds a slot, else 0
]]
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0

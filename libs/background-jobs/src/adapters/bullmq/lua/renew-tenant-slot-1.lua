--[[
  Extends a slot the run holds in its tenant's slot set.

  Input:
    KEYS[1] the tenant's slot set
    ARGV[1] execution id
    ARGV[2] ttl (ms)

  Output:
    1 when extended, 0 when the slot had expired meanwhile (it is not taken again)
]]
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if redis.call('ZADD', KEYS[1], 'XX', 'CH', ms + tonumber(ARGV[2]), ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0

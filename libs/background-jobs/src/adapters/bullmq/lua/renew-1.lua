--[[
  Extends the slots a running run holds, on Redis time.
  KEYS[1]: the admission base key. ARGV: execution id, slot ttl ms, then the concurrency check ids.
  Returns how many slots were still held (a slot that expired meanwhile is not taken again).
]]
local base = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local held = 0
for i = 3, #ARGV do
  local slots = base .. ':c:' .. ARGV[i]
  if redis.call('ZADD', slots, 'XX', 'CH', now + ttl, ARGV[1]) == 1 then
    redis.call('PEXPIRE', slots, ttl)
    held = held + 1
  end
end
return held

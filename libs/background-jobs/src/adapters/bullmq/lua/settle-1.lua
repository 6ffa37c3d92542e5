--[[
  Parks, releases or drops a run on a concurrency check, then wakes as many parked runs as the check has room for.
  KEYS[1]: the admission base key (see admit-1.lua for the keys under it; :pk is the hash of check ids with parked
  or woken runs → their configured max).
  ARGV: op ('park' | 'release' | 'drop' | 'sweep'), check id, configured max (0: as recorded in :pk), member (park/drop: queue|id;
        release: execution id), woken ttl ms (how long a woken run has to be admitted before it is woken again).
  'sweep' settles every check id of :pk (expired slots of crashed instances, woken runs never admitted).
  Returns the runs to wake, in order, flattened: check id, member (queue|id), check id, member, …
]]
local base = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op, wttl = ARGV[1], tonumber(ARGV[5])
local pk = base .. ':pk'
local out = {}

local function settle(cid, configured)
  if configured == 0 then configured = tonumber(redis.call('HGET', pk, cid)) or 0 end
  local max = configured
  local o = redis.call('HGET', base .. ':o', cid)
  if o then
    local cmax = string.match(o, '^%d*,%d*,(%d*)$')
    if cmax and cmax ~= '' then max = tonumber(cmax) end
  end
  local slots, parked, woken = base .. ':c:' .. cid, base .. ':p:' .. cid, base .. ':w:' .. cid
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
  -- A woken run not admitted in time (its waker died, or it was refused elsewhere) goes back to the head of the line.
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', woken, '-inf', now)) do redis.call('ZADD', parked, 0, m) end
  redis.call('ZREMRANGEBYSCORE', woken, '-inf', now)
  local room = max - redis.call('ZCARD', slots) - redis.call('ZCARD', woken)
  if room > 0 then
    for _, m in ipairs(redis.call('ZRANGE', parked, 0, room - 1)) do
      redis.call('ZREM', parked, m)
      redis.call('ZADD', woken, now + wttl, m)
      out[#out + 1] = cid
      out[#out + 1] = m
    end
  end
  if redis.call('ZCARD', parked) + redis.call('ZCARD', woken) == 0 then
    redis.call('HDEL', pk, cid)
  else
    redis.call('HSET', pk, cid, configured)
  end
end

if op == 'sweep' then
  local all = redis.call('HGETALL', pk)
  for i = 1, #all, 2 do settle(all[i], tonumber(all[i + 1])) end
  return out
end
local cid, member = ARGV[2], ARGV[4]
if op == 'park' then
  redis.call('ZADD', base .. ':p:' .. cid, 'NX', now, member)
elseif op == 'release' then
  redis.call('ZREM', base .. ':c:' .. cid, member)
elseif op == 'drop' then
  redis.call('ZREM', base .. ':p:' .. cid, member)
  redis.call('ZREM', base .. ':w:' .. cid, member)
end
settle(cid, tonumber(ARGV[3]))
return out

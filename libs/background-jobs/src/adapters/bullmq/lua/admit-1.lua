--[[
  Admits a run when every limit it counts against has room, all or nothing, on Redis time; else says which refused.
  KEYS[1]: the admission base key (every key below is it plus a suffix, so all share its hash slot).
  ARGV: execution id, parked member (queue|id), slot ttl ms, number of checks, then per check: check id,
        kind ('r' rate | 'c' concurrency), max, window ms (0 for concurrency).
  Keys per check id: :s: start times (rate log, zset ms), :c: slots (zset id → expiry ms), :p: parked (zset member →
  park ms), :w: woken (zset member → ms by which it must be admitted), :rw: rate waiters (zset member → wake ms),
  :h: hold (RateLimitedError, a string with a PX ttl); :o the overrides hash (check id → "rmax,rdur,cmax").
  Returns {1} admitted, or {0, index of the refusing check, wake ms (0: woken by a slot freeing)}.
]]
local base = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id, member, ttl, n = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])

local function effective(cid, kind, max, dur)
  local o = redis.call('HGET', base .. ':o', cid)
  if not o then return max, dur end
  local rmax, rdur, cmax = string.match(o, '^(%d*),(%d*),(%d*)$')
  if kind == 'r' and rmax and rmax ~= '' then return tonumber(rmax), tonumber(rdur) end
  if kind == 'c' and cmax and cmax ~= '' then return tonumber(cmax), dur end
  return max, dur
end

local checks = {}
for i = 1, n do
  local a = 4 + (i - 1) * 4
  local cid, kind = ARGV[a + 1], ARGV[a + 2]
  local max, dur = effective(cid, kind, tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]))
  checks[i] = { cid, kind, max, dur }
  local hold = redis.call('PTTL', base .. ':h:' .. cid)
  if hold > 0 then return { 0, i, now + hold } end
  if kind == 'r' then
    local log = base .. ':s:' .. cid
    redis.call('ZREMRANGEBYSCORE', log, '-inf', now - dur)
    local count = redis.call('ZCARD', log)
    if count >= max then
      -- The n-th waiter tries again when place n opens: the window's starts repeat every `dur`, so start
      -- (count - max + n mod max) leaves it n div max windows later. Spreads the waiters' wakes over the windows.
      local waiters = base .. ':rw:' .. cid
      redis.call('ZREMRANGEBYSCORE', waiters, '-inf', now - 2 * dur)
      local rank = redis.call('ZRANK', waiters, member) or redis.call('ZCARD', waiters)
      local at = count - max + (rank % max)
      local start = redis.call('ZRANGE', log, at, at, 'WITHSCORES')
      local wake = tonumber(start[2]) + dur * (math.floor(rank / max) + 1) + 1
      redis.call('ZADD', waiters, wake, member)
      redis.call('PEXPIRE', waiters, wake - now + 2 * dur)
      return { 0, i, wake }
    end
  else
    local slots = base .. ':c:' .. cid
    local woken = base .. ':w:' .. cid
    redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
    local used = redis.call('ZCARD', slots) + redis.call('ZCOUNT', woken, '(' .. now, '+inf')
    local mine = redis.call('ZSCORE', woken, member)
    if mine and tonumber(mine) > now then used = used - 1 end
    if used >= max then return { 0, i, 0 } end
  end
end

for i = 1, n do
  local cid, kind = checks[i][1], checks[i][2]
  if kind == 'r' then
    local log = base .. ':s:' .. cid
    redis.call('ZADD', log, now, id .. ':' .. now)
    redis.call('PEXPIRE', log, checks[i][4])
    redis.call('ZREM', base .. ':rw:' .. cid, member)
  else
    local slots = base .. ':c:' .. cid
    redis.call('ZADD', slots, now + ttl, id)
    redis.call('PEXPIRE', slots, ttl)
    redis.call('ZREM', base .. ':w:' .. cid, member)
    redis.call('ZREM', base .. ':p:' .. cid, member)
  end
end
return { 1 }

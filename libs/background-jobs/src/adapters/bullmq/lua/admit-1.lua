--[[
  Admits each of a list of runs when every limit it counts against has room, all or nothing per run, on Redis time;
  else says which check refused it. The runs are judged in order, each seeing the starts and slots of those before it
  (the same as one call per run, in that order): the admissions asked for in one tick of one process come as one call.
  A run whose checks are all rate limits of at least `leaseMin` may ask for a lease of `want` more starts, which its
  process then gives to runs without asking (docs/flow-control.md, "Credits"): granted only while the window stays at
  most half full, each counted as a start at now + lease ms (the latest the process may use it), so a window of actual
  starts never holds more than `max`.
  KEYS[1]: the admission base key (every key below is it plus a suffix, so all share its hash slot).
  ARGV: slot ttl ms, number of runs, lease ms, leaseMin, then per run: execution id, parked member (queue|id), starts
        wanted beyond its own (0: none), number of checks, then per check: check id, kind ('r' rate | 'c'
        concurrency), max, window ms (0 for concurrency). An empty parked member asks for a lease alone, ahead of the
        runs that will use it: no start of its own is counted, and when refused it waits nowhere.
  Keys per check id: :s: start times (rate log, zset ms), :c: slots (zset id → expiry ms), :p: parked (zset member →
  park ms), :w: woken (zset member → ms by which it must be admitted), :rw: rate waiters (zset member → wake ms),
  :h: hold (RateLimitedError, a string with a PX ttl); :o the overrides hash (check id → "rmax,rdur,cmax").
  Returns five numbers per run: 1, 0, 0, starts leased, lease ms when admitted, or 0, the index of the refusing check,
  the wake ms (0: woken by a slot freeing), 0, 0.
]]
local base = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl, runs, leaseMs, leaseMin = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])

-- A check's override and hold cannot change during this call: read once per check id.
local overrides, holds = {}, {}
local function effective(cid, kind, max, dur)
  local o = overrides[cid]
  if o == nil then
    o = redis.call('HGET', base .. ':o', cid) or false
    overrides[cid] = o
  end
  if not o then return max, dur end
  local rmax, rdur, cmax = string.match(o, '^(%d*),(%d*),(%d*)$')
  if kind == 'r' and rmax and rmax ~= '' then return tonumber(rmax), tonumber(rdur) end
  if kind == 'c' and cmax and cmax ~= '' then return tonumber(cmax), dur end
  return max, dur
end
local function held(cid)
  local hold = holds[cid]
  if hold == nil then
    hold = redis.call('PTTL', base .. ':h:' .. cid)
    holds[cid] = hold
  end
  return hold
end

-- Whether the run whose checks start after ARGV[a] may start: 0 when it may, else the refusing check and wake ms.
local function refusal(member, n, a, checks)
  for i = 1, n do
    local c = a + (i - 1) * 4
    local cid, kind = ARGV[c + 1], ARGV[c + 2]
    local max, dur = effective(cid, kind, tonumber(ARGV[c + 3]), tonumber(ARGV[c + 4]))
    checks[i] = { cid, kind, max, dur, 0 }
    local hold = held(cid)
    if hold > 0 then return i, now + hold end
    if kind == 'r' then
      local log = base .. ':s:' .. cid
      redis.call('ZREMRANGEBYSCORE', log, '-inf', now - dur)
      local count = redis.call('ZCARD', log)
      checks[i][5] = count
      if count >= max then
        -- A lease asked for ahead (no run of its own) waits nowhere.
        if member == '' then return i, 0 end
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
        return i, wake
      end
    else
      local slots = base .. ':c:' .. cid
      local woken = base .. ':w:' .. cid
      redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
      local used = redis.call('ZCARD', slots) + redis.call('ZCOUNT', woken, '(' .. now, '+inf')
      local mine = redis.call('ZSCORE', woken, member)
      if mine and tonumber(mine) > now then used = used - 1 end
      if used >= max then return i, 0 end
    end
  end
  return 0, 0
end

-- How many more starts than its own the run may take for its process (each check at most half full after them).
local function leased(want, checks)
  if want <= 0 then return 0, 0 end
  -- At most 64 (rate-credits.ts asks for no more): bounds the entries one call writes.
  local granted, ms = math.min(want, 64), leaseMs
  for i = 1, #checks do
    local kind, max, dur, count = checks[i][2], checks[i][3], checks[i][4], checks[i][5]
    if kind ~= 'r' or max < leaseMin then return 0, 0 end
    granted = math.min(granted, math.floor(max / 2) - count - 1)
    ms = math.min(ms, math.floor(dur / 20))
  end
  if granted <= 0 or ms <= 0 then return 0, 0 end
  return granted, ms
end

local function take(id, member, checks, granted, ms)
  for i = 1, #checks do
    local cid, kind = checks[i][1], checks[i][2]
    if kind == 'r' then
      local log = base .. ':s:' .. cid
      if member ~= '' then redis.call('ZADD', log, now, id .. ':' .. now) end
      if granted > 0 then
        local entries = {}
        for j = 1, granted do
          entries[#entries + 1] = now + ms
          entries[#entries + 1] = id .. ':' .. now .. ':' .. j
        end
        redis.call('ZADD', log, unpack(entries))
      end
      -- NOTE: never shortens the log's life: a lease's starts, dated ahead, must outlive their window.
      if redis.call('PTTL', log) < checks[i][4] + ms then redis.call('PEXPIRE', log, checks[i][4] + ms) end
      if member ~= '' then redis.call('ZREM', base .. ':rw:' .. cid, member) end
    else
      local slots = base .. ':c:' .. cid
      redis.call('ZADD', slots, now + ttl, id)
      redis.call('PEXPIRE', slots, ttl)
      redis.call('ZREM', base .. ':w:' .. cid, member)
      redis.call('ZREM', base .. ':p:' .. cid, member)
    end
  end
end

local replies = {}
local a = 4
for r = 1, runs do
  local id, member, want, n = ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local checks = {}
  local index, wake = refusal(member, n, a + 4, checks)
  local granted, ms = 0, 0
  if index == 0 then
    granted, ms = leased(want, checks)
    take(id, member, checks, granted, ms)
    replies[#replies + 1] = 1
  else
    replies[#replies + 1] = 0
  end
  replies[#replies + 1] = index
  replies[#replies + 1] = wake
  replies[#replies + 1] = granted
  replies[#replies + 1] = ms
  a = a + 4 + n * 4
end
return replies

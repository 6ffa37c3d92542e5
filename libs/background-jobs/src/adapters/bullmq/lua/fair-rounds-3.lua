--[[
  Gives each run about to be added to a queue of fair jobs its BullMQ priority: tier-major, then the round that
  interleaves tenants round robin, FIFO inside a tenant. A lane is a tenant's runs of one priority tier
  (EnqueueOptions.priority); a run of tier t in round r has priority t * (limit + 1) + r, so every tier-0 run goes
  before every tier-1 run and, within a tier, each lane has one run per round, or w runs when its tenant has the
  weight w (setLimit's weight: KEYS[3]).

  BullMQ keeps prioritized jobs in a sorted set scored priority * 2^32 + an insertion counter and takes the lowest
  first (after the plain wait list). A lane's next run gets the round its last run got while that round is still
  being served or ahead (its last round >= the lowest pending priority of the tier) and holds fewer than w of its
  runs; otherwise max(its last round + 1, the round its tier is serving now), or, when nothing of its tier is pending,
  the highest round given + 1. A lane's field is its last round, "round:n" while that round holds n < w of its runs.
  When nothing at all is pending every lane's last round is behind the next one, so the lane fields are dropped (an
  idle tenant costs nothing; its weight stays) and only the highest round given ("\0top": no tenant id holds NUL) is
  kept; from half of the round range rounds start again at 1, which only runs whose add is still in flight can
  notice. No round exceeds the limit.

  Input:
    KEYS[1] the queue's rounds hash
    KEYS[2] the queue's prioritized sorted set (BullMQ's)
    KEYS[3] the queue's weights hash: tenant -> its shares of a round (absent: 1)
    ARGV[1] the highest round of a tier (tiers * (limit + 1) - 1 is at most BullMQ's PRIORITY_LIMIT)
    ARGV[2..] triples of a lane key, its tier and its tenant (the weights hash field), in enqueue order

  Output:
    the BullMQ priority of each run, in order
]]
local limit = tonumber(ARGV[1])
local span = (limit + 1) * 4294967296
local top = tonumber(redis.call('HGET', KEYS[1], '\0top')) or 0
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  if top >= limit / 2 then top = 0 end
end
local after = top + 1
local floors = {}
local function floorOf(tier)
  if floors[tier] == nil then
    -- NOTE: '%.0f' writes the bounds exactly (tostring keeps 14 digits); they stay below 2^53.
    local from = string.format('%.0f', tier * span)
    local to = '(' .. string.format('%.0f', (tier + 1) * span)
    local head = redis.call('ZRANGEBYSCORE', KEYS[2], from, to, 'WITHSCORES', 'LIMIT', 0, 1)
    if #head == 0 then
      floors[tier] = after
    else
      floors[tier] = math.floor(tonumber(head[2]) / 4294967296) - tier * (limit + 1)
    end
  end
  return floors[tier]
end
local weights = {}
local function weightOf(tenant)
  if weights[tenant] == nil then
    weights[tenant] = tonumber(redis.call('HGET', KEYS[3], tenant)) or 1
  end
  return weights[tenant]
end
local out = {}
for i = 2, #ARGV, 3 do
  local tier = tonumber(ARGV[i + 1])
  local weight = weightOf(ARGV[i + 2])
  local field = redis.call('HGET', KEYS[1], ARGV[i])
  local last, used = 0, nil
  if field then
    local cut = string.find(field, ':', 1, true)
    if cut then
      last, used = tonumber(string.sub(field, 1, cut - 1)), tonumber(string.sub(field, cut + 1))
    else
      last = tonumber(field)
    end
  end
  local floor = floorOf(tier)
  local round
  if used ~= nil and used < weight and last >= floor then
    round, used = last, used + 1
  else
    round, used = last + 1, 1
    if round < floor then round = floor end
  end
  if round > limit then round = limit end
  if used < weight then
    redis.call('HSET', KEYS[1], ARGV[i], round .. ':' .. used)
  else
    redis.call('HSET', KEYS[1], ARGV[i], round)
  end
  if round > top then top = round end
  out[#out + 1] = tier * (limit + 1) + round
end
redis.call('HSET', KEYS[1], '\0top', top)
return out

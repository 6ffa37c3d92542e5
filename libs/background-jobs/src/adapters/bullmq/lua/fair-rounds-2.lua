--[[
  Gives each run about to be added to a queue of fair jobs its BullMQ priority: tier-major, then the round that
  interleaves tenants round robin, FIFO inside a tenant. A lane is a tenant's runs of one priority tier
  (EnqueueOptions.priority); a run of tier t in round r has priority t * (limit + 1) + r, so every tier-0 run goes
  before every tier-1 run and, within a tier, each lane has one run per round.

  BullMQ keeps prioritized jobs in a sorted set scored priority * 2^32 + an insertion counter and takes the lowest
  first (after the plain wait list). A lane's next run gets the round max(its last round + 1, the round its tier is
  serving now: the lowest pending priority of the tier), or, when nothing of its tier is pending, the highest round
  given + 1. When nothing at all is pending every lane's last round is behind the next one, so the lane fields are
  dropped (an idle tenant costs nothing) and only the highest round given ("\0top": no tenant id holds NUL) is kept;
  from half of the round range rounds start again at 1, which only runs whose add is still in flight can notice. No
  round exceeds the limit.

  Input:
    KEYS[1] the queue's rounds hash
    KEYS[2] the queue's prioritized sorted set (BullMQ's)
    ARGV[1] the highest round of a tier (tiers * (limit + 1) - 1 is at most BullMQ's PRIORITY_LIMIT)
    ARGV[2..] pairs of a lane key and its tier, in enqueue order

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
local out = {}
for i = 2, #ARGV, 2 do
  local tier = tonumber(ARGV[i + 1])
  local round = (tonumber(redis.call('HGET', KEYS[1], ARGV[i])) or 0) + 1
  local floor = floorOf(tier)
  if round < floor then round = floor end
  if round > limit then round = limit end
  redis.call('HSET', KEYS[1], ARGV[i], round)
  if round > top then top = round end
  out[#out + 1] = tier * (limit + 1) + round
end
redis.call('HSET', KEYS[1], '\0top', top)
return out

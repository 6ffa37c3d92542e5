--[[
  Gives each run about to be added to a queue of fair jobs its round: the BullMQ priority that interleaves tenants
  round robin, FIFO inside a tenant.

  BullMQ keeps prioritized jobs in a sorted set scored priority * 2^32 + an insertion counter and takes the lowest
  first (after the plain wait list). A tenant's next run gets the round max(its last round + 1, the round being
  served now: the lowest pending priority). When nothing is pending every tenant's last round is behind the next
  one, so the tenant fields are dropped (an idle tenant costs nothing) and only the highest round given ("\0top": no
  tenant id holds NUL) is kept; from half of BullMQ's priority range rounds start again at 1, which only runs whose
  add is still in flight can notice. No round exceeds the limit.

  Input:
    KEYS[1] the queue's rounds hash
    KEYS[2] the queue's prioritized sorted set (BullMQ's)
    ARGV[1] the priority limit (BullMQ's PRIORITY_LIMIT)
    ARGV[2..] tenant keys, in enqueue order

  Output:
    the round of each tenant key, in order
]]
local limit = tonumber(ARGV[1])
local top = tonumber(redis.call('HGET', KEYS[1], '\0top')) or 0
local head = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local floor
if #head == 0 then
  redis.call('DEL', KEYS[1])
  if top >= limit / 2 then top = 0 end
  floor = top + 1
else
  floor = math.floor(tonumber(head[2]) / 4294967296)
end
local out = {}
for i = 2, #ARGV do
  local round = (tonumber(redis.call('HGET', KEYS[1], ARGV[i])) or 0) + 1
  if round < floor then round = floor end
  if round > limit then round = limit end
  redis.call('HSET', KEYS[1], ARGV[i], round)
  if round > top then top = round end
  out[i - 1] = round
end
redis.call('HSET', KEYS[1], '\0top', top)
return out

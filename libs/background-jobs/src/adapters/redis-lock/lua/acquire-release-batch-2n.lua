--[[
  Acquires and releases locks in the order they were asked for: those of concurrent runs issued in one tick as one
  call (standalone Redis), or one operation per call (a cluster, where each lock is its own slot). Two keys per
  operation (hence "2n").

  Input, per operation i:
    KEYS[2i - 1] the lock
    KEYS[2i]     its fencing counter
    ARGV[3i - 2] kind: 'a' (acquire) or 'r' (release)
    ARGV[3i - 1] token
    ARGV[3i]     ttl (ms)

  Output, per operation: an acquire is SET NX PX, then INCR of the fencing counter: the new fencing token, or false
  (nil) when the lock is held. A release is compare-and-delete: 1 when the lock was this token's and is deleted,
  else 0 (someone else's lock is left alone).
]]
local out = {}
for i = 1, #KEYS / 2 do
  local lock = KEYS[2 * i - 1]
  local token = ARGV[3 * i - 1]
  if ARGV[3 * i - 2] == 'a' then
    if redis.call('set', lock, token, 'NX', 'PX', ARGV[3 * i]) then
      out[i] = redis.call('incr', KEYS[2 * i])
    else
      out[i] = false
    end
  elseif redis.call('get', lock) == token then
    out[i] = redis.call('del', lock)
  else
    out[i] = 0
  end
end
return out

// NOTE: every step that must be atomic is one Lua script, so no other client can interleave between check and act.

/** KEYS: lock. ARGV: token, ttlMs. Compare-and-extend: 1 when still ours and extended, else 0. */
export const EXTEND = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

/**
 * Acquires and releases, in the order they were asked for: those of concurrent runs issued in one tick as one call
 * (standalone Redis), or one operation per call (a cluster, where each lock is its own slot). KEYS: lock, fence per
 * operation. ARGV: kind, token, ttlMs per operation. An acquire (`a`) is SET NX PX, then INCR of the fencing counter:
 * the new fencing token, or false (nil) when the lock is held. A release (`r`) is compare-and-delete: 1 when the
 * lock was this token's and is deleted, else 0 (someone else's lock is left alone).
 */
export const BATCH = `
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
return out`;

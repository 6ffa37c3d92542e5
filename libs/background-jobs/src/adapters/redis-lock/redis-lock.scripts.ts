// NOTE: every step that must be atomic is one Lua script, so no other client can interleave between check and act.

/** KEYS: lock, fence. ARGV: token, ttlMs. Returns the new fencing token, or nil when the lock is held (SET NX, then INCR). */
export const ACQUIRE = `
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return nil end
return redis.call('incr', KEYS[2])`;

/** KEYS: lock. ARGV: token, ttlMs. Compare-and-extend: 1 when still ours and extended, else 0. */
export const EXTEND = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

/** KEYS: lock. ARGV: token. Compare-and-delete: 1 when ours and deleted, else 0 (someone else's lock is left alone). */
export const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

/**
 * The acquires and releases of concurrent runs issued in one tick, as one script call (standalone Redis; on a cluster
 * each lock is its own slot, so ACQUIRE and RELEASE go one by one). KEYS: lock, fence per operation. ARGV: kind
 * (`a` acquire, `r` release), token, ttlMs per operation, in the order they were asked for. Returns one entry per
 * operation: ACQUIRE's (the fencing token, or false → nil when held) or RELEASE's (1 or 0).
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

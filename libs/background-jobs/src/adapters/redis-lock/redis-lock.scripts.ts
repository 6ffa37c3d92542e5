// NOTE: every step that must be atomic is one Lua script, so no other client can interleave between check and act.

/** KEYS: lock, fence. ARGV: token, ttlMs. Returns the new fencing token, or nil when the lock is held. */
export const ACQUIRE = `
if redis.call('exists', KEYS[1]) == 1 then return nil end
local fence = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return fence`;

/** KEYS: lock. ARGV: token, ttlMs. Compare-and-extend: 1 when still ours and extended, else 0. */
export const EXTEND = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

/** KEYS: lock. ARGV: token. Compare-and-delete: 1 when ours and deleted, else 0 (someone else's lock is left alone). */
export const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

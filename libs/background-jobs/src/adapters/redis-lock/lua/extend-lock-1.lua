--[[
  Compare-and-extend a lock: extends it only while it is still held by this token.

  Input:
    KEYS[1] the lock
    ARGV[1] token
    ARGV[2] ttl (ms)

  Output:
    1 when still ours and extended, else 0
]]
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0

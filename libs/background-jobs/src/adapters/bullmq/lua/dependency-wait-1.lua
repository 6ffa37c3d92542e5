-- Registers a continuation's dependencies that have not ended yet (before the continuation is enqueued).
-- KEYS[1] the dependencies' base key (in the framework's slot on a Cluster; the keys below share its hash tag):
--   <base>:on:<dependent> set of its pending dependencies, <base>:of:<dependency> set of its dependents,
--   <base>:queue hash dependent -> its queue.
-- ARGV[1] the dependent's execution id, ARGV[2] its queue, ARGV[3..] the dependencies' execution ids.
local base = KEYS[1]
local dependent = ARGV[1]
redis.call('HSET', base .. ':queue', dependent, ARGV[2])
for i = 3, #ARGV do
  redis.call('SADD', base .. ':on:' .. dependent, ARGV[i])
  redis.call('SADD', base .. ':of:' .. ARGV[i], dependent)
end
return 1

/**
 * Lua scripts run atomically by Redis. A connection is a hash `{ rev, data }`: `rev` in clear for
 * compare-and-set, `data` the sealed record. A lock is a string holding its owner, with a TTL.
 */

/** KEYS[1] connection, KEYS[2] state index or ''; ARGV[1] data, ARGV[2] connection id, ARGV[3] state TTL ms. → new rev */
export const PUT = `
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('HSET', KEYS[1], 'data', ARGV[1])
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
return rev`;

/** Same keys; ARGV[4] expected rev. → new rev, or 0 when the stored rev differs or the connection is gone. */
export const COMPARE_AND_SET = `
local rev = redis.call('HGET', KEYS[1], 'rev')
if rev == false or rev ~= ARGV[4] then return 0 end
rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('HSET', KEYS[1], 'data', ARGV[1])
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
return rev`;

/** KEYS[1] lock; ARGV[1] owner. Deletes the lock only when this owner holds it. → 1 or 0 */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Lua scripts run atomically by Redis. A connection is a hash `{ rev, data }`: `rev` in clear for
 * compare-and-set, `data` the sealed record. A lock is a string holding its owner, with a TTL. A rolling
 * window is a sorted set of hits scored by their time.
 */

/** KEYS[1] connection, KEYS[2] state index or ''; ARGV[1] data, ARGV[2] storage id, ARGV[3] state TTL ms. → new rev */
export const PUT = `
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('HSET', KEYS[1], 'data', ARGV[1])
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
return rev`;

/** Same keys and arguments. → 1, or 0 when the connection exists (nothing written). */
export const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'rev', 1, 'data', ARGV[1])
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
return 1`;

/** Same keys; ARGV[4] expected rev. → new rev, or 0 when the stored rev differs or the connection is gone. */
export const COMPARE_AND_SET = `
local rev = redis.call('HGET', KEYS[1], 'rev')
if rev == false or rev ~= ARGV[4] then return 0 end
rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('HSET', KEYS[1], 'data', ARGV[1])
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
return rev`;

/** KEYS[1] lock; ARGV[1] owner, ARGV[2] TTL ms. Extends the lock only while this owner holds it. → 1 or 0 */
export const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/**
 * KEYS[1] lock, KEYS[2] its intent; ARGV[1] owner. Deletes the intent this owner recorded (its refresh resolved,
 * even after its lease ran out), and the lock only when this owner holds it. → 1 or 0 (the lock)
 */
export const RELEASE_LOCK = `
if redis.call('HGET', KEYS[2], 'owner') == ARGV[1] then redis.call('DEL', KEYS[2]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * KEYS[1] lock, KEYS[2] its intent; ARGV[1] owner, ARGV[2] lease ms, ARGV[3] intent value, ARGV[4] intent ms.
 * SET NX PX; when taken, records this owner's intent and returns the one an earlier holder left (not cleared by
 * its release). → { 0 } not taken, { 1 } taken, { 1, owner, value } taken over an unresolved intent
 */
export const ACQUIRE_LOCK_WITH_INTENT = `
if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return { 0 } end
local previous = redis.call('HMGET', KEYS[2], 'owner', 'value')
redis.call('HSET', KEYS[2], 'owner', ARGV[1], 'value', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if previous[1] and previous[2] then return { 1, previous[1], previous[2] } end
return { 1 }`;

/**
 * KEYS[1] window; ARGV[1] now (ms), ARGV[2] window ms, ARGV[3] limit, ARGV[4] a unique member for this hit.
 * Drops hits that left the window, then counts this one when fewer than limit remain.
 * → { 1, count } when counted, { 0, count, retryAfterMs } when refused (not counted).
 */
export const HIT_WINDOW = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return { 0, count, tonumber(oldest[2]) + window - now }
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return { 1, count + 1 }`;

/** KEYS[1] window; ARGV[1] now, ARGV[2] window ms. → { count, oldest hit's time or -1 } (nothing changed). */
export const PEEK_WINDOW = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local hits = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - window), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if #hits == 0 then return { 0, -1 } end
return { redis.call('ZCOUNT', KEYS[1], '(' .. (now - window), '+inf'), tonumber(hits[2]) }`;

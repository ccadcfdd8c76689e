/**
 * countHits — adds hits to a counter of a fixed window (the rate limits: per client IP, per username).
 * KEYS[1] the counter
 * ARGV[1] window in milliseconds (set when the window's first hits create the counter)
 * ARGV[2] hits to add
 * Returns {hits in this window, milliseconds until it ends}.
 */
export const countHits = {
  numberOfKeys: 1,
  lua: `
local hits = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}
`,
};

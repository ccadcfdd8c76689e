/**
 * countHit — counts one hit in a fixed window (the login limits: per client IP, per username).
 * KEYS[1] the counter
 * ARGV[1] window in milliseconds (set when the window's first hit creates the counter)
 * Returns {hits in this window, milliseconds until it ends}.
 */
export const countHit = {
  numberOfKeys: 1,
  lua: `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {hits, redis.call('PTTL', KEYS[1])}
`,
};

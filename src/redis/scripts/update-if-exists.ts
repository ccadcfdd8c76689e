/**
 * updateIfExists — sets fields of a hash only if the hash exists (a PATCH must never create).
 * KEYS[1] hash
 * ARGV[1..] field, value, ...
 * Returns the whole hash after the update as a flat field/value list, or an empty list when it does not exist.
 */
export const updateIfExists = {
  numberOfKeys: 1,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('HGETALL', KEYS[1])
`,
};

/**
 * updateUser — changes an existing user's fields; a new username moves its uniqueness entry atomically.
 * KEYS[1] user hash   KEYS[2] usernames hash
 * ARGV[1] user id   ARGV[2] new lower-cased username, or '' to keep it
 * ARGV[3] '1' to end every session (a new password: tokens carry the session version they were issued in)
 * ARGV[4..] field, value, ...
 * Returns 1 when updated, 0 when the new username is taken, -1 when the user does not exist.
 */
export const updateUser = {
  numberOfKeys: 2,
  lua: `
local current = redis.call('HGET', KEYS[1], 'username')
if not current then return -1 end
if ARGV[2] ~= '' and ARGV[2] ~= string.lower(current) then
  if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[1]) == 0 then return 0 end
  redis.call('HDEL', KEYS[2], string.lower(current))
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'sessionVersion', 1) end
return 1
`,
};

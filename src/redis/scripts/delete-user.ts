/**
 * deleteUser — removes a user, its username entry and its index entry (its purchases stay: they are records).
 * KEYS[1] user hash   KEYS[2] usernames hash   KEYS[3] user index (sorted set)
 * ARGV[1] user id
 * Returns 1 when deleted, 0 when the user does not exist.
 */
export const deleteUser = {
  numberOfKeys: 3,
  lua: `
local name = redis.call('HGET', KEYS[1], 'username')
if not name then return 0 end
redis.call('HDEL', KEYS[2], string.lower(name))
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`,
};

/**
 * createUser — writes a user only if its username is free, in one atomic step.
 * KEYS[1] user hash   KEYS[2] usernames hash   KEYS[3] user index (sorted set)
 * ARGV[1] lower-cased username   ARGV[2] user id   ARGV[3..] field, value, ...
 * Returns 1 when created, 0 when the username is taken.
 */
export const createUser = {
  numberOfKeys: 3,
  lua: `
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[3], 0, ARGV[2])
return 1
`,
};

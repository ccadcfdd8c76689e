/**
 * releaseIfEqual — deletes a key only if it still holds the value this caller wrote (releases an
 * idempotency claim without removing a claim or result written by someone else).
 * KEYS[1] key
 * ARGV[1] expected value
 * Returns 1 when deleted, 0 otherwise.
 */
export const releaseIfEqual = {
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
};

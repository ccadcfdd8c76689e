/**
 * Every Redis key Evergreen uses, built in one place. The prefix lets two deployments (or test suites)
 * share one Redis without touching each other's data.
 *
 * Listing indexes are sorted sets whose members all have score 0 and are ordered lexicographically
 * (ZRANGE ... BYLEX): ids are UUIDv7, so that order is creation order and the last id seen is the cursor.
 */
export function keySchema(prefix: string) {
  return {
    /** hash: id, username, email, role, passwordHash, createdAt, updatedAt */
    user: (id: string) => `${prefix}user:${id}`,
    /** hash: lower-cased username → user id (uniqueness index) */
    usernames: () => `${prefix}users:by-name`,
    /** sorted set (lex, score 0): every user id */
    userIndex: () => `${prefix}users:index`,
    /** sorted set (lex, score 0): ids of one user's purchases */
    userPurchases: (userId: string) => `${prefix}user:${userId}:purchases`,

    /** hash: id, name, description, priceCents, stock, createdAt, updatedAt */
    product: (id: string) => `${prefix}product:${id}`,
    /** sorted set (lex, score 0): every product id */
    productIndex: () => `${prefix}products:index`,

    /** hash: id, userId, productId, quantity, unitPriceCents, totalCents, createdAt */
    purchase: (id: string) => `${prefix}purchase:${id}`,
    /** sorted set (lex, score 0): every purchase id */
    purchaseIndex: () => `${prefix}purchases:index`,

    /** string (JSON IdempotencyRecord) with TTL: one user's Idempotency-Key */
    idempotency: (userId: string, key: string) => `${prefix}idem:${userId}:${key}`,

    /** string "1" with TTL = the token's remaining life: a logged-out JWT id */
    revokedToken: (jti: string) => `${prefix}revoked:${jti}`,

    /** prefix of @fastify/rate-limit's counters (strings with TTL) */
    rateLimit: (name: string) => `${prefix}rl:${name}:`,
    /** string (counter) with TTL = the rest of its window: login attempts from one client IP or for one username */
    loginAttempts: (by: 'ip' | 'user', id: string) => `${prefix}rl:login-${by}:${id}`,
  };
}

export type Keys = ReturnType<typeof keySchema>;

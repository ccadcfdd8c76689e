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
    /*
     * The catalog's search indexes (stores/catalog-index.ts), all lex sorted sets (score 0) written in the MULTI
     * that changes the product, so that every order has an exact "after this member" cursor (BYLEX with "(")
     * and every filter an O(log n) range, even among equal prices or names. `\0` ends the sort part of a member.
     */
    /** sorted set (lex, score 0): `<priceCents, 13 digits zero-padded>\0<id>` — sort=price, min/max price */
    productsByPrice: () => `${prefix}products:by-price`,
    /** sorted set (lex, score 0): `<lower-cased name>\0<id>` — sort=name */
    productsByName: () => `${prefix}products:by-name`,
    /** sorted set (lex, score 0): `<the name's words from one word on, ≤ 100 chars>\0<id>` per word — q prefixes */
    productWords: () => `${prefix}products:by-word`,
    /** sorted set (lex, score 0): ids of the products whose stock is above 0 — inStock=true */
    productsInStock: () => `${prefix}products:in-stock`,
    /** string: the version of the search indexes every product has entries in (the start-up backfill's marker) */
    catalogIndexVersion: () => `${prefix}products:index-version`,

    /**
     * stream (MAXLEN ~ STOCK_EVENTS_MAXLEN): a product's new stock and price, or its deletion, appended in the MULTI
     * that makes the change (redis/live/stock-events.ts); tailed by every instance for the live stock streams
     */
    stockEvents: () => `${prefix}products:events`,

    /**
     * hash: id, userId, totalCents, status, createdAt, cancelledAt?, and one line's productId, quantity,
     * unitPriceCents or a basket's line:<i> fields (stores/purchase-record.ts)
     */
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

import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import type { Role } from '../schemas/users.js';

/** Logged-out tokens (a deny-list shared by every instance) and the live state a token is checked against. */
export class TokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Denies the token until it would have expired anyway. */
  async revoke(jti: string, expiresAtSeconds: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(expiresAtSeconds - Date.now() / 1000));
    await this.redis.set(this.keys.revokedToken(jti), '1', 'EX', ttl);
  }

  /**
   * In one round trip: is the token revoked, and what is its user's role now? Null when the token must be
   * refused (revoked, or its user deleted). Reading the role live makes a role change take effect at once.
   */
  async check(jti: string, userId: string): Promise<{ role: Role } | null> {
    const results = await this.redis.pipeline().exists(this.keys.revokedToken(jti)).hget(this.keys.user(userId), 'role').exec();
    const [[revokedErr, revoked], [roleErr, role]] = results as [[Error | null, number], [Error | null, string | null]];
    if (revokedErr) throw revokedErr;
    if (roleErr) throw roleErr;
    if (revoked === 1 || !role) return null;
    return { role: role === 'admin' ? 'admin' : 'customer' };
  }
}

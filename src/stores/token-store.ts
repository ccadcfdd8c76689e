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
   * refused: revoked, its user deleted, or issued before the user's last password change. Reading the role
   * live makes a role change take effect at once.
   */
  async check(jti: string, userId: string, sessionVersion: number): Promise<{ role: Role } | null> {
    const results = await this.redis
      .pipeline()
      .exists(this.keys.revokedToken(jti))
      .hmget(this.keys.user(userId), 'role', 'sessionVersion')
      .exec();
    const [[revokedErr, revoked], [userErr, fields]] = results as [
      [Error | null, number],
      [Error | null, (string | null)[]],
    ];
    if (revokedErr) throw revokedErr;
    if (userErr) throw userErr;
    const [role, currentVersion] = fields;
    if (revoked === 1 || !role || Number(currentVersion ?? 0) !== sessionVersion) return null;
    return { role: role === 'admin' ? 'admin' : 'customer' };
  }
}

import type { Redis } from 'ioredis';
import type { ClientCache } from '../redis/cache/client-cache.js';
import type { Keys } from '../redis/keys.js';
import type { Role } from '../schemas/users.js';

/** What a token is checked against: the user's live role (null: no such user) and session version. */
interface Holder {
  role: string | null;
  sessionVersion: number;
}

/**
 * Logged-out tokens (a deny-list shared by every instance) and the live state a token is checked against, both
 * read through the client-side cache: Redis tells every instance at once when either changes (a logout, a
 * password or role change, a deleted account), so a check costs no round trip while nothing changed.
 */
export class TokenStore {
  constructor(
    private readonly master: Redis,
    /** A tracked connection to the master (redis/cache); while it is not ready, the master connection, uncached. */
    private readonly reader: Redis,
    private readonly cache: ClientCache,
    private readonly keys: Keys,
  ) {}

  /** Denies the token until it would have expired anyway. */
  async revoke(jti: string, expiresAtSeconds: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(expiresAtSeconds - Date.now() / 1000));
    await this.master.set(this.keys.revokedToken(jti), '1', 'EX', ttl);
    this.cache.changed(this.keys.revokedToken(jti));
  }

  /**
   * Is the token revoked, and what is its user's role now? Null when the token must be refused: revoked, its
   * user deleted, or issued before the user's last password change. Reading the role live makes a role change
   * take effect at once. At most one round trip (both reads in one pipeline), none when both are cached.
   */
  async check(jti: string, userId: string, sessionVersion: number): Promise<{ role: Role } | null> {
    const revokedKey = { redisKey: this.keys.revokedToken(jti) };
    const holderKey = { redisKey: this.keys.user(userId), variant: 'token' };
    let revoked = this.cache.get<boolean>('token', revokedKey);
    let holder = revoked === undefined ? undefined : this.cache.get<Holder>('token', holderKey);
    if (revoked === undefined || holder === undefined) [revoked, holder] = await this.read(revokedKey, holderKey);
    if (revoked || !holder.role || holder.sessionVersion !== sessionVersion) return null;
    return { role: holder.role === 'admin' ? 'admin' : 'customer' };
  }

  private async read(
    revokedKey: { redisKey: string },
    holderKey: { redisKey: string; variant: string },
  ): Promise<[boolean, Holder]> {
    const redis = this.reader.status === 'ready' ? this.reader : this.master;
    const [revoked, holder] = await this.cache.load<boolean | Holder>(
      'token',
      [revokedKey, holderKey],
      redis,
      async () => {
        const results = await redis
          .pipeline()
          .exists(revokedKey.redisKey)
          .hmget(holderKey.redisKey, 'role', 'sessionVersion')
          .exec();
        const [[revokedErr, exists], [holderErr, fields]] = results as [
          [Error | null, number],
          [Error | null, (string | null)[]],
        ];
        if (revokedErr) throw revokedErr;
        if (holderErr) throw holderErr;
        return [exists === 1, { role: fields[0] ?? null, sessionVersion: Number(fields[1] ?? 0) }];
      },
    );
    return [revoked as boolean, holder as Holder];
  }
}

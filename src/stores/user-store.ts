import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import type { ClientCache } from '../redis/cache/client-cache.js';
import { MAX_PASSWORD_BYTES, type Role, type UpdateUserBody, type User } from '../schemas/users.js';
import { UserNotFound, UsernameTaken } from '../errors.js';
import { loadPage, type Page, type PageRequest } from './pagination.js';
import type { Passwords } from '../passwords/passwords.js';

interface UserRecord extends User {
  passwordHash: string;
  /** Bumped by a password change: tokens issued before it stop working. */
  sessionVersion: number;
}

const fromHash = (h: Record<string, string>): UserRecord => ({
  id: h.id!,
  username: h.username!,
  email: h.email ? h.email : null,
  role: h.role === 'admin' ? 'admin' : 'customer',
  passwordHash: h.passwordHash!,
  sessionVersion: Number(h.sessionVersion ?? 0),
  createdAt: h.createdAt!,
  updatedAt: h.updatedAt!,
});

/** What leaves the store: never the password hash. */
const toUser = ({ passwordHash: _hash, sessionVersion: _version, ...user }: UserRecord): User => user;

/** Accounts. Every read goes to the master: a user's own account is read-your-writes. */
export class UserStore {
  // Compared against when the username is unknown (or the password cannot be anyone's), so that every failed login
  // costs one comparison at the configured cost, as a wrong password does. Made by prepare(), before any login.
  private dummyHash = '';

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly passwords: Passwords,
    /** Holds the token check's view of users (token-store.ts): dropped here when a user changes. */
    private readonly cache: ClientCache,
  ) {}

  /**
   * Hashes the stand-in password of unknown users (at start: no login should pay for it, or fail on it), then
   * compares against it once: the first job warms the bcrypt thread up and is not measured, the second tells how
   * long a hash takes here before the first sign-ins queue (Passwords' BUSY estimate).
   */
  async prepare(): Promise<void> {
    this.dummyHash = await this.passwords.hash(randomBytes(32).toString('base64url'));
    await this.passwords.compare('', this.dummyHash);
  }

  async create(input: { username: string; password: string; email?: string | undefined; role?: Role }): Promise<User> {
    const now = new Date().toISOString();
    const record: UserRecord = {
      id: uuidv7(),
      username: input.username,
      email: input.email ?? null,
      role: input.role ?? 'customer',
      passwordHash: await this.passwords.hash(input.password),
      sessionVersion: 0,
      createdAt: now,
      updatedAt: now,
    };
    const { email, ...fields } = record;
    const created = await this.redis.createUser(
      this.keys.user(record.id),
      this.keys.usernames(),
      this.keys.userIndex(),
      record.username.toLowerCase(),
      record.id,
      ...Object.entries({ ...fields, email: email ?? '' }).flat(),
    );
    if (created === 0) throw new UsernameTaken();
    return toUser(record);
  }

  async get(id: string): Promise<User> {
    const hash = await this.redis.hgetall(this.keys.user(id));
    if (!hash.id) throw new UserNotFound();
    return toUser(fromHash(hash));
  }

  /**
   * The user whose username and password match, with its session version; null if none. Either way one bcrypt
   * comparison (the stand-in's at the configured cost): an unknown username takes as long as a wrong password.
   */
  async verifyCredentials(username: string, password: string): Promise<{ user: User; sessionVersion: number } | null> {
    const id = await this.redis.hget(this.keys.usernames(), username.toLowerCase());
    const hash = id ? await this.redis.hgetall(this.keys.user(id)) : {};
    const record = hash.id ? fromHash(hash) : undefined;
    // bcrypt would compare only its first 72 bytes, and no account has a longer one: it matches nobody.
    const possible = Buffer.byteLength(password) <= MAX_PASSWORD_BYTES;
    const ok = await this.passwords.compare(password, (possible && record?.passwordHash) || this.dummyHash);
    return ok && possible && record ? { user: toUser(record), sessionVersion: record.sessionVersion } : null;
  }

  async exists(username: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.usernames(), username.toLowerCase())) === 1;
  }

  list(page: PageRequest): Promise<Page<User>> {
    return loadPage(this.redis, this.keys.userIndex(), this.keys.user, (h) => toUser(fromHash(h)), page);
  }

  async update(id: string, patch: UpdateUserBody): Promise<User> {
    const fields: Record<string, string> = { updatedAt: new Date().toISOString() };
    if (patch.username !== undefined) fields.username = patch.username;
    if (patch.email !== undefined) fields.email = patch.email ?? '';
    if (patch.role !== undefined) fields.role = patch.role;
    if (patch.password !== undefined) fields.passwordHash = await this.passwords.hash(patch.password);
    const result = await this.redis.updateUser(
      this.keys.user(id),
      this.keys.usernames(),
      id,
      patch.username?.toLowerCase() ?? '',
      patch.password !== undefined ? '1' : '0',
      ...Object.entries(fields).flat(),
    );
    this.cache.changed(this.keys.user(id));
    if (result === -1) throw new UserNotFound();
    if (result === 0) throw new UsernameTaken();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    const deleted = await this.redis.deleteUser(this.keys.user(id), this.keys.usernames(), this.keys.userIndex(), id);
    this.cache.changed(this.keys.user(id));
    if (deleted === 0) throw new UserNotFound();
  }

  /** Creates the bootstrap admin unless that username exists (another instance may be doing the same). */
  async ensureAdmin(username: string, password: string): Promise<'created' | 'exists'> {
    if (await this.exists(username)) return 'exists';
    try {
      await this.create({ username, password, role: 'admin' });
      return 'created';
    } catch (err) {
      if (err instanceof UsernameTaken) return 'exists';
      throw err;
    }
  }
}

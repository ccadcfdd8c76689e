import type { Redis, Result } from 'ioredis';
import { createUser } from './create-user.js';
import { updateUser } from './update-user.js';
import { deleteUser } from './delete-user.js';
import { releaseIfEqual } from './release-if-equal.js';
import { countHits } from './count-hit.js';

/** Registered with defineCommand, which re-sends a script that a restarted or promoted node does not have. */
const scripts = { createUser, updateUser, deleteUser, releaseIfEqual, countHits };

export function defineScripts(redis: Redis): void {
  for (const [name, definition] of Object.entries(scripts)) redis.defineCommand(name, definition);
}

type Arg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    createUser(userKey: string, usernamesKey: string, indexKey: string, ...args: Arg[]): Result<0 | 1, Context>;
    updateUser(userKey: string, usernamesKey: string, ...args: Arg[]): Result<-1 | 0 | 1, Context>;
    deleteUser(userKey: string, usernamesKey: string, indexKey: string, userId: string): Result<0 | 1, Context>;
    releaseIfEqual(key: string, expected: string): Result<0 | 1, Context>;
    countHits(key: string, windowMs: number, hits: number): Result<[number, number], Context>;
  }
}

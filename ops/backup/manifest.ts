import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * manifest.json, the first file of every backup archive: where and when the snapshot was taken, what it holds,
 * and the checksum of the snapshot beside it. Written by backup.ts, checked field by field by a restore.
 */

export const MANIFEST_FORMAT = 'evergreen-backup';
export const MANIFEST_VERSION = 1;
/** The two files of an archive, in this order. */
export const ARCHIVE_ENTRIES = { manifest: 'manifest.json', snapshot: 'dump.rdb' } as const;

const Count = Type.Integer({ minimum: 0 });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const ManifestSchema = Type.Object({
  format: Type.Literal(MANIFEST_FORMAT),
  formatVersion: Type.Literal(MANIFEST_VERSION),
  /** When the snapshot was taken (ISO 8601, UTC). */
  createdAt: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' }),
  /** The service's KEY_PREFIX: the entities counted are the keys under it. */
  keyPrefix: Type.String({ minLength: 1 }),
  source: Type.Object({
    /** `local (STACK_DIR)` or `compose (project)`. */
    deployment: Type.String(),
    masterName: Type.String(),
    /** The master when the snapshot was asked for (host:port, as the Sentinels name it) and its run id. */
    master: Type.String(),
    masterRunId: Type.String(),
    /** The replica that made the snapshot. */
    replica: Type.String(),
    /** The replication history the snapshot belongs to and its place in it (the RDB's repl-id and repl-offset). */
    replicationId: Type.String(),
    replicationOffset: Count,
    /** The master's own offset when the snapshot was asked for: how far behind the replica was, in bytes. */
    masterOffset: Count,
  }),
  redis: Type.Object({
    /** The Redis that wrote the snapshot (its RDB's redis-ver). */
    version: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+' }),
    /** The RDB format version (10 for Redis 7.0). */
    rdbVersion: Count,
  }),
  /** Counted in the snapshot itself (counts.ts). */
  counts: Type.Object({
    users: Count,
    products: Count,
    purchases: Count,
    persistentKeys: Count,
    volatileKeys: Count,
  }),
  files: Type.Object({ [ARCHIVE_ENTRIES.snapshot]: Type.Object({ bytes: Count, sha256: Sha256 }) }),
});

export type Manifest = Static<typeof ManifestSchema>;

/** The manifest from manifest.json's text, or every reason it is not one. */
export function parseManifest(text: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`its ${ARCHIVE_ENTRIES.manifest} is not JSON (${(err as Error).message})`);
  }
  const format = (value as { format?: unknown } | null)?.format;
  if (format !== MANIFEST_FORMAT) {
    throw new Error(`its ${ARCHIVE_ENTRIES.manifest} is not an Evergreen backup's (format ${JSON.stringify(format)})`);
  }
  const version = (value as { formatVersion?: unknown }).formatVersion;
  if (version !== MANIFEST_VERSION) {
    throw new Error(
      `its manifest has format version ${JSON.stringify(version)}; this Evergreen reads ${MANIFEST_VERSION}`,
    );
  }
  if (!Value.Check(ManifestSchema, value)) {
    const problems = [...Value.Errors(ManifestSchema, value)].slice(0, 5).map((e) => `${e.path || '/'} ${e.message}`);
    throw new Error(`its manifest is damaged: ${problems.join('; ')}`);
  }
  return value;
}

/** major.minor.patch as numbers (a suffix such as "-rc1" ignored). */
const versionParts = (version: string) => (version.match(/^(\d+)\.(\d+)\.(\d+)/)?.slice(1) ?? []).map(Number);

/**
 * Why Redis `here` may not read a snapshot written by Redis `there`, if it may not: a newer minor release
 * writes a newer RDB format that older ones refuse. (The scratch load of the snapshot is the final judge.)
 */
export function versionProblem(there: string, rdbVersion: number, here: string): string | undefined {
  const [a = 0, b = 0] = versionParts(there);
  const [x = 0, y = 0] = versionParts(here);
  if (a < x || (a === x && b <= y)) return undefined;
  return (
    `it was made by Redis ${there} (RDB format ${rdbVersion}) and this machine runs Redis ${here}, which cannot ` +
    `read a newer release's snapshots: restore it where Redis ${a}.${b} or later runs`
  );
}

/**
 * The head of an RDB file: its format version ("REDIS0010") and the AUX fields Redis writes before the data
 * (redis-ver, ctime, and for a snapshot made for replication, repl-id and repl-offset). What the manifest of a
 * backup records and what a restore checks against this machine's Redis. Format: redis.io's RDB notes and
 * src/rdb.c (opcode 0xFA, length-encoded strings, integer and LZF string encodings).
 */

export interface RdbHeader {
  /** The RDB format version: 10 for Redis 7.0, 11 for 7.2, 12 for 7.4. */
  rdbVersion: number;
  /** Every AUX field, as strings (integer-encoded ones in decimal). */
  aux: Record<string, string>;
}

const MAGIC = 'REDIS';
const OPCODE_AUX = 0xfa;

export class RdbHeaderError extends Error {
  override name = 'RdbHeaderError';
}

/** Reads the version and AUX fields from the first bytes of an RDB file (a few hundred bytes are enough). */
export function parseRdbHeader(bytes: Buffer): RdbHeader {
  if (bytes.length < 9 || bytes.toString('latin1', 0, 5) !== MAGIC) {
    throw new RdbHeaderError('not an RDB file (it does not begin with "REDIS" and a version)');
  }
  const version = bytes.toString('latin1', 5, 9);
  if (!/^\d{4}$/.test(version)) throw new RdbHeaderError(`not an RDB file (version "${version}")`);
  const reader = new Reader(bytes, 9);
  const aux: Record<string, string> = {};
  while (reader.more() && reader.peek() === OPCODE_AUX) {
    reader.byte();
    const key = reader.string();
    aux[key] = reader.string();
  }
  return { rdbVersion: Number(version), aux };
}

class Reader {
  constructor(
    private readonly bytes: Buffer,
    private at: number,
  ) {}

  more = () => this.at < this.bytes.length;

  peek(): number {
    return this.need(1).readUInt8(this.at);
  }

  byte(): number {
    const value = this.peek();
    this.at += 1;
    return value;
  }

  /** A length-encoded string, or an integer or LZF-compressed one. */
  string(): string {
    const first = this.byte();
    const kind = first >> 6;
    if (kind !== 3) return this.take(this.length(first)).toString('utf8');
    switch (first & 0x3f) {
      case 0:
        return String(this.take(1).readInt8(0));
      case 1:
        return String(this.take(2).readInt16LE(0));
      case 2:
        return String(this.take(4).readInt32LE(0));
      case 3: {
        const compressed = this.length(this.byte());
        const length = this.length(this.byte());
        return lzfDecompress(this.take(compressed), length).toString('utf8');
      }
      default:
        throw new RdbHeaderError(`unknown string encoding ${first & 0x3f} at byte ${this.at - 1}`);
    }
  }

  private length(first: number): number {
    switch (first >> 6) {
      case 0:
        return first & 0x3f;
      case 1:
        return ((first & 0x3f) << 8) | this.byte();
      default:
        if (first === 0x80) return this.take(4).readUInt32BE(0);
        if (first === 0x81) return Number(this.take(8).readBigUInt64BE(0));
        throw new RdbHeaderError(`unknown length encoding 0x${first.toString(16)} at byte ${this.at - 1}`);
    }
  }

  private take(n: number): Buffer {
    const slice = this.need(n).subarray(this.at, this.at + n);
    this.at += n;
    return slice;
  }

  private need(n: number): Buffer {
    if (this.at + n > this.bytes.length) throw new RdbHeaderError('the RDB header is cut short');
    return this.bytes;
  }
}

/** LZF (liblzf, as Redis uses it): literal runs and back references into what is already decompressed. */
export function lzfDecompress(input: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  let i = 0;
  let o = 0;
  const fail = () => new RdbHeaderError('a compressed RDB string does not decompress');
  while (i < input.length) {
    const ctrl = input[i++] as number;
    if (ctrl < 32) {
      if (o + ctrl + 1 > length || i + ctrl + 1 > input.length) throw fail();
      input.copy(out, o, i, i + ctrl + 1);
      i += ctrl + 1;
      o += ctrl + 1;
      continue;
    }
    let run = ctrl >> 5;
    if (run === 7) run += input[i++] ?? 0;
    let ref = o - ((ctrl & 0x1f) << 8) - 1 - (input[i++] ?? 0);
    if (ref < 0 || o + run + 2 > length) throw fail();
    for (let n = 0; n < run + 2; n++) out[o++] = out[ref++] as number;
  }
  if (o !== length) throw fail();
  return out;
}

import fc from 'fast-check';

/**
 * The values hostile input is made of (test/helpers/fuzz-requests.ts puts them in requests): text that means
 * something to Redis, a shell or a parser, random and huge unicode, raw bytes, numbers JSON.stringify cannot
 * write, `__proto__`/`constructor` keys, any JSON value in place of a field's.
 */

/** Text that means something to Redis, a shell, a parser or a path. */
const TRICKY_TEXT = [
  '',
  ' ',
  '*',
  '?',
  '[a-z]',
  '\r\n',
  '*1\r\n$8\r\nFLUSHALL\r\n',
  'FLUSHALL',
  'a b',
  ' leading',
  'trailing ',
  '\0',
  'a\0b',
  '\x01\x02\x7f',
  '\t',
  '__proto__',
  'constructor',
  'prototype',
  '../../etc/passwd',
  '..%2f..%2f',
  '%00',
  '%',
  '$',
  '{}',
  '[]',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '0x10',
  "' OR '1'='1",
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '\u202e\u0301',
  '\ud83d\ude00',
  '\ud800',
  'é',
  '\uffff',
];

/** Any text: short and tricky, random unicode (lone surrogates included), raw bytes, or huge. */
export const text = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...TRICKY_TEXT) },
    { weight: 3, arbitrary: fc.string({ maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    {
      weight: 1,
      arbitrary: fc.string({ unit: fc.constantFrom('a', 'é', '\0', '😀', '*'), minLength: 200, maxLength: 5000 }),
    },
  );

/** A number as JSON text, including what JSON.stringify cannot write (NaN, huge exponents, 2^64). */
const RAW_NUMBERS = ['NaN', '-Infinity', '1e309', '-1e309', '18446744073709551616', '1e-400', '-0', '0.0', '1E3', '01'];

/** A JSON value, as the text that goes in the body (so that raw numbers and `__proto__` keys survive). */
export type Json = { raw: string };
export const raw = (text: string): Json => ({ raw: text });
export const json = (value: unknown): Json => raw(JSON.stringify(value) ?? 'null');

const hostileNumber: fc.Arbitrary<Json> = fc.oneof(
  fc.integer().map(json),
  fc.double().map((n) => raw(Number.isFinite(n) ? String(n) : 'null')),
  fc.constantFrom(-1, 0, 0.5, 1.5, 1001, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1e15, 1e21, Number.MAX_VALUE).map(json),
  fc.constantFrom(...RAW_NUMBERS).map(raw),
);

/** Any JSON value a client could send in place of a field's. */
export const hostileValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text().map(json),
    hostileNumber,
    fc.constantFrom(true, false, null).map(json),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => raw(`[${items.map((i) => i.raw).join(',')}]`)),
    fc.array(fc.tuple(fieldName(), tie('value')), { maxLength: 4 }).map((entries) => raw(objectText(entries))),
  ),
})).value;

/** Field names: the contract's, the ones a client may never set, prototype keys and anything else. */
export function fieldName(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      'username',
      'password',
      'email',
      'role',
      'id',
      'createdAt',
      'updatedAt',
      'passwordHash',
      'name',
      'description',
      'priceCents',
      'stock',
      'productId',
      'quantity',
      'unitPriceCents',
      'totalCents',
      'userId',
      'items',
      'status',
      'cancelledAt',
      'details',
      '__proto__',
      'constructor',
      'prototype',
    ),
    text(20),
  );
}

export function objectText(entries: [string, Json][]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value.raw}`).join(',')}}`;
}

/** encodeURIComponent, which throws on a lone surrogate: then the UTF-16 code units as %uXXXX-free bytes. */
export function percentEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

/** A header value: mostly printable (so the request reaches the API), sometimes raw bytes HTTP forbids. */
export function headerValue(maxLength = 60): fc.Arbitrary<string> {
  return fc.oneof(
    // printable ASCII only (0x20-0x7E)
    { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength }) },
    { weight: 2, arbitrary: fc.constantFrom('*', 'a b', '__proto__', '-1', '%00', 'x'.repeat(256), 'é') },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'binary', maxLength }).map((s) =>
        Buffer.from(s, 'utf8')
          .toString('latin1')
          .replace(/[\r\n]/g, ''),
      ),
    },
  );
}

import fc from 'fast-check';
import type { RawRequest } from './fuzz-http.js';
import {
  fieldName,
  headerValue,
  hostileValue,
  json,
  objectText,
  percentEncode,
  raw,
  text,
  type Json,
} from './fuzz-values.js';

/**
 * Generated requests for every route of the contract: valid ones, and the hostile variants an attacker sends
 * (wrong types, huge and unicode strings, NUL and control characters, `__proto__`/`constructor` keys,
 * negative/float/NaN/huge numbers, Redis-looking text, spaces in ids, other users' ids, bad tokens), baskets
 * (huge, empty, duplicate lines, too many units, hostile lines) and the catalog search's parameters included.
 */

/** The records and tokens the generated requests point at (refreshed by the suite when a request changes them). */
export interface FuzzFixtures {
  customer: { id: string; token: string };
  other: { id: string; token: string };
  admin: { id: string; token: string };
  productId: string;
  /** A second product in stock, so that a basket can have two good lines. */
  secondProductId: string;
  /** A product with no stock: a purchase of it is 409 OUT_OF_STOCK with details. */
  soldOutProductId: string;
  purchaseId: string;
  otherPurchaseId: string;
  /** The last purchase a fuzzed request cancelled, once there is one: a cancellation of it is a repeat. */
  cancelledPurchaseId?: string;
  /** nextCursor of real catalog pages (the plain list, a search), sent with other queries too. */
  cursors: string[];
}

type BodyKind = 'register' | 'login' | 'userPatch' | 'product' | 'productPatch' | 'purchase';
type IdKind = 'user' | 'product' | 'purchase';

export interface RouteSpec {
  method: string;
  /** `:id` is filled from the id kind's fixtures or a hostile string. */
  path: string;
  id?: IdKind;
  body?: BodyKind;
  /** A page: ?limit=&cursor= (and userId for purchases). */
  page?: boolean;
  /** The catalog search: ?q=&minPriceCents=&maxPriceCents=&inStock=&sort=. */
  search?: boolean;
}

export const ROUTES: RouteSpec[] = [
  { method: 'POST', path: '/api/v1/auth/register', body: 'register' },
  { method: 'POST', path: '/api/v1/auth/login', body: 'login' },
  { method: 'POST', path: '/api/v1/auth/logout' },
  { method: 'GET', path: '/api/v1/users/me' },
  { method: 'GET', path: '/api/v1/users', page: true },
  { method: 'GET', path: '/api/v1/users/:id', id: 'user' },
  { method: 'PATCH', path: '/api/v1/users/:id', id: 'user', body: 'userPatch' },
  { method: 'DELETE', path: '/api/v1/users/:id', id: 'user' },
  { method: 'GET', path: '/api/v1/products', page: true, search: true },
  { method: 'GET', path: '/api/v1/products/:id', id: 'product' },
  { method: 'POST', path: '/api/v1/products', body: 'product' },
  { method: 'PATCH', path: '/api/v1/products/:id', id: 'product', body: 'productPatch' },
  { method: 'DELETE', path: '/api/v1/products/:id', id: 'product' },
  { method: 'POST', path: '/api/v1/purchases', body: 'purchase' },
  { method: 'GET', path: '/api/v1/purchases', page: true },
  { method: 'GET', path: '/api/v1/purchases/:id', id: 'purchase' },
  { method: 'POST', path: '/api/v1/purchases/:id/cancel', id: 'purchase' },
];

/** The products a purchase line may name: in stock, sold out, and ids of other kinds. */
const lineProductId = (fx: FuzzFixtures) =>
  fc
    .constantFrom(fx.productId, fx.productId, fx.secondProductId, fx.soldOutProductId, fx.purchaseId, fx.customer.id)
    .map(json);

const lineText = (fields: [string, Json][]) => raw(objectText(fields));

/** A good basket: 1–3 lines of distinct products, a few units each. */
function validItems(fx: FuzzFixtures): fc.Arbitrary<Json> {
  return fc
    .uniqueArray(
      fc.constantFrom(fx.productId, fx.secondProductId, fx.soldOutProductId, fx.purchaseId, fx.customer.id),
      { minLength: 1, maxLength: 3 },
    )
    .chain((ids) =>
      fc.tuple(...ids.map(() => fc.integer({ min: 1, max: 300 }))).map((quantities) =>
        raw(
          `[${ids
            .map((id, i) =>
              lineText([
                ['productId', json(id)],
                ['quantity', json(quantities[i])],
              ]),
            )
            .join(',')}]`,
        ),
      ),
    );
}

/**
 * `items` as an attacker sends it: empty, over 50 lines, the same product twice, over 1,000 units in all, lines
 * with hostile values or extra and prototype keys, lines that are not objects, or not an array at all.
 */
function hostileItems(fx: FuzzFixtures): fc.Arbitrary<Json> {
  const line = (productId: Json, quantity: Json) =>
    lineText([
      ['productId', productId],
      ['quantity', quantity],
    ]);
  const good = line(json(fx.productId), json(1));
  const list = (lines: Json[]) => raw(`[${lines.map((l) => l.raw).join(',')}]`);
  const hostileLine = fc.oneof(
    fc.tuple(lineProductId(fx), hostileValue).map(([p, q]) => line(p, q)),
    fc.tuple(hostileValue, fc.integer({ min: 1, max: 10 }).map(json)).map(([p, q]) => line(p, q)),
    fc.tuple(lineProductId(fx), fieldName(), hostileValue).map(([p, k, v]) =>
      lineText([
        ['productId', p],
        ['quantity', json(1)],
        [k, v],
      ]),
    ),
    fc.constantFrom('__proto__', 'constructor').map((k) => lineText([[k, raw(line(json(fx.productId), json(1)).raw)]])),
    fc.array(fc.tuple(fieldName(), hostileValue), { maxLength: 3 }).map((entries) => lineText(entries)),
    hostileValue,
  );
  return fc.oneof(
    fc.constant(list([])),
    // over 50 lines, each product once (ids nobody has), and a huge array of one product
    fc
      .integer({ min: 51, max: 120 })
      .map((n) => list(Array.from({ length: n }, (_, i) => line(json(`${fx.productId.slice(0, -3)}${i}`), json(1))))),
    fc.integer({ min: 500, max: 1500 }).map((n) => list(Array.from({ length: n }, () => good))),
    // the same product twice, in valid quantities
    fc
      .tuple(fc.constantFrom(fx.productId, fx.secondProductId), fc.integer({ min: 1, max: 400 }))
      .map(([id, q]) =>
        list([line(json(id), json(q)), line(json(fx.secondProductId), json(1)), line(json(id), json(q))]),
      ),
    // over 1,000 units in all, each line within its bound
    fc
      .tuple(fc.integer({ min: 501, max: 1000 }), fc.integer({ min: 501, max: 1000 }))
      .map(([a, b]) => list([line(json(fx.productId), json(a)), line(json(fx.secondProductId), json(b))])),
    fc.array(hostileLine, { minLength: 1, maxLength: 4 }).map((lines) => list(lines)),
    fc.tuple(validItems(fx), hostileLine).map(([items, bad]) => raw(`${items.raw.slice(0, -1)},${bad.raw}]`)),
    hostileValue,
  );
}

/** A valid value for each field a body may have, so that a good share of requests get past validation. */
function validFields(kind: BodyKind, fx: FuzzFixtures): fc.Arbitrary<Record<string, Json>> {
  const username = fc.stringMatching(/^[a-z0-9_.-]{3,24}$/).map(json);
  const password = fc.string({ minLength: 8, maxLength: 40, unit: 'grapheme-ascii' }).map(json);
  const cents = fc.integer({ min: 0, max: 1_000_000_000_000 }).map(json);
  const record = (fields: Record<string, fc.Arbitrary<Json>>, required: string[]) =>
    fc.record(fields, { requiredKeys: required });
  switch (kind) {
    case 'register':
      return record({ username, password, email: fc.emailAddress().map(json) }, ['username', 'password']);
    case 'login':
      return record({ username, password }, ['username', 'password']);
    case 'userPatch':
      return record({ username, password, email: fc.emailAddress().map(json) }, []);
    case 'product':
    case 'productPatch':
      return record(
        {
          name: fc.string({ minLength: 1, maxLength: 60 }).map(json),
          description: fc.string({ maxLength: 100 }).map(json),
          priceCents: cents,
          stock: fc.integer({ min: 0, max: 1_000_000 }).map(json),
        },
        kind === 'product' ? ['name', 'priceCents', 'stock'] : [],
      );
    case 'purchase':
      // The one-product body of old, or a basket (whose `items` is sometimes hostile as a whole).
      return fc.oneof(
        record(
          {
            productId: fc.constantFrom(fx.productId, fx.soldOutProductId, fx.purchaseId, fx.customer.id).map(json),
            quantity: fc.integer({ min: 1, max: 1000 }).map(json),
          },
          ['productId', 'quantity'],
        ),
        record({ items: validItems(fx) }, ['items']),
        record({ items: hostileItems(fx) }, ['items']),
      );
  }
}

/** A body: valid, valid with fields broken or added, another JSON value, or not JSON at all. */
function bodyText(kind: BodyKind | undefined, fx: FuzzFixtures): fc.Arbitrary<string | undefined> {
  const mutated = kind
    ? fc
        .tuple(
          validFields(kind, fx),
          fc.array(fc.tuple(fieldName(), hostileValue), { maxLength: 3 }),
          fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { maxLength: 2 }),
        )
        .map(([fields, extra, drops]) => {
          const entries = Object.entries(fields);
          for (const [at, drop] of drops) if (drop) entries.splice(at % Math.max(entries.length, 1), 1);
          return objectText([...entries, ...extra]);
        })
    : fc.constant(undefined);
  return fc.oneof(
    {
      weight: kind ? 6 : 1,
      arbitrary: kind ? validFields(kind, fx).map((f) => objectText(Object.entries(f))) : fc.constant(undefined),
    },
    { weight: kind ? 6 : 1, arbitrary: mutated },
    { weight: 2, arbitrary: hostileValue.map((v) => v.raw) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '{"a":1,}',
        '{"a":1}{"b":2}',
        "{'a':1}",
        '\0',
        '[]',
        '"x"',
        `${'['.repeat(5000)}`,
      ),
    },
    { weight: 1, arbitrary: text(200) },
  );
}

/** An id in a path: a fixture's (own, another user's, another kind's), a near miss, or hostile text. */
function pathId(kind: IdKind, fx: FuzzFixtures): fc.Arbitrary<string> {
  const own = { user: fx.customer.id, product: fx.productId, purchase: fx.purchaseId }[kind];
  const others = [fx.other.id, fx.admin.id, fx.otherPurchaseId, fx.productId, fx.purchaseId];
  if (kind === 'purchase' && fx.cancelledPurchaseId) others.push(fx.cancelledPurchaseId, fx.cancelledPurchaseId);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(encodeURIComponent(own)) },
    { weight: 2, arbitrary: fc.constantFrom(...others).map(encodeURIComponent) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(`${own} `, ` ${own}`, own.toUpperCase(), `${own}*`, own.slice(0, -1), `${own}/x`)
        .map(encodeURIComponent),
    },
    { weight: 3, arbitrary: text().map(percentEncode) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }) },
  );
}

function query(route: RouteSpec, fx: FuzzFixtures): fc.Arbitrary<string> {
  const param = (name: string, value: fc.Arbitrary<string>) => value.map((v) => `${name}=${percentEncode(v)}`);
  const limit = fc.oneof(
    fc.integer({ min: 1, max: 100 }).map(String),
    fc.constantFrom('0', '-1', '101', '1.5', '1e3', 'NaN', '', ' 5', '99999999999999999999', '0x10'),
    text(),
  );
  const cents = fc.oneof(
    fc.integer({ min: 0, max: 100_000 }).map(String),
    fc.constantFrom(
      '-1',
      '0',
      '1.5',
      '1e3',
      '1e309',
      'NaN',
      '',
      ' 5',
      '99999999999999999999',
      '0x10',
      '1999',
      '1000000000000',
    ),
    fc.integer().map(String),
    text(),
  );
  const search = route.search ? 2 : 0;
  const params = fc.array(
    fc.oneof(
      { weight: route.page ? 3 : 0, arbitrary: param('limit', limit) },
      { weight: route.page ? 2 : 0, arbitrary: param('cursor', text(300)) },
      // a real cursor, sent with whatever query it goes with (most often another's)
      {
        weight: route.page && fx.cursors.length > 0 ? 2 : 0,
        arbitrary: param('cursor', fc.constantFrom(...fx.cursors, 'x')),
      },
      { weight: route.page && !route.search ? 1 : 0, arbitrary: param('userId', text()) },
      {
        weight: search * 2,
        arbitrary: param(
          'q',
          fc.oneof(fc.constantFrom('fuzz', 'product', 'FUZZ', 'fuzz product', 'fu', 'a'.repeat(101)), text(150)),
        ),
      },
      { weight: search, arbitrary: param('minPriceCents', cents) },
      { weight: search, arbitrary: param('maxPriceCents', cents) },
      {
        weight: search,
        arbitrary: param('inStock', fc.oneof(fc.constantFrom('true', 'false', 'TRUE', '1', '0', 'yes', ''), text())),
      },
      {
        weight: search,
        arbitrary: param(
          'sort',
          fc.oneof(
            fc.constantFrom('newest', 'price', '-price', 'name', '-name', '+price', 'cheapest', 'PRICE', ''),
            text(),
          ),
        ),
      },
      {
        weight: search,
        arbitrary: fc.constantFrom(
          'sort=price&sort=name',
          'q=a&q=b',
          'inStock=true&inStock=false',
          'minPriceCents=5000&maxPriceCents=10',
          'minPriceCents[]=1',
          'q[__proto__]=1',
          'sort[0]=price',
          '__proto__=x',
          'q=%00',
          'q=*',
          'q=%E2%80%AE',
        ),
      },
      { weight: 1, arbitrary: fc.tuple(text(10), text(10)).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '__proto__[x]=1',
          'constructor.prototype.x=1',
          'limit',
          'limit=1&limit=2',
          '&&',
          '=',
        ),
      },
    ),
    { maxLength: 4 },
  );
  return params.map((ps) => (ps.length ? `?${ps.join('&')}` : ''));
}

const BEARER_GARBAGE = [
  'Bearer',
  'Bearer ',
  'Basic YWRtaW46YWRtaW4=',
  // alg none, the admin role claimed
  'Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.',
  'Bearer a.b.c',
  'bearer x',
];

function headers(route: RouteSpec, fx: FuzzFixtures, body: string | undefined): fc.Arbitrary<[string, string][]> {
  const token = (t: string) => `Bearer ${t}`;
  const authorization = fc.oneof(
    { weight: 4, arbitrary: fc.constant(token(fx.customer.token)) },
    { weight: 3, arbitrary: fc.constant(token(fx.admin.token)) },
    { weight: 1, arbitrary: fc.constant(token(fx.other.token)) },
    { weight: 1, arbitrary: fc.constantFrom(...BEARER_GARBAGE) },
    // a real token, one character changed
    {
      weight: 1,
      arbitrary: fc
        .nat()
        .map((i) =>
          token(
            fx.customer.token.replace(/./g, (c, at) =>
              at === i % fx.customer.token.length ? (c === 'a' ? 'b' : 'a') : c,
            ),
          ),
        ),
    },
    { weight: 1, arbitrary: headerValue().map(token) },
  );
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'application/json; charset=utf-8',
        'application/json; charset=latin1',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/json, text/plain',
        '',
        '*/*',
      ),
    },
  );
  return fc
    .record(
      {
        authorization,
        contentType,
        idempotencyKey: headerValue(300),
        extra: fc.array(
          fc.tuple(
            fc.constantFrom(
              'X-Forwarded-For',
              'X-Request-Id',
              'Accept',
              'Origin',
              'X-Http-Method-Override',
              'Cookie',
              'Range',
            ),
            headerValue(),
          ),
          { maxLength: 2 },
        ),
      },
      { requiredKeys: [] },
    )
    .map(({ authorization, contentType, idempotencyKey, extra }) => {
      const list: [string, string][] = [];
      if (authorization !== undefined) list.push(['Authorization', authorization]);
      if (body !== undefined && contentType !== undefined) list.push(['Content-Type', contentType]);
      if (route.body === 'purchase' && idempotencyKey !== undefined) list.push(['Idempotency-Key', idempotencyKey]);
      return [...list, ...(extra ?? [])];
    });
}

/** A method: the route's own mostly, else another one (HEAD, OPTIONS, one nobody defines). */
function method(route: RouteSpec): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(route.method) },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
    { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'FOO', 'CONNECT') },
  );
}

export interface FuzzRequest extends RawRequest {
  route: RouteSpec;
}

/** One request for `route`, against the fixtures as they are now. */
export function requestFor(route: RouteSpec, fx: () => FuzzFixtures): fc.Arbitrary<FuzzRequest> {
  return fc.constant(null).chain(() => {
    const fixtures = fx();
    const id = route.id ? pathId(route.id, fixtures) : fc.constant('');
    return fc
      .tuple(method(route), id, query(route, fixtures), bodyText(route.body, fixtures))
      .chain(([m, i, q, body]) =>
        headers(route, fixtures, body).map((hs) => ({
          route,
          method: m,
          target: `${route.path.replace(':id', i)}${q}`,
          headers: hs,
          body,
        })),
      );
  });
}

/** Paths no route has, under /api/ and elsewhere. */
export function strayRequest(): fc.Arbitrary<FuzzRequest> {
  const segment = text(30).map(percentEncode);
  return fc
    .tuple(
      fc.constantFrom('/api/v1/', '/api/', '/api/v2/', '/', '/api/v1/users/me/'),
      fc.array(segment, { minLength: 1, maxLength: 4 }),
      fc.constantFrom('GET', 'POST', 'DELETE'),
    )
    .map(([base, segments, m]) => ({
      route: { method: m, path: '(no route)' },
      method: m,
      target: `${base}${segments.join('/')}`,
      headers: [],
    }));
}

import t from 'tap';
import { keySchema } from '../src/redis/keys.js';
import {
  SEP,
  idOfMember,
  indexChanges,
  indexEntries,
  nameMatches,
  priceMember,
  wordMembers,
  words,
} from '../src/stores/catalog-index.js';
import {
  compareMembers,
  decodeSearchCursor,
  encodeSearchCursor,
  normalizeQuery,
  queryFingerprint,
} from '../src/stores/catalog-query.js';
import { encodeCursor } from '../src/stores/pagination.js';

const keys = keySchema('t:');
const ID = '01a2008c-7e56-75f1-bdc0-e17c0f4716ed';
const kettle = { id: ID, name: 'Blue Steel-Kettle', priceCents: 2599, stock: 3 };

t.test('a name splits into lower-cased words of letters and digits', async (t) => {
  t.same(words('Blue Steel-Kettle, 2L'), ['blue', 'steel', 'kettle', '2l']);
  t.same(words('Café NOIR'), ['café', 'noir']);
  t.same(words('  --  '), []);
});

t.test('q matches the start of any word, and several words as a phrase', async (t) => {
  t.ok(nameMatches('Blue Steel-Kettle', 'ket'));
  t.ok(nameMatches('Blue Steel-Kettle', 'blue'));
  t.ok(nameMatches('Blue Steel-Kettle', 'steel ke'));
  t.notOk(nameMatches('Blue Steel-Kettle', 'ettle'), 'not inside a word');
  t.notOk(nameMatches('Blue Steel-Kettle', 'blue ke'), 'a phrase keeps its words in a row');
});

t.test('a product has a price, a name, a word entry per word and an in-stock entry', async (t) => {
  t.same(wordMembers(kettle.name, ID), [
    `blue steel kettle${SEP}${ID}`,
    `steel kettle${SEP}${ID}`,
    `kettle${SEP}${ID}`,
  ]);
  t.equal(priceMember(2599, ID), `0000000002599${SEP}${ID}`);
  t.ok(compareMembers(priceMember(999, ID), priceMember(2599, ID)) < 0, 'padded prices sort as numbers');
  const entries = indexEntries(keys, kettle);
  t.same(
    entries.map(([key]) => key),
    ['t:products:by-price', 't:products:by-name', ...Array(3).fill('t:products:by-word'), 't:products:in-stock'],
  );
  t.ok(entries.every(([, member]) => idOfMember(member) === ID));
  t.notOk(
    indexEntries(keys, { ...kettle, stock: 0 }).some(([key]) => key === keys.productsInStock()),
    'sold out: no in-stock entry',
  );
});

t.test('an update removes only the entries that changed and adds the new ones', async (t) => {
  const { remove, add } = indexChanges(keys, kettle, { ...kettle, name: 'Blue Teapot', stock: 0 });
  t.same(remove.map(([, m]) => m).sort(), [
    ID,
    `blue steel kettle${SEP}${ID}`,
    `blue steel-kettle${SEP}${ID}`,
    `kettle${SEP}${ID}`,
    `steel kettle${SEP}${ID}`,
  ]);
  t.same(add.map(([, m]) => m).sort(), [`blue teapot${SEP}${ID}`, `blue teapot${SEP}${ID}`, `teapot${SEP}${ID}`]);
  t.same(indexChanges(keys, kettle, { ...kettle, stock: 9 }), { remove: [], add: [] }, 'stock 3 → 9: nothing');
});

t.test('a query normalizes: no parameter (or only the defaults) is the plain catalog', async (t) => {
  t.equal(normalizeQuery({}), undefined);
  t.equal(normalizeQuery({ inStock: 'false' }), undefined);
  t.same(normalizeQuery({ sort: 'newest' }), { sort: 'newest' }, 'an explicit newest is a search: newest first');
  t.same(normalizeQuery({ q: '  Blue   KETTLE ' }), { q: 'blue kettle', sort: 'newest' });
  t.throws(() => normalizeQuery({ q: '--' }), { code: 'VALIDATION_ERROR' });
  t.throws(() => normalizeQuery({ minPriceCents: 5, maxPriceCents: 4 }), { code: 'VALIDATION_ERROR' });
  const a = normalizeQuery({ q: 'Blue kettle', sort: 'price' })!;
  const b = normalizeQuery({ q: 'blue-kettle', sort: 'price' })!;
  t.equal(queryFingerprint(a), queryFingerprint(b), 'two spellings of one search');
  t.not(queryFingerprint(a), queryFingerprint({ ...a, sort: '-price' }));
});

t.test('a search cursor round-trips, is opaque and bound to its query', async (t) => {
  const fp = queryFingerprint({ q: 'blue', sort: 'price' });
  const member = priceMember(2599, ID);
  const cursor = encodeSearchCursor(fp, member);
  t.notMatch(cursor, /blue|2599/);
  t.equal(decodeSearchCursor(cursor, fp, 'price'), member);
  const other = queryFingerprint({ q: 'blu', sort: 'price' });
  t.throws(() => decodeSearchCursor(cursor, other, 'price'), { code: 'INVALID_CURSOR', statusCode: 400 });
  t.throws(() => decodeSearchCursor(cursor, fp, 'newest'), { code: 'INVALID_CURSOR' }, 'a member of another order');
  t.throws(() => decodeSearchCursor(encodeCursor(ID), fp, 'newest'), { code: 'INVALID_CURSOR' }, 'a plain cursor');
  t.throws(() => decodeSearchCursor('!!', fp, 'newest'), { code: 'INVALID_CURSOR' });
});

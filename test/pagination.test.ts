import t from 'tap';
import { decodeCursor, encodeCursor } from '../src/stores/pagination.js';
import { fingerprint } from '../src/stores/idempotency.js';

t.test('a cursor round-trips and is opaque', async (t) => {
  const id = '01a2008c-7e56-75f1-bdc0-e17c0f4716ed';
  const cursor = encodeCursor(id);
  t.not(cursor, id);
  t.equal(decodeCursor(cursor), id);
});

t.test('a forged or damaged cursor is a 400 INVALID_CURSOR', async (t) => {
  for (const bad of ['nonsense', encodeCursor('../../etc'), encodeCursor('x'.repeat(36))]) {
    t.throws(() => decodeCursor(bad), { code: 'INVALID_CURSOR', statusCode: 400 }, bad);
  }
});

t.test('the idempotency fingerprint tells bodies apart', async (t) => {
  t.equal(fingerprint({ productId: 'a', quantity: 1 }), fingerprint({ productId: 'a', quantity: 1 }));
  t.not(fingerprint({ productId: 'a', quantity: 1 }), fingerprint({ productId: 'a', quantity: 2 }));
  t.not(fingerprint({ productId: 'a1', quantity: 1 }), fingerprint({ productId: 'a', quantity: 11 }));
});

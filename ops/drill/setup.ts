import { randomBytes } from 'node:crypto';
import { expectAnswer } from './http.js';
import type { Buyer } from './purchase-op.js';

export interface DrillProduct {
  id: string;
  priceCents: number;
  initialStock: number;
}

export interface DrillSetup {
  /** Tells this drill's users, products and keys apart from anything else in the store. */
  runId: string;
  buyers: Buyer[];
  products: DrillProduct[];
}

const TIMEOUT_MS = 10_000;

/** Through the public API: the admin creates the drill's products, and each client registers its own user. */
export async function prepareDrill(
  base: string,
  admin: { username: string; password: string },
  counts: { clients: number; products: number; initialStock: number },
): Promise<DrillSetup> {
  const runId = randomBytes(4).toString('hex');
  const { token } = await expectAnswer(base, 'POST', '/api/v1/auth/login', 200, { body: admin, timeoutMs: TIMEOUT_MS });
  const products: DrillProduct[] = [];
  for (let i = 0; i < counts.products; i++) {
    const priceCents = 100 * (i + 1);
    const body = { name: `Drill ${runId} #${i + 1}`, priceCents, stock: counts.initialStock };
    const product = await expectAnswer(base, 'POST', '/api/v1/products', 201, { token, body, timeoutMs: TIMEOUT_MS });
    products.push({ id: product.id, priceCents, initialStock: counts.initialStock });
  }
  const buyers = await Promise.all(
    Array.from({ length: counts.clients }, async (_, i): Promise<Buyer> => {
      const credentials = { username: `drill-${runId}-${i + 1}`, password: `drill-${runId}-password` };
      const request = { body: credentials, timeoutMs: TIMEOUT_MS };
      await expectAnswer(base, 'POST', '/api/v1/auth/register', 201, request);
      const login = await expectAnswer(base, 'POST', '/api/v1/auth/login', 200, request);
      return { id: login.user.id, token: login.token };
    }),
  );
  return { runId, buyers, products };
}

import { jsonRequest } from './http.js';

/** A small demo catalog, so that a fresh stack has something to buy. */
const DEMO_CATALOG = [
  { name: 'Evergreen mug', description: 'Stoneware, 350 ml', priceCents: 1200, stock: 50 },
  { name: 'Trail notebook', description: 'A5, dotted, 120 pages', priceCents: 900, stock: 100 },
  { name: 'Canvas tote', description: 'Heavy cotton, natural', priceCents: 1800, stock: 40 },
  { name: 'Desk plant', description: 'Pothos in a 12 cm pot', priceCents: 2400, stock: 20 },
  { name: 'Limited print', description: 'Signed, numbered: only 5 made', priceCents: 7500, stock: 5 },
];

const TIMEOUT_MS = 5000;

/**
 * Through the API, as the admin: adds the demo catalog only when the catalog is empty, so a restart
 * (or a catalog the user changed) is left alone. Returns how many products it added.
 */
export async function seedDemoCatalog(baseUrl: string, admin: { username: string; password: string }): Promise<number> {
  const existing = await api<{ items: unknown[] }>(baseUrl, 'GET', '/api/v1/products?limit=1');
  if (existing.items.length > 0) return 0;
  const { token } = await api<{ token: string }>(baseUrl, 'POST', '/api/v1/auth/login', admin);
  for (const product of DEMO_CATALOG) await api(baseUrl, 'POST', '/api/v1/products', product, token);
  return DEMO_CATALOG.length;
}

async function api<T>(baseUrl: string, method: string, url: string, body?: unknown, token?: string): Promise<T> {
  const res = await jsonRequest(baseUrl, method, url, { body, token, timeoutMs: TIMEOUT_MS });
  if (res.status >= 300) {
    throw new Error(`seeding the demo catalog: ${method} ${url} answered ${res.status} ${res.text}`);
  }
  return res.body as T;
}

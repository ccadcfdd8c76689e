/** Lua for wrk's request(): every value the harness passes in is JSON-quoted, so ids and tokens stay literal. */

const list = (name: string, values: string[]) => `local ${name} = {${values.map((v) => JSON.stringify(v)).join(',')}}`;

/**
 * What every keyed purchase scenario shares: the buyers' tokens, the products, and purchase_headers() — a random
 * buyer and a fresh Idempotency-Key per request (the run id, the thread and a counter), as a careful client sends.
 */
const keyedPurchases = (runId: string, tokens: string[], productIds: string[]) => `${list('tokens', tokens)}
${list('products', productIds)}
local counter = 0
local thread_id = 0
function init(args)
  thread_id = math.random(1, 1000000)
end
local function purchase_headers()
  counter = counter + 1
  return {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["Idempotency-Key"] = string.format("bench-%s-%d-%d", ${JSON.stringify(runId)}, thread_id, counter),
  }
end`;

/** GET one of the paths, spread over them at random. */
export function getAny(paths: string[]): string {
  return `${list('paths', paths)}
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end`;
}

/**
 * POST /api/v1/purchases of one unit: buyer and product at random, a fresh Idempotency-Key each time
 * (the run id, the thread and a counter), as a careful client sends.
 */
export function purchases(runId: string, tokens: string[], productIds: string[]): string {
  return `${keyedPurchases(runId, tokens, productIds)}
request = function()
  local body = string.format('{"productId":"%s","quantity":1}', products[math.random(#products)])
  return wrk.format("POST", "/api/v1/purchases", purchase_headers(), body)
end`;
}

/** POST /api/v1/auth/login with one of the accounts (bcrypt on every request). */
export function logins(accounts: { username: string; password: string }[]): string {
  return `${list(
    'bodies',
    accounts.map((a) => JSON.stringify(a)),
  )}
request = function()
  return wrk.format("POST", "/api/v1/auth/login", {["Content-Type"] = "application/json"}, bodies[math.random(#bodies)])
end`;
}

/**
 * POST /api/v1/purchases of a basket: `size` distinct products at random (spread: two baskets rarely share one),
 * one unit each, a random buyer, a fresh Idempotency-Key each time.
 */
export function baskets(runId: string, tokens: string[], productIds: string[], size: number): string {
  if (productIds.length < size) throw new Error(`a basket of ${size} needs as many products`);
  return `${keyedPurchases(runId, tokens, productIds)}
request = function()
  local picked, lines = {}, {}
  while #lines < ${size} do
    local i = math.random(#products)
    if not picked[i] then
      picked[i] = true
      table.insert(lines, string.format('{"productId":"%s","quantity":1}', products[i]))
    end
  end
  return wrk.format("POST", "/api/v1/purchases", purchase_headers(), '{"items":[' .. table.concat(lines, ",") .. ']}')
end`;
}

/**
 * purchases() that also appends `<purchase id> <buyer id>` of every 201 to `file` (through report.lua's
 * on_response hook): the purchases the cancel scenario then cancels, each by its own buyer.
 */
export function purchasesRecorded(runId: string, tokens: string[], productIds: string[], file: string): string {
  return `${purchases(runId, tokens, productIds)}
local recorded = nil
function on_response(status, headers, body)
  if status ~= 201 then return end
  local id = string.match(body, '"id":%s*"([^"]+)"')
  local user = string.match(body, '"userId":%s*"([^"]+)"')
  if id and user then
    recorded = recorded or assert(io.open(${JSON.stringify(file)}, "a"))
    recorded:write(id, " ", user, "\\n")
    recorded:flush()
  end
end`;
}

/** An id no purchase has: what the cancel scenario asks for once it has cancelled every recorded purchase. */
export const NO_PURCHASE = '00000000-0000-7000-8000-000000000000';

/**
 * POST /api/v1/purchases/:id/cancel of each purchase recorded in `file` (purchasesRecorded's lines) in turn, by
 * its buyer: every request a first cancellation. Past the last one, the cancel of an unknown id (404): an
 * unexpected answer that says the preparation bought too few, never a silent repeat (which costs less).
 */
export function cancels(userIds: string[], tokens: string[], file: string): string {
  const byUser = userIds.map((id, i) => `[${JSON.stringify(id)}] = ${JSON.stringify(tokens[i] ?? '')}`);
  return `local tokens = {${byUser.join(',')}}
local pending = {}
local next_one = 0
function init(args)
  for line in io.lines(${JSON.stringify(file)}) do
    local id, user = string.match(line, "^(%S+) (%S+)$")
    if id and tokens[user] then table.insert(pending, {id, tokens[user]}) end
  end
end
request = function()
  next_one = next_one + 1
  local purchase = pending[next_one] or {${JSON.stringify(NO_PURCHASE)}, ${JSON.stringify(tokens[0] ?? '')}}
  local headers = {["Authorization"] = "Bearer " .. purchase[2]}
  return wrk.format("POST", "/api/v1/purchases/" .. purchase[1] .. "/cancel", headers, "")
end`;
}

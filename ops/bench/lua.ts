/** Lua for wrk's request(): every value the harness passes in is JSON-quoted, so ids and tokens stay literal. */

const list = (name: string, values: string[]) => `local ${name} = {${values.map((v) => JSON.stringify(v)).join(',')}}`;

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
  return `${list('tokens', tokens)}
${list('products', productIds)}
local counter = 0
local thread_id = 0
function init(args)
  thread_id = math.random(1, 1000000)
end
request = function()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["Idempotency-Key"] = string.format("bench-%s-%d-%d", ${JSON.stringify(runId)}, thread_id, counter),
  }
  local body = string.format('{"productId":"%s","quantity":1}', products[math.random(#products)])
  return wrk.format("POST", "/api/v1/purchases", headers, body)
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

import { Redis } from 'ioredis';
import type { DeploymentView, Member } from '../deployment/deployment.js';

/**
 * Redis commands per request, from `INFO commandstats` on every node (master and replicas) before and after a
 * scenario's load. The pure part (parse, diff, flags, classify, per request) is unit-tested without a server.
 */

/** Calls by command, as INFO commandstats names them (Redis 7.0): `hgetall`, subcommands as `client|tracking`. */
export type CommandCalls = Record<string, number>;

/** Each command's flags (`write`, `readonly`, …) by name, subcommands included, as COMMAND INFO gives them. */
export type CommandFlags = Record<string, string[]>;

/** Per request (divided by the scenario's completed requests) on the master, on the replicas summed. */
export interface RedisPerRequest {
  /** The completed requests the counts are divided by, and the time between the two snapshots. */
  requests: number;
  seconds: number;
  master: { node: string; perRequest: number; commands: CommandCalls };
  /** Read by clients on the replicas; `replicated`: what they applied of the master's stream, per request. */
  replicas: { nodes: string[]; perRequest: number; commands: CommandCalls; replicated: number };
  /** Not per request (health checks, Sentinels, replication acks, connection setup): per second, every node. */
  background: { perSecond: number; commands: CommandCalls };
}

/** `cmdstat_hgetall:calls=3,usec=10,usec_per_call=3.33,rejected_calls=0,failed_calls=0` → `{ hgetall: 3 }`. */
export function parseCommandStats(info: string): CommandCalls {
  const calls: CommandCalls = {};
  for (const line of info.split('\n')) {
    const stat = /^cmdstat_([^:]+):(.*)$/.exec(line.trim());
    // `calls=` at the start or after a comma: not rejected_calls= or failed_calls=.
    const count = stat && /(?:^|,)calls=(\d+)/.exec(stat[2]!);
    if (stat && count) calls[stat[1]!.toLowerCase()] = Number(count[1]);
  }
  return calls;
}

/** The calls between two snapshots; a count lower after (a restart, CONFIG RESETSTAT) counts from zero. */
export function diffCommandStats(before: CommandCalls, after: CommandCalls): CommandCalls {
  const delta: CommandCalls = {};
  for (const [name, n] of Object.entries(after)) {
    const calls = n >= (before[name] ?? 0) ? n - (before[name] ?? 0) : n;
    if (calls > 0) delta[name] = calls;
  }
  return delta;
}

/** COMMAND INFO's reply (one entry per command: name, arity, flags, …, subcommands at index 9) as flags by name. */
export function commandFlags(reply: unknown): CommandFlags {
  const flags: CommandFlags = {};
  const add = (entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') return; // nil: a name the node does not know
    flags[entry[0].toLowerCase()] = Array.isArray(entry[2]) ? entry[2].map(String) : [];
    if (Array.isArray(entry[9])) entry[9].forEach(add);
  };
  if (Array.isArray(reply)) reply.forEach(add);
  return flags;
}

/**
 * Not per request on any node: health checks and monitoring (PING, INFO, ROLE from the Sentinels, the instances'
 * invalidation connections, this benchmark), connection setup (HELLO, AUTH, CLIENT SETNAME/TRACKING, SUBSCRIBE),
 * replication's handshake and acks. REPLCONF is no client's command, but not all chatter either: besides the
 * replicas' ack each second, a purchase's WAIT makes the master send GETACK to the replicas and them ack it, so
 * it grows with purchases; it shows in the background figures (per second), apart from the clients' commands.
 */
const BACKGROUND = new Set([
  ...['ping', 'info', 'role', 'hello', 'auth', 'replconf', 'psync', 'sync'],
  ...['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe'],
]);
const BACKGROUND_CONTAINERS = new Set(['client', 'command']);

/**
 * A replica executes the master's replication stream as commands of its own: every `write`-flagged command (as
 * COMMAND INFO says: no hand list of them), MULTI/EXEC around transactions, SELECT, PING (background above), and
 * PUBLISH, which the master forwards to its replicas outside cluster mode though Redis 7.0 flags it no
 * `may_replicate` (later versions do; that flag counts as replicated too). A client cannot run a write on a
 * read-only replica, so none of these is a request's own read there; a read-only MULTI/EXEC a client ran on a
 * replica would be miscounted as replicated (the service sends none).
 */
const REPLICATION_STREAM = new Set(['multi', 'exec', 'select', 'publish']);

export type CommandKind = 'request' | 'background' | 'replicated';

/** Whether a command counts per request, is background, or (on a replica) came from the master's stream. */
export function commandKind(name: string, role: 'master' | 'replica', flags: CommandFlags): CommandKind {
  const container = name.split('|')[0]!;
  if (BACKGROUND.has(name) || BACKGROUND_CONTAINERS.has(container)) return 'background';
  if (role === 'master') return 'request';
  const own = flags[name] ?? flags[container] ?? [];
  const replicated = own.includes('write') || own.includes('may_replicate') || REPLICATION_STREAM.has(name);
  return replicated ? 'replicated' : 'request';
}

/** One node's calls in a window, and its role then. */
export interface NodeCalls {
  node: string;
  role: 'master' | 'replica';
  calls: CommandCalls;
}

/** Every node's calls in a window as figures per completed request (and background per second). */
export function perRequest(nodes: NodeCalls[], flags: CommandFlags, requests: number, seconds: number) {
  const add = (to: CommandCalls, name: string, n: number) => (to[name] = (to[name] ?? 0) + n);
  const master: CommandCalls = {};
  const replicas: CommandCalls = {};
  const background: CommandCalls = {};
  let replicated = 0;
  for (const { role, calls } of nodes) {
    for (const [name, n] of Object.entries(calls)) {
      const kind = commandKind(name, role, flags);
      if (kind === 'background') add(background, name, n);
      else if (kind === 'replicated') replicated += n;
      else add(role === 'master' ? master : replicas, name, n);
    }
  }
  const per = (n: number, by: number) => (by > 0 ? n / by : 0);
  const scaled = (calls: CommandCalls, by: number) =>
    Object.fromEntries(Object.entries(calls).map(([name, n]) => [name, per(n, by)]));
  const total = (calls: CommandCalls) => Object.values(calls).reduce((a, b) => a + b, 0);
  return {
    requests,
    seconds,
    master: { node: nodes.find((n) => n.role === 'master')?.node ?? '', ...sumUp(scaled(master, requests)) },
    replicas: {
      nodes: nodes.filter((n) => n.role === 'replica').map((n) => n.node),
      ...sumUp(scaled(replicas, requests)),
      replicated: per(replicated, requests),
    },
    background: { perSecond: per(total(background), seconds), commands: scaled(background, seconds) },
  } satisfies RedisPerRequest;
}

const sumUp = (commands: CommandCalls) => ({
  perRequest: Object.values(commands).reduce((a, b) => a + b, 0),
  commands,
});

/** A count per request: two decimals, or two significant digits below 0.1 (the rate limiter's sync: 0.0034). */
export const perRequestFigure = (n: number) => (n >= 0.1 || n === 0 ? n.toFixed(2) : n.toPrecision(2));

/** The commands per request on every node together, largest first: `hgetall 1.00, exists 0.020`. */
export function topCommands(figures: RedisPerRequest, count = 5): string {
  const all: CommandCalls = { ...figures.master.commands };
  for (const [name, n] of Object.entries(figures.replicas.commands)) all[name] = (all[name] ?? 0) + n;
  const sorted = Object.entries(all).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const shown = sorted.slice(0, count).map(([name, n]) => `${name} ${perRequestFigure(n)}`);
  return [...shown, ...(sorted.length > count ? ['…'] : [])].join(', ') || 'none';
}

/** What one snapshot saw: every node's calls, and which node was master. */
export interface CommandSnapshot {
  at: number;
  master: string;
  nodes: { node: string; calls: CommandCalls }[];
}

/** An admin connection to each Redis node for the run; snapshots of INFO commandstats, flags by COMMAND INFO. */
export class RedisCommandStats {
  private readonly flags: CommandFlags = {};

  private constructor(
    private readonly deployment: DeploymentView,
    private readonly clients: { node: Member; redis: Redis }[],
  ) {}

  static async connect(deployment: DeploymentView): Promise<RedisCommandStats> {
    const nodes = await deployment.nodes();
    const clients = nodes.map((node) => {
      const redis = new Redis({ host: node.host, port: node.port, ...deployment.redisAdmin, lazyConnect: true });
      redis.on('error', () => {}); // a failed command rejects; reconnects are ioredis's
      return { node, redis };
    });
    const stats = new RedisCommandStats(deployment, clients);
    try {
      await Promise.all(clients.map(({ redis }) => redis.connect()));
    } catch (err) {
      stats.close();
      throw err;
    }
    return stats;
  }

  async snapshot(): Promise<CommandSnapshot> {
    const [master, nodes] = await Promise.all([
      this.deployment.master(),
      Promise.all(
        this.clients.map(async ({ node, redis }) => ({
          node: node.name,
          calls: parseCommandStats(await redis.info('commandstats')),
        })),
      ),
    ]);
    return { at: performance.now(), master: master.name, nodes };
  }

  /** The window between two snapshots per completed request; the roles are those of the first snapshot. */
  async between(before: CommandSnapshot, after: CommandSnapshot, requests: number): Promise<RedisPerRequest> {
    const nodes: NodeCalls[] = after.nodes.map(({ node, calls }) => ({
      node,
      role: node === before.master ? 'master' : 'replica',
      calls: diffCommandStats(before.nodes.find((n) => n.node === node)?.calls ?? {}, calls),
    }));
    await this.learnFlags(nodes.flatMap((n) => Object.keys(n.calls)));
    return perRequest(nodes, this.flags, requests, (after.at - before.at) / 1000);
  }

  /** COMMAND INFO of the commands not seen yet (by their container: its reply lists the subcommands). */
  private async learnFlags(names: string[]): Promise<void> {
    const unknown = [...new Set(names.filter((n) => !this.flags[n]).map((n) => n.split('|')[0]!))];
    const [first] = this.clients;
    if (unknown.length === 0 || !first) return;
    Object.assign(this.flags, commandFlags(await first.redis.call('COMMAND', 'INFO', ...unknown)));
    for (const name of names) this.flags[name] ??= []; // unknown to the node: asked once
  }

  close(): void {
    for (const { redis } of this.clients) redis.disconnect();
  }
}

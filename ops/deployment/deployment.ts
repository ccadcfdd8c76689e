import { command } from '../../stack/helpers/redis-probe.js';
import { waitFor } from '../../stack/helpers/wait.js';
import type { RedisAuth } from '../../stack/helpers/redis-users.js';
import type { Address } from '../../stack/topology/probes.js';

/** A Redis node, a Sentinel or an API instance: its name in reports, and where this host reaches it. */
export interface Member {
  /** redis-6379, sentinel-26379, api-3001 locally; redis-1, sentinel-1, api-1 in Compose. */
  name: string;
  host: string;
  port: number;
}

/**
 * What a kind of deployment can do beyond pause, kill and start of a member, for the faults that need it:
 * `supervisor` (a local supervisor restarts what crashes, and times it by pid), `restart-whole` (all of it
 * stopped and started again from the same data), `hold-down` (a killed member stays down until start: an
 * orchestrator restarts it by itself), `hosts` (members on hosts of their own that can be lost, frozen, cut off
 * or drained: a HostControl), `disks` (each node's data on a small filesystem of the drill's own that it can fill:
 * a DiskControl).
 */
export type Capability = 'supervisor' | 'restart-whole' | 'hold-down' | 'hosts' | 'disks';

/**
 * A running Evergreen as every tool sees it — the local stack, a Compose project —, answering the questions
 * every tool asks without touching anything: backup and bench need no more. Each kind is one file beside this one.
 */
export interface DeploymentView {
  readonly kind: 'local' | 'compose' | 'swarm';
  /** Where it runs, for a report: the local stack's folder, the Compose project's name. */
  readonly where: string;
  /** How the API instances run (dist, tsx, the Compose image). */
  readonly apiRunner: string;
  readonly publicUrl: string;
  readonly admin: { username: string; password: string };
  /** The operators' Redis user on every node. */
  readonly redisAdmin: RedisAuth;
  /** What the Sentinels ask of a client (a password). */
  readonly sentinelAuth: RedisAuth;
  readonly keyPrefix: string;
  readonly masterName: string;
  /** The deployment's own Prometheus, when it runs one this host reaches: a drill reads its alerts. */
  readonly prometheusUrl?: string;

  nodes(): Promise<Member[]>;
  sentinels(): Promise<Member[]>;
  /** Each API instance, with the URL this host reaches it on. */
  apis(): Promise<(Member & { url: string })[]>;
  /** The node the Sentinels name master now. */
  master(): Promise<Member>;
  /** The node that a Sentinel or a replica names by host and port (Compose: a service name, or an address). */
  nodeAt(host: string, port: number): Promise<Member | undefined>;
}

/** The hosts a deployment spreads over, each of which can fail as a whole (Swarm: a node). */
export interface HostControl {
  /** Every host, by name. */
  hosts(): string[];
  /** The host a member (redis-2, sentinel-2, api@…) runs on now. */
  hostOf(member: string): Promise<string>;
  /** Power lost: the host and everything on it stop at once. */
  kill(host: string): Promise<void>;
  /** Powered on again: resolves once it is back in the cluster. */
  start(host: string): Promise<void>;
  /** Frozen (no CPU, connections held open) until thaw. */
  freeze(host: string): Promise<void>;
  thaw(host: string): Promise<void>;
  /** Cut off from every other host, both ways (this machine still reaches it), until reconnect. */
  cutOff(host: string): Promise<void>;
  reconnect(host: string): Promise<void>;
  /** Planned maintenance: the orchestrator stops its tasks and moves what may move, until activate. */
  drain(host: string): Promise<void>;
  activate(host: string): Promise<void>;
  /** A rolling upgrade of the API instances to a new image tag; resolves with the tag once it is done. */
  upgradeApi(): Promise<string>;
  /** Each service's running tasks, as `service@host`, sorted: what the orchestrator did shows in the changes. */
  placement(): Promise<string[]>;
}

/** The small filesystem each Redis node writes its data to, which a drill fills and frees. */
export interface DiskControl {
  /** Fills the node's filesystem to the last byte; resolves with the bytes it took. */
  fill(node: string): Promise<number>;
  /** Frees what fill took. */
  free(node: string): Promise<void>;
}

/** A deployment a tool may also break and heal: the drill's. */
export interface Deployment extends DeploymentView {
  /** With the `hosts` capability. */
  readonly hosts?: HostControl;
  /** With the `disks` capability. */
  readonly disks?: DiskControl;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  readonly capabilities: ReadonlySet<Capability>;
  /** The words a report uses for pause and resume (SIGSTOP, docker pause). */
  readonly verbs: { pause: string; resume: string };

  /** Freezes a member (no CPU, connections held open) until resume. */
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  /** Kills a member with a signal; it stays down (no restart policy) until start. */
  kill(name: string, signal: NodeJS.Signals): Promise<void>;
  /** Starts a killed member again from its own data, and resolves once it answers. */
  start(name: string): Promise<void>;
  /** Resolves with the new master once every running Sentinel names one master other than `old`. */
  waitForFailover(old: string, timeoutMs: number): Promise<Member>;
  /** Resolves once the node's ROLE says it replicates `master` with the link up. */
  waitForReplicaOf(name: string, master: string, timeoutMs: number): Promise<void>;
  /** Stops everything, then starts it again from the same data (needs `restart-whole`). */
  restartWhole(stopped: (ms: number) => void): Promise<void>;

  /** Starts or resumes whatever is down, between drill cycles; returns what it could not bring back. */
  bringBack(): Promise<string[]>;
  /** What is wrong beyond the API instances' own readiness: NGINX, and what a supervisor gave up on. */
  edgeProblems(): Promise<string[]>;
  /** Stops it (what the tool started), keeping or removing its data as it was asked to. */
  stop(): Promise<void>;
}

/** A member by name, or a clear failure. */
export function memberNamed(members: Member[], name: string): Member {
  const found = members.find((m) => m.name === name);
  if (!found) throw new Error(`no ${name} (there are ${members.map((m) => m.name).join(', ')})`);
  return found;
}

/**
 * The master's address as this Sentinel announces it (Compose: a service name, or an address); undefined when it
 * knows no master of the view's name.
 */
export async function announcedMaster(view: DeploymentView, sentinel: Member): Promise<Address | undefined> {
  const args: [string, ...string[]] = ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', view.masterName];
  const reply = await command(sentinel.host, sentinel.port, view.sentinelAuth, args);
  return Array.isArray(reply) ? { host: String(reply[0]), port: Number(reply[1]) } : undefined;
}

/** The node this Sentinel names master now; undefined when it names none of the deployment's nodes. */
export async function masterNamedBy(view: DeploymentView, sentinel: Member): Promise<Member | undefined> {
  const announced = await announcedMaster(view, sentinel);
  return announced && view.nodeAt(announced.host, announced.port);
}

/** The master as the first Sentinel that answers names it: master() of a kind with no closer way to know. */
export async function masterBySentinels(view: DeploymentView): Promise<Member> {
  const problems: string[] = [];
  for (const sentinel of await view.sentinels()) {
    try {
      const named = await masterNamedBy(view, sentinel);
      if (named) return named;
      problems.push(`${sentinel.name} names no node as master ${view.masterName}`);
    } catch (err) {
      problems.push(`${sentinel.name}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no Sentinel names a master: ${problems.join('; ')}`);
}

/**
 * Resolves with the new master once the Sentinels that answer — a majority of them at least — all name one
 * master other than `old` (a Sentinel on a lost or frozen host does not answer; `sentinels` narrows who is asked,
 * e.g. the majority side of a partition).
 */
export function waitForSentinelsToSwitch(
  view: DeploymentView,
  old: string,
  timeoutMs: number,
  sentinels: () => Promise<Member[]> = () => view.sentinels(),
): Promise<Member> {
  return waitFor(`the Sentinels to name one master other than ${old}`, timeoutMs, async () => {
    const asked = await sentinels();
    const named = (await Promise.all(asked.map((s) => masterNamedBy(view, s).catch(() => undefined)))).filter(
      (m): m is Member => m !== undefined,
    );
    const names = new Set(named.map((m) => m.name));
    const [first] = named;
    if (!first || names.has(old) || names.size > 1 || named.length < Math.floor(asked.length / 2) + 1) {
      throw new Error(`${named.length} of ${asked.length} answer, naming ${[...names].join(', ') || 'none'}`);
    }
    return first;
  });
}

/** Resolves once the node's ROLE says it replicates `master` with the link up. */
export async function waitForReplicaByRole(
  view: DeploymentView,
  name: string,
  master: string,
  timeoutMs: number,
): Promise<void> {
  await waitFor(`${name} to replicate ${master} with the link up`, timeoutMs, async () => {
    const node = (await view.nodes()).find((n) => n.name === name);
    if (!node) throw new Error(`no ${name}`);
    const role = await command(node.host, node.port, view.redisAdmin, ['ROLE']);
    // A replica's ROLE: ['slave', masterHost, masterPort, 'connected' once synced, offset].
    const ok = Array.isArray(role) && role[0] === 'slave' && role[3] === 'connected';
    if (!ok || (await view.nodeAt(String(role[1]), Number(role[2])))?.name !== master) {
      throw new Error(`ROLE says ${JSON.stringify(role)}`);
    }
  });
}

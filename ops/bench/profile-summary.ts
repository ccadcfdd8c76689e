/**
 * What a V8 CPU profile (a .cpuprofile, as the DevTools protocol's Profiler.stop returns it) says bounds an API
 * instance: how much of the time it was idle, and where the busy time went, by self time, grouped so that a
 * reader can name the cause: a package, a Node module, the garbage collector, or one of the service's own files.
 */

/** The part of a DevTools protocol Profiler.Profile this reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  /** Microseconds, the profiled process's monotonic clock. */
  startTime: number;
  endTime: number;
  /** The node id on top of the stack at each sample. */
  samples?: number[];
  /** Microseconds between one sample and the previous one (the first: since startTime). */
  timeDeltas?: number[];
}

export interface ProfileCategory {
  category: string;
  seconds: number;
  /** Share of the busy time (not of the whole profile). */
  share: number;
}

export interface ProfileSummary {
  scenario: string;
  instance: string;
  /** Where the .cpuprofile was written. */
  file: string;
  samples: number;
  /** Time the samples cover. */
  seconds: number;
  /** Share of that time the instance sat in its event loop waiting, and the rest. */
  idleShare: number;
  busyShare: number;
  /** The busiest categories by self time, largest first. */
  top: ProfileCategory[];
}

export const IDLE = '(idle)';
const NATIVE = ' (native)';
/** V8's own names for what is not a JavaScript function: kept as categories of their own. */
const SPECIAL = new Set([IDLE, '(program)', '(garbage collector)', '(root)']);

// Node's modules by the name a reader knows them: node:_http_server and node:internal/http are both `http`.
const NODE_MODULE_ALIASES: [RegExp, string][] = [
  [/^_?http(_|$)/, 'http'],
  [/^(_stream_|streams?$)/, 'stream'],
  [/^_tls_/, 'tls'],
  // The write path of every socket (net.Socket's writes end there).
  [/^stream_base_commons$/, 'net'],
];

/**
 * The category of one frame's script: the package under node_modules (the innermost, scope included), the Node
 * module for node: URLs, the service's own file from dist/ or src/ on, else the file's name.
 */
export function categoryOfUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const inPackage = path.lastIndexOf('/node_modules/');
  if (inPackage >= 0) {
    const [first = '', second = ''] = path.slice(inPackage + '/node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  if (path.startsWith('node:')) {
    const module =
      path
        .slice('node:'.length)
        .replace(/^internal\//, '')
        .split('/')[0] ?? '';
    const alias = NODE_MODULE_ALIASES.find(([pattern]) => pattern.test(module))?.[1];
    return `node:${alias ?? module}`;
  }
  const own = /\/((?:dist|src)\/.*)$/.exec(path);
  return own?.[1] ?? path.split('/').at(-1) ?? path;
}

/**
 * Each node's category. A frame without a script (a V8 builtin, a native function, code made by new Function)
 * counts for the nearest caller that has one, so that the cost lands where the code asked for it: JSON.stringify
 * or a compiled serializer in fastify is fastify. Under a Node module it is `node:<module> (native)`: Node's C++
 * and the system calls it makes (`node:net (native)` is the sockets' write calls, `node:fs (native)` a file's).
 * With no caller that has a script it is `(native)`.
 */
function categories(profile: CpuProfile): Map<number, string> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const result = new Map<number, string>();
  const categoryOf = (id: number): string => {
    const known = result.get(id);
    if (known) return known;
    const node = byId.get(id);
    let category = '(native)';
    if (node && SPECIAL.has(node.callFrame.functionName)) category = node.callFrame.functionName;
    else if (node?.callFrame.url) category = categoryOfUrl(node.callFrame.url);
    else {
      const up = parent.get(id);
      const inherited = up === undefined ? undefined : categoryOf(up);
      if (inherited?.startsWith('node:')) category = inherited.endsWith(NATIVE) ? inherited : `${inherited}${NATIVE}`;
      else if (inherited && !SPECIAL.has(inherited)) category = inherited;
    }
    result.set(id, category);
    return category;
  };
  for (const node of profile.nodes) categoryOf(node.id);
  return result;
}

/**
 * Self time per category. A sample lasts until the next one, the last until the profile's end (as DevTools
 * counts); shares of the busy time, which is everything but `(idle)`.
 */
export function summarizeProfile(
  profile: CpuProfile,
  about: { scenario: string; instance: string; file: string },
  topN = 8,
): ProfileSummary {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const categoryOf = categories(profile);
  const times: number[] = [];
  let at = profile.startTime;
  for (const delta of deltas) times.push((at += delta));
  const selfUs = new Map<string, number>();
  samples.forEach((id, i) => {
    const start = times[i] ?? profile.endTime;
    const lasts = Math.max(0, (times[i + 1] ?? profile.endTime) - start);
    const category = categoryOf.get(id) ?? '(native)';
    selfUs.set(category, (selfUs.get(category) ?? 0) + lasts);
  });
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idleUs = selfUs.get(IDLE) ?? 0;
  const busyUs = totalUs - idleUs;
  const top = [...selfUs.entries()]
    .filter(([category]) => category !== IDLE)
    .sort(([, a], [, b]) => b - a)
    .slice(0, topN)
    .map(([category, us]) => ({ category, seconds: us / 1e6, share: busyUs > 0 ? us / busyUs : 0 }));
  return {
    ...about,
    samples: samples.length,
    seconds: totalUs / 1e6,
    idleShare: totalUs > 0 ? idleUs / totalUs : 0,
    busyShare: totalUs > 0 ? busyUs / totalUs : 0,
    top,
  };
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

/** The markdown section printed after the benchmark's table: one row per instance and scenario. */
export function renderProfiles(summaries: ProfileSummary[], dir: string): string {
  const rows = summaries.map((s) => {
    const top = s.top.map((c) => `${c.category} ${percent(c.share)}`).join(', ');
    return `| ${s.scenario} | ${s.instance} | ${s.seconds.toFixed(1)} | ${percent(s.busyShare)} | ${top} |`;
  });
  return [
    `CPU profiles of the API instances' main threads (${dir}; open a .cpuprofile in Chrome DevTools; worker threads,`,
    'where bcrypt runs, are not in them). Busy: the share of the profiled time not idle in the event loop; then the',
    'busiest categories by self time, as shares of the busy time. A native frame counts for its nearest caller with a',
    'script (JSON.stringify in fastify is fastify); node:net (native) is the system calls writing to sockets,',
    'node:fs (native) to files such as the log.',
    '',
    '| scenario | instance | profiled s | busy | self time by category (share of busy) |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

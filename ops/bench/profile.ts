import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import CDP from 'chrome-remote-interface';
import { summarizeProfile, type ProfileSummary } from './profile-summary.js';

/** Once a millisecond: V8's usual interval, ~10,000 samples for a 10 s scenario, at a cost of a few %. */
const SAMPLING_INTERVAL_US = 1000;

/** Where an API instance's inspector listens (its --inspect), and the name its profiles are filed under. */
export interface InspectedInstance {
  name: string;
  host: string;
  port: number;
}

/**
 * CPU profiles of the API instances through their inspectors (the DevTools protocol's Profiler domain): started
 * on every instance before a scenario, stopped after it, each written as DIR/<scenario>-<instance>.cpuprofile
 * and summarized.
 */
export class ApiProfiler {
  private scenario: string | undefined;
  readonly summaries: ProfileSummary[] = [];

  private constructor(
    private readonly clients: { name: string; client: CDP.Client }[],
    private readonly dir: string,
  ) {}

  static async connect(instances: InspectedInstance[], dir: string): Promise<ApiProfiler> {
    await mkdir(dir, { recursive: true });
    const clients = await Promise.all(
      instances.map(async ({ name, host, port }) => {
        // The protocol description this package ships: Node's inspector serves none.
        const client = await CDP({ host, port, local: true });
        await client.Profiler.enable();
        await client.Profiler.setSamplingInterval({ interval: SAMPLING_INTERVAL_US });
        return { name, client };
      }),
    );
    return new ApiProfiler(clients, dir);
  }

  async start(scenario: string): Promise<void> {
    if (this.scenario) throw new Error(`profiling ${this.scenario} still; cannot start ${scenario}`);
    this.scenario = scenario;
    await Promise.all(this.clients.map(({ client }) => client.Profiler.start()));
  }

  /** Stops the profiles of the scenario started last, writes them and adds their summaries. */
  async stop(): Promise<ProfileSummary[]> {
    const scenario = this.scenario;
    if (!scenario) return [];
    this.scenario = undefined;
    const summaries = await Promise.all(
      this.clients.map(async ({ name, client }) => {
        const { profile } = await client.Profiler.stop();
        const file = path.join(this.dir, `${scenario}-${name}.cpuprofile`);
        await writeFile(file, JSON.stringify(profile));
        return summarizeProfile(profile, { scenario, instance: name, file });
      }),
    );
    this.summaries.push(...summaries);
    return summaries;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map(({ client }) => client.close()));
  }
}

/** BenchOptions.aroundScenario for a profiler: each scenario's load, and nothing else, is profiled. */
export function profileEach(profiler: ApiProfiler): <T>(name: string, run: () => Promise<T>) => Promise<T> {
  return async (name, run) => {
    await profiler.start(name);
    try {
      return await run();
    } finally {
      await profiler.stop();
    }
  };
}

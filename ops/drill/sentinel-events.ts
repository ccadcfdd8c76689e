import { Redis } from 'ioredis';
import type { Address } from '../../stack/topology/topology.js';
import { waitFor } from '../../stack/helpers/wait.js';

/** One message a Sentinel published on its own pub/sub (+sdown, +odown, +switch-master, ...). */
export interface HeardEvent {
  at: number;
  sentinel: number;
  event: string;
  /** e.g. "master evergreen 127.0.0.1 6379", or for +switch-master "evergreen 127.0.0.1 6379 127.0.0.1 6380". */
  message: string;
}

const RECONNECT_MS = 250;

/** Events about a failover attempt; one not followed by +switch-master arms Sentinel's re-failover guard. */
export const ATTEMPT_EVENTS = ['+try-failover', '+vote-for-leader', '+elected-leader'];

/**
 * A subscriber per Sentinel (psubscribe '*'), so the drill's timeline comes from the Sentinels' own words.
 * Each reconnects by itself after its Sentinel was paused or restarted.
 */
export class SentinelEvents {
  readonly events: HeardEvent[] = [];
  private readonly clients: Redis[];

  private constructor(sentinels: Address[], password: string | undefined) {
    this.clients = sentinels.map(({ host, port }) => {
      const client = new Redis({ host, port, password, protocol: 2, retryStrategy: () => RECONNECT_MS });
      client.on('error', () => {}); // a paused or restarting Sentinel: ioredis reconnects and resubscribes
      client.on('pmessage', (_pattern: string, channel: string, message: string) => {
        this.events.push({ at: Date.now(), sentinel: port, event: channel, message });
      });
      return client;
    });
  }

  static async open(sentinels: Address[], password: string | undefined): Promise<SentinelEvents> {
    const watch = new SentinelEvents(sentinels, password);
    try {
      await Promise.all(watch.clients.map((client) => client.psubscribe('*')));
    } catch (err) {
      watch.close();
      throw err;
    }
    return watch;
  }

  /**
   * Resolves once every subscriber is connected (after its Sentinel was restarted, or the whole stack was):
   * ioredis subscribes again by itself as it becomes ready.
   */
  async listening(timeoutMs: number): Promise<void> {
    await waitFor('every Sentinel event subscriber to be connected', timeoutMs, async () => {
      const down = this.clients.filter((client) => client.status !== 'ready');
      if (down.length > 0) {
        throw new Error(down.map((client) => `sentinel-${client.options.port}: ${client.status}`).join(', '));
      }
    });
  }

  /** The first time any Sentinel published event about the master, at or after from (and before to). */
  firstAbout(event: string, from: number, to = Infinity): HeardEvent | undefined {
    // +sdown is also published for replicas and Sentinels ("slave ...", "sentinel ...").
    const aboutMaster = (e: HeardEvent) => !['+sdown', '-sdown'].includes(event) || e.message.startsWith('master ');
    return this.events.find((e) => e.event === event && e.at >= from && e.at < to && aboutMaster(e));
  }

  between(from: number, to: number): HeardEvent[] {
    return this.events.filter((e) => e.at >= from && e.at < to);
  }

  close(): void {
    for (const client of this.clients) client.disconnect();
  }
}

/** The new master's host in a +switch-master message: a Compose service name tells the nodes apart, a port not. */
export function switchedToHost(e: HeardEvent | undefined): string | undefined {
  return e?.message.split(' ')[3];
}

/** The new master's port in a +switch-master message ("name oldHost oldPort newHost newPort"). */
export function switchedTo(e: HeardEvent | undefined): number | undefined {
  const port = Number(e?.message.split(' ')[4]);
  return Number.isInteger(port) ? port : undefined;
}

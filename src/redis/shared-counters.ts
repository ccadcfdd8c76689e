import type { Redis } from 'ioredis';

/** One client's counter in this instance: what Redis last said all instances counted, and what it has not heard. */
interface Counter {
  /** When the window ends (Redis's word, once it answered). */
  windowEnds: number;
  /** The count across every instance, as of Redis's last answer. */
  shared: number;
  /** Whether Redis has answered for this window yet. */
  heard: boolean;
  /** Hits of this instance not yet sent. */
  unsent: number;
  /** Hits sent, not yet answered. */
  sending: number;
  /** The last of the `unsent` hits, whose answers wait for Redis's count. */
  waiting: Answer[];
}

type Answer = (err: Error | null, result: { current: number; ttl: number }) => void;

/**
 * A store for @fastify/rate-limit whose counters are shared by every instance through Redis, without a round
 * trip per request. Each instance counts locally and adds its hits to the Redis counters every `syncMs` (one
 * pipeline for every client seen), learning the total of all instances in the answer.
 * - A client this instance has heard Redis count in this window, under half its limit, is answered at once.
 * - A client's first request of a window on this instance, and every request past half its limit, waits for
 *   the count Redis answers (a sync sent at once, with whatever else is pending): near the limit, decisions are
 *   made on every instance's hits. What Redis cannot know yet is the hits other instances answered at once
 *   since their last sync: a client can pass its limit by at most `syncMs` of its requests to them.
 * - While Redis is away, each instance limits on its own counts and sends them once Redis answers again.
 */
export class SharedCounters {
  private readonly counters = new Map<string, Counter>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private urgent: NodeJS.Immediate | undefined;
  private nextPrune = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowMs: number,
    private readonly syncMs: number,
  ) {}

  incr(key: string, answer: Answer, _timeWindow: number, max: number): void {
    const now = Date.now();
    let counter = this.counters.get(key);
    if (!counter || counter.windowEnds <= now) {
      // Hits still waiting in a window that just ended are answered from what this instance knows of it.
      if (counter) answerInOrder(counter.waiting, count(counter), 0);
      counter = { windowEnds: now + this.windowMs, shared: 0, heard: false, unsent: 0, sending: 0, waiting: [] };
      this.counters.set(key, counter);
    }
    counter.unsent += 1;
    this.dirty.add(key);
    const current = count(counter);
    if (counter.heard && current * 2 <= max) {
      this.timer ??= setTimeout(() => void this.sync(), this.syncMs).unref();
      answer(null, { current, ttl: counter.windowEnds - now });
      return;
    }
    counter.waiting.push(answer);
    this.urgent ??= setImmediate(() => void this.sync());
  }

  /** Per-route limits would share these counters: the contract's limit is per client, across routes. */
  child(): SharedCounters {
    return this;
  }

  /** Sends every unsent count and stops the timers. */
  close(): Promise<void> {
    return this.sync();
  }

  private async sync(): Promise<void> {
    clearTimeout(this.timer);
    clearImmediate(this.urgent);
    this.timer = undefined;
    this.urgent = undefined;
    const batch = this.redis.pipeline();
    const sent: { key: string; counter: Counter; hits: number; waiting: Answer[] }[] = [];
    for (const key of this.dirty) {
      const counter = this.counters.get(key);
      if (!counter || counter.unsent === 0) continue;
      sent.push({ key, counter, hits: counter.unsent, waiting: counter.waiting });
      batch.countHits(this.prefix + key, this.windowMs, counter.unsent);
      counter.sending += counter.unsent;
      counter.unsent = 0;
      counter.waiting = [];
    }
    this.dirty.clear();
    const results = sent.length > 0 ? await batch.exec().catch(() => null) : [];
    const now = Date.now();
    sent.forEach(({ key, counter, hits, waiting }, i) => {
      counter.sending -= hits;
      const [err, reply] = results?.[i] ?? [new Error('not sent')];
      if (err) {
        counter.unsent += hits; // sent again with the next sync
        this.dirty.add(key);
        answerInOrder(waiting, count(counter), Math.max(counter.windowEnds - now, 0));
        return;
      }
      // Every instance's hits so far, this batch included; a later batch still in flight (same connection, so
      // run after this one) is not in it and stays in `sending`. The window is the one Redis holds.
      const [total, ttl] = reply as [number, number];
      counter.shared = total;
      counter.heard = true;
      counter.windowEnds = now + ttl;
      answerInOrder(waiting, total, ttl);
    });
    if (this.dirty.size > 0) this.timer ??= setTimeout(() => void this.sync(), this.syncMs).unref();
    this.prune(now);
  }

  /** Forgets the counters of windows that ended, about once a second. */
  private prune(now: number): void {
    if (now < this.nextPrune) return;
    this.nextPrune = now + 1000;
    for (const [key, counter] of this.counters) {
      if (counter.windowEnds <= now && counter.unsent === 0 && counter.sending === 0) this.counters.delete(key);
    }
  }
}

const count = (counter: Counter) => counter.shared + counter.sending + counter.unsent;

/** Waiting hits are the last ones counted, in order: each is told its own place in the count. */
function answerInOrder(waiting: Answer[], counted: number, ttl: number): void {
  waiting.forEach((answer, i) => answer(null, { current: counted - (waiting.length - 1 - i), ttl }));
}

import http from 'node:http';
import { createParser } from 'eventsource-parser';

/** One server-sent event as a client reads it (data parsed as JSON). */
export interface SseEvent {
  id: string | undefined;
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
  /** when it arrived (Date.now()) */
  at: number;
}

/**
 * A live stream read the way EventSource reads it (eventsource-parser), minus its automatic reconnects: a test
 * decides when to come back and with which Last-Event-ID.
 */
export interface OpenOptions {
  /** the local address to connect from (NGINX limits streams per client address) */
  localAddress?: string;
  onEvent?: (event: SseEvent) => void;
  keep?: boolean;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  /** the id of the last event read, kept or not */
  lastSeenId: string | undefined;
  /** events read, kept or not */
  eventsRead = 0;
  comments = 0;
  ended = false;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly status: number,
    readonly headers: http.IncomingHttpHeaders,
    /** the body when the answer was not a stream (an error in the contract's shape) */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly body: any,
    private readonly request: http.ClientRequest | undefined,
  ) {}

  /**
   * Opens `url`; resolves once the answer's head (and, for a non-stream answer, its body) is in. `onEvent` hears
   * each event as it is read; `keep: false` keeps none of them in `events` (a bench's thousand streams).
   */
  static open(url: string, headers: Record<string, string> = {}, options: OpenOptions = {}): Promise<SseClient> {
    const { localAddress, onEvent, keep = true } = options;
    return new Promise((resolve, reject) => {
      const init = { headers: { accept: 'text/event-stream', ...headers }, localAddress, agent: false as const };
      const request = http.get(url, init, (res) => {
        res.setEncoding('utf8');
        if (!String(res.headers['content-type']).startsWith('text/event-stream')) {
          let text = '';
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // not JSON: kept as text
            }
            resolve(new SseClient(res.statusCode ?? 0, res.headers, body, undefined));
          });
          return;
        }
        const client = new SseClient(res.statusCode ?? 0, res.headers, undefined, request);
        const parser = createParser({
          onEvent: (message) => {
            const event = {
              id: message.id,
              event: message.event ?? 'message',
              data: JSON.parse(message.data),
              at: Date.now(),
            };
            if (event.id !== undefined) client.lastSeenId = event.id;
            client.eventsRead++;
            if (keep) client.events.push(event);
            onEvent?.(event);
            client.wake();
          },
          onComment: () => {
            client.comments++;
            client.wake();
          },
        });
        res.on('data', (chunk: string) => parser.feed(chunk));
        const end = () => {
          client.ended = true;
          client.wake();
        };
        res.on('end', end).on('close', end).on('error', end);
        resolve(client);
      });
      request.on('error', reject);
    });
  }

  /** The id of the last event read: what a reconnect sends as Last-Event-ID. */
  get lastId(): string | undefined {
    return this.lastSeenId;
  }

  /** Resolves once `done` holds (checked at every event, comment and end); rejects after `timeoutMs`. */
  until(done: (client: SseClient) => boolean, timeoutMs = 5000, what = 'the stream'): Promise<void> {
    if (done(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${what}: not there after ${timeoutMs} ms (${this.events.length} events)`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Events of one type (stock, deleted, reset). */
  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  close(): void {
    this.request?.destroy();
    this.ended = true;
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }
}

/**
 * A watcher that behaves as EventSource does: when its stream ends it opens it again with Last-Event-ID (here on
 * the next of `bases`, as NGINX would send it to another instance), until stopped. Every event of every
 * connection is kept (unless `keep: false`), in arrival order.
 */
export class ResumingWatcher {
  readonly events: SseEvent[] = [];
  connections = 0;
  /** streams that ended without being stopped (dropped, cut): each one resumed */
  ends = 0;
  /** answers other than a stream (503 while Redis is away, …) */
  refusals: number[] = [];
  /** the base of the stream open now */
  currentBase: string | undefined;
  private lastSeenId: string | undefined;
  private resets = 0;
  private current: SseClient | undefined;
  private stopped = false;
  private readonly running: Promise<void>;
  private readonly opened: Promise<number>;
  private firstStatus: (status: number) => void = () => {};

  constructor(
    private readonly bases: string[],
    private readonly path: string,
    /** idleMs: a stream silent this long (no event, no heartbeat) is taken for dead and resumed (default 45 s) */
    private readonly options: OpenOptions & { retryMs?: number; idleMs?: number } = {},
  ) {
    this.opened = new Promise((resolve) => (this.firstStatus = resolve));
    this.running = this.run();
  }

  get lastId(): string | undefined {
    return this.lastSeenId;
  }

  /** `reset` events read (the stream could not resume where it left off). */
  get resetCount(): number {
    return this.resets;
  }

  /** The first connection's status (0: no connection). */
  firstAnswer(): Promise<number> {
    return this.opened;
  }

  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  /** Ends the current stream: the watcher resumes, as after a dropped connection. */
  drop(): void {
    this.current?.close();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.close();
    await this.running;
  }

  /** Resolves once `done` holds, polled every 20 ms; rejects after `timeoutMs`. */
  async until(done: (w: ResumingWatcher) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this)) {
      if (Date.now() > deadline)
        throw new Error(`${what}: not there after ${timeoutMs} ms (${this.events.length} events)`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Until the stream ends, is stopped, or goes silent past idleMs (then it is closed, to resume). */
  private async follow(client: SseClient): Promise<void> {
    const idleMs = this.options.idleMs ?? 45_000;
    let heard = client.eventsRead + client.comments;
    let lastHeardAt = Date.now();
    for (;;) {
      const done = await client
        .until((c) => c.ended || this.stopped || c.comments + c.eventsRead !== heard, idleMs, 'the stream')
        .then(() => client.ended || this.stopped)
        .catch(() => undefined);
      if (done === true) return;
      if (done === undefined && Date.now() - lastHeardAt >= idleMs) {
        client.close();
        return;
      }
      heard = client.comments + client.eventsRead;
      lastHeardAt = Date.now();
    }
  }

  private async run(): Promise<void> {
    const { retryMs = 100, keep = true, onEvent, localAddress } = this.options;
    const heard = (event: SseEvent) => {
      if (event.id !== undefined) this.lastSeenId = event.id;
      if (event.event === 'reset') this.resets++;
      if (keep) this.events.push(event);
      onEvent?.(event);
    };
    for (let attempt = 0; !this.stopped; attempt++) {
      const base = this.bases[attempt % this.bases.length]!;
      const lastId = this.lastSeenId;
      try {
        const headers: Record<string, string> = lastId ? { 'last-event-id': lastId } : {};
        const client = await SseClient.open(`${base}${this.path}`, headers, {
          localAddress,
          keep: false,
          onEvent: heard,
        });
        if (attempt === 0) this.firstStatus(client.status);
        if (client.status !== 200) {
          this.refusals.push(client.status);
        } else {
          this.connections++;
          this.current = client;
          this.currentBase = base;
          await this.follow(client);
          if (!this.stopped) this.ends++;
        }
      } catch {
        if (attempt === 0) this.firstStatus(0);
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}

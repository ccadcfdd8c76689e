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
export class SseClient {
  readonly events: SseEvent[] = [];
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

  /** Opens `url`; resolves once the answer's head (and, for a non-stream answer, its body) is in. */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
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
            client.events.push({
              id: message.id,
              event: message.event ?? 'message',
              data: JSON.parse(message.data),
              at: Date.now(),
            });
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
    return this.events.findLast((e) => e.id !== undefined)?.id;
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

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { IdParamsSchema, errorResponses } from '../schemas/common.js';
import { ValidationFailed } from '../errors.js';
import type { OpenStream } from '../redis/live/stock-feed.js';
import type { StreamSink } from '../redis/live/watcher.js';

/** The most products one stream watches. */
export const MAX_WATCHED = 100;

const EVENTS_DESCRIPTION =
  'text/event-stream. Events: `stock` {productId, stock, priceCents, at} on connect (one per product) and whenever ' +
  'a purchase, a cancellation or an admin change moves it; `deleted` when the product goes; `reset` when the ' +
  'events since Last-Event-ID are gone (a fresh `stock` snapshot follows). Every event has an `id:`: reconnect ' +
  'with Last-Event-ID to get every event since. A comment heartbeat keeps the connection alive.';

const streamResponses = {
  200: { description: EVENTS_DESCRIPTION, content: { 'text/event-stream': { schema: { type: 'string' } } } },
  ...errorResponses(400, 404, 503),
};

// Not in the request-duration histograms: a stream lasts as long as its client stays.
const config = { disableMetrics: true };

// One event goes to every stream that watches its product: its frame is made once, for all of them (an event's
// data object is shared by every watcher it reaches).
const frames = new WeakMap<object, string>();
function frameOf(type: string, id: string, data: object): string {
  let frame = frames.get(data);
  if (frame === undefined) {
    frame = `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    frames.set(data, frame);
  }
  return frame;
}

const productEvents: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/:id/events',
    {
      sse: 'only',
      config,
      schema: {
        tags: ['products'],
        summary: 'Live stock of one product (server-sent events); resumes after Last-Event-ID',
        params: IdParamsSchema,
        response: streamResponses,
      },
    },
    async (request, reply) => stream(app, request, reply, [request.params.id]),
  );

  app.get(
    '/events',
    {
      sse: 'only',
      config,
      schema: {
        tags: ['products'],
        summary: `Live stock of up to ${MAX_WATCHED} products (server-sent events); resumes after Last-Event-ID`,
        querystring: Type.Object(
          {
            ids: Type.String({
              minLength: 1,
              maxLength: MAX_WATCHED * 65,
              description: `Product ids, comma-separated (1–${MAX_WATCHED}, each once)`,
            }),
          },
          { additionalProperties: false },
        ),
        response: streamResponses,
      },
    },
    async (request, reply) => stream(app, request, reply, watchedIds(request.query.ids)),
  );
};

/** The ids of ?ids=: 1–MAX_WATCHED non-empty ids of at most 64 characters, each once. */
export function watchedIds(list: string): string[] {
  const ids = list.split(',');
  if (ids.length > MAX_WATCHED) throw new ValidationFailed(`ids names at most ${MAX_WATCHED} products`);
  if (ids.some((id) => id.length === 0 || id.length > 64))
    throw new ValidationFailed('ids holds an empty or overlong id');
  if (new Set(ids).size !== ids.length) throw new ValidationFailed('ids names a product twice');
  return ids;
}

/**
 * One live stream: opened on the feed (a 404 or 503 is answered as JSON, before anything is streamed), then kept
 * open until the client leaves, the instance closes, or the client reads too slowly (its unsent bytes past
 * SSE_MAX_BUFFER_BYTES: dropped, and its EventSource resumes with Last-Event-ID).
 */
async function stream(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, ids: string[]) {
  const sse = reply.sse;
  const { maxBufferBytes } = app.config.live;
  const drops = app.businessMetrics.live.drops;
  let dropped = false;
  let corked = false;
  const raw = reply.raw;
  const sink: StreamSink = {
    write(type, id, data) {
      if (dropped || !sse.isConnected) return false;
      if (raw.writableLength > maxBufferBytes) {
        dropped = true;
        drops.inc({ reason: 'slow' });
        sse.close();
        return false;
      }
      sse.sendHeaders();
      // The events of one batch of the tail leave in one write.
      if (!corked) {
        corked = true;
        raw.cork();
        process.nextTick(() => {
          corked = false;
          raw.uncork();
        });
      }
      raw.write(frameOf(type, id, data));
      return true;
    },
  };
  const lastEventId = request.headers['last-event-id'];
  let opened: OpenStream;
  try {
    opened = await app.stockFeed.openStream(ids, typeof lastEventId === 'string' ? lastEventId : undefined, sink);
  } catch (err) {
    // Events were written already: the stream just ends, and the client resumes.
    if (reply.raw.headersSent) {
      sse.close();
      return;
    }
    throw err;
  }
  const end = () => sse.close();
  const finish = () => {
    opened.close();
    app.liveStreams.delete(end);
  };
  if (!sse.isConnected) return finish();
  app.liveStreams.add(end);
  sse.onClose(finish);
  // A resume that missed nothing has written nothing yet: the client learns now that its stream is open.
  sse.sendHeaders();
  sse.keepAlive();
}

export default productEvents;

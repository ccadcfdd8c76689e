import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  DomainError,
  InternalError,
  RequestInProgress,
  RouteNotFound,
  ServiceUnavailable,
  StoreFull,
  StoreNotPersisting,
  ValidationFailed,
} from '../../errors.js';
import { isRedisUnavailable, writeRefusal } from '../../redis/errors.js';

/**
 * The client errors Fastify raises itself, under stable codes and fixed messages of ours: theirs name the parser or
 * echo the request (a prototype-poisoned body is an INVALID_JSON like any other unparsable one).
 */
const FASTIFY_ERRORS = new Map<string, [code: string, message: string]>(
  Object.entries({
    FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json'],
    FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'The request body is too large'],
    FST_ERR_CTP_EMPTY_JSON_BODY: ['INVALID_JSON', 'The body is empty but its content-type is application/json'],
    FST_ERR_CTP_INVALID_JSON_BODY: [
      'INVALID_JSON',
      'The body is not valid JSON, or sets __proto__ or constructor.prototype',
    ],
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['BAD_REQUEST', 'The body does not match its Content-Length'],
    FST_ERR_BAD_URL: ['BAD_REQUEST', 'The URL is not valid'],
  }),
);

/** What an error answer says: a domain error's fields, or what the handler put in its place. */
type Answer = Pick<DomainError, 'statusCode' | 'code' | 'message'>;

/** A client error of Fastify's or a plugin's: its status, under a stable code and a message that shows nothing. */
function clientError(err: FastifyError, statusCode: number): Answer {
  const [code, message] = FASTIFY_ERRORS.get(err.code) ?? [
    (STATUS_CODES[statusCode] ?? 'Bad Request').toUpperCase().replace(/\W+/g, '_'),
    STATUS_CODES[statusCode] ?? 'Bad request',
  ];
  return { statusCode, code, message };
}

/**
 * Seconds a client should wait before retrying: a full memory or disk is fixed by an operator, not by a failover,
 * so retrying every second would only add load.
 */
const RETRY_AFTER: Record<string, string> = { STORE_FULL: '2', STORE_NOT_PERSISTING: '2' };

function send(reply: FastifyReply, out: Answer & { details?: unknown[] }) {
  if (out.statusCode === 503 || out instanceof RequestInProgress) {
    reply.header('retry-after', RETRY_AFTER[out.code] ?? '1');
  }
  return reply.status(out.statusCode).send({
    statusCode: out.statusCode,
    code: out.code,
    error: STATUS_CODES[out.statusCode] ?? 'Error',
    message: out.message,
    ...(out.details ? { details: out.details } : {}),
  });
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before any hook runs (a path that is not valid
 * percent-encoding, a path parameter over 100 characters), answered in the contract's shape as well.
 */
export function answerFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff');
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return send(reply, new ValidationFailed('A path parameter is longer than 100 characters'));
  }
  return send(reply, clientError(err, 400));
}

/** What Node's HTTP parser refuses before Fastify sees a request, by Node's error code. */
const PARSER_ERRORS: Record<string, [statusCode: number, code: string, message: string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'The request was not received in time'],
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'A request header, or all of them together, is too large'],
};

/** The contract's error straight onto a socket Fastify never made a request of; the connection is closed after it. */
function writeError(socket: Duplex, statusCode: number, code: string, message: string) {
  const error = STATUS_CODES[statusCode] ?? 'Bad Request';
  const body = JSON.stringify({ statusCode, code, error, message });
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${statusCode} ${error}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${randomUUID()}\r\n` +
        `x-content-type-options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
}

/**
 * Fastify's `clientErrorHandler`: a request Node's parser cannot read (raw bytes in the path, a broken request
 * line, oversized headers) still gets the contract's JSON and an x-request-id, as NGINX's own answers do;
 * Fastify's default answer has no `code`.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [statusCode, code, message] = PARSER_ERRORS[err.code ?? ''] ?? [400, 'BAD_REQUEST', 'The request is malformed'];
  writeError(socket, statusCode, code, message);
  socket.destroySoon();
}

/**
 * The HTTP server's `connect` event: Node hands a CONNECT request to it instead of Fastify, and with no
 * listener drops the connection unanswered. This is no proxy: 405, in the contract's shape.
 */
export function answerConnect(_request: IncomingMessage, socket: Duplex) {
  socket.on('error', () => undefined);
  writeError(socket, 405, 'METHOD_NOT_ALLOWED', 'This method is not allowed here');
}

/**
 * One error handler for the whole app: every error leaves in the contract's shape
 * `{statusCode, code, error, message}`; 5xx are logged with context and never show their internals.
 */
export default fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError, request, reply) => {
      let out: Answer;
      if (err.validation) {
        const where = `${err.validationContext ?? 'request'}${err.validation[0]?.instancePath ?? ''}`;
        out = new ValidationFailed(`${where} ${err.validation[0]?.message ?? 'is invalid'}`);
      } else if (err instanceof DomainError) {
        out = err; // one of ours (src/errors.ts): an expected outcome, answered as thrown
      } else if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        out = clientError(err, err.statusCode);
        if (!FASTIFY_ERRORS.has(err.code)) request.log.info({ err }, 'client error without a name of ours');
      } else if (writeRefusal(err)) {
        // Not an outage: the master answers, and refuses writes until memory or disk is freed.
        request.log.error({ err }, 'data store refuses writes');
        out = writeRefusal(err) === 'memory' ? new StoreFull() : new StoreNotPersisting();
      } else if (isRedisUnavailable(err)) {
        request.log.error({ err }, 'data store unavailable');
        out = new ServiceUnavailable();
      } else {
        request.log.error({ err }, 'unhandled error');
        out = new InternalError();
      }
      return send(reply, out);
    });

    app.setNotFoundHandler((request, reply) => {
      const err = new RouteNotFound(`Route ${request.method} ${request.url.split('?')[0]} not found`);
      return reply.status(404).send({ statusCode: 404, code: err.code, error: 'Not Found', message: err.message });
    });
  },
  { name: 'error-handler' },
);

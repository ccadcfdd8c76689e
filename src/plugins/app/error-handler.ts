import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import { STATUS_CODES } from 'node:http';
import {
  DomainError,
  InternalError,
  RequestInProgress,
  RouteNotFound,
  ServiceUnavailable,
  ValidationFailed,
} from '../../errors.js';
import { isRedisUnavailable } from '../../redis/errors.js';

/** Codes for the client errors Fastify raises itself, renamed to stable names of ours. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
};

/** What an error answer says: a domain error's fields, or what the handler put in its place. */
type Answer = Pick<DomainError, 'statusCode' | 'code' | 'message'>;

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
      } else if (err.statusCode && err.statusCode < 500) {
        // A client error Fastify (or a plugin) raised: its status, under a stable code of ours.
        out = { statusCode: err.statusCode, code: FASTIFY_CODES[err.code] ?? 'BAD_REQUEST', message: err.message };
      } else if (isRedisUnavailable(err)) {
        request.log.error({ err }, 'data store unavailable');
        out = new ServiceUnavailable();
      } else {
        request.log.error({ err }, 'unhandled error');
        out = new InternalError();
      }
      if (out.statusCode === 503 || out instanceof RequestInProgress) reply.header('retry-after', '1');
      return reply.status(out.statusCode).send({
        statusCode: out.statusCode,
        code: out.code,
        error: STATUS_CODES[out.statusCode] ?? 'Error',
        message: out.message,
      });
    });

    app.setNotFoundHandler((request, reply) => {
      const err = new RouteNotFound(`Route ${request.method} ${request.url.split('?')[0]} not found`);
      return reply.status(404).send({ statusCode: 404, code: err.code, error: 'Not Found', message: err.message });
    });
  },
  { name: 'error-handler' },
);

import createError from '@fastify/error';

/**
 * What every error a client can see is: a stable `code` and an HTTP status. Code tells ours from anything else
 * with `err instanceof DomainError`, never by its shape; the error handler (plugins/app/error-handler.ts) answers
 * with its status, code and message, and turns anything else into a generic 5xx.
 */
export abstract class DomainError extends Error {
  declare readonly code: string;
  declare readonly statusCode: number;
}

/**
 * One class per outcome, built by @fastify/error on DomainError's prototype (it never runs Base's constructor, so
 * DomainError holds no logic). `%s` in a message takes the constructor's argument. No stack trace is captured:
 * these are expected outcomes, not bugs.
 */
const domainError = <C extends string, S extends number>(code: C, message: string, statusCode: S) =>
  // The cast: createError's types ask for a callable ErrorConstructor; it only uses Base's prototype.
  createError<C, S, [string?]>(code, message, statusCode, DomainError as unknown as ErrorConstructor, false);

export const ValidationFailed = domainError('VALIDATION_ERROR', '%s', 400);
export const InvalidCursor = domainError('INVALID_CURSOR', 'The cursor is not valid for this list', 400);

export const Unauthorized = domainError('UNAUTHORIZED', '%s', 401);
export const InvalidCredentials = domainError('INVALID_CREDENTIALS', 'Invalid username or password', 401);
export const Forbidden = domainError('FORBIDDEN', '%s', 403);

export const RouteNotFound = domainError('NOT_FOUND', '%s', 404);
export const UserNotFound = domainError('USER_NOT_FOUND', 'User not found', 404);
export const ProductNotFound = domainError('PRODUCT_NOT_FOUND', 'Product not found', 404);
export const PurchaseNotFound = domainError('PURCHASE_NOT_FOUND', 'Purchase not found', 404);

export const UsernameTaken = domainError('USERNAME_TAKEN', 'That username is already taken', 409);
export const OutOfStock = domainError('OUT_OF_STOCK', '%s', 409);
export const CancelWindowClosed = domainError(
  'CANCEL_WINDOW_CLOSED',
  'This purchase can no longer be cancelled by its owner (past CANCEL_WINDOW_SECONDS); an admin still can',
  409,
);
export const RequestInProgress = domainError(
  'REQUEST_IN_PROGRESS',
  'A request with this Idempotency-Key is still being processed',
  409,
);
export const IdempotencyKeyReused = domainError(
  'IDEMPOTENCY_KEY_REUSED',
  'This Idempotency-Key was used with a different request body',
  422,
);

export const RateLimited = domainError('RATE_LIMITED', '%s', 429);

export const NotDurable = domainError(
  'NOT_DURABLE',
  'The purchase was not confirmed by a replica in time; retry with the same Idempotency-Key',
  503,
);
export const TooMuchContention = domainError(
  'TRY_AGAIN',
  'Too many concurrent updates of the same records; retry shortly (a purchase: with the same Idempotency-Key)',
  503,
);
export const ServiceUnavailable = domainError(
  'SERVICE_UNAVAILABLE',
  'The data store is temporarily unavailable; retry shortly',
  503,
);
export const StoreFull = domainError(
  'STORE_FULL',
  'The data store is out of memory and takes no new writes; nothing was written. Retry later',
  503,
);
export const StoreNotPersisting = domainError(
  'STORE_NOT_PERSISTING',
  'The data store cannot write to its disk and takes no new writes; nothing was written. Retry later',
  503,
);
export const TooManyStreams = domainError(
  'TOO_MANY_STREAMS',
  'This instance has as many live streams open as it takes; retry shortly',
  503,
);
export const Busy = domainError('BUSY', 'Too many sign-ins are being checked at once; retry shortly', 503);
export const InternalError = domainError('INTERNAL_ERROR', 'Internal server error', 500);

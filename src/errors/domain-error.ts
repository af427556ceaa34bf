/**
 * Error codes of the public contract (docs/contract.md, "Error codes"). Services throw {@link DomainError}s
 * with one of these; `graphql-error-formatter.ts` maps them to `extensions.code`.
 */
export enum ErrorCode {
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  BadUserInput = 'BAD_USER_INPUT',
  SeatUnavailable = 'SEAT_UNAVAILABLE',
  ReservationExpired = 'RESERVATION_EXPIRED',
  InvalidState = 'INVALID_STATE',
  /** The owner's refund window has passed (the policy gives 0 %, or the session has started). */
  RefundNotAllowed = 'REFUND_NOT_ALLOWED',
  LimitExceeded = 'LIMIT_EXCEEDED',
  SessionClosed = 'SESSION_CLOSED',
  RateLimited = 'RATE_LIMITED',
  /** The auditorium is busy then (`sessionIds`: the sessions in the way). */
  ScheduleConflict = 'SCHEDULE_CONFLICT',
  /** `afterMapVersion` can no longer be replayed: re-read the seat map. */
  ResyncRequired = 'RESYNC_REQUIRED',
  /** The selection would leave single seats alone (`seatIds`: those seats). */
  SeatGap = 'SEAT_GAP',
  /** The document could not be parsed (whole request refused). */
  GraphQLParseFailed = 'GRAPHQL_PARSE_FAILED',
  /** The document is invalid for the schema or outside the operation limits (whole request refused). */
  GraphQLValidationFailed = 'GRAPHQL_VALIDATION_FAILED',
  /** The HTTP request itself is unusable: unreadable or oversized body, wrong transport. */
  BadRequest = 'BAD_REQUEST',
  /** The request ran out of time and was undone; answered as the contract's INTERNAL_SERVER_ERROR. */
  Timeout = 'TIMEOUT',
  InternalServerError = 'INTERNAL_SERVER_ERROR',
}

/** Extra, client-safe facts about an error, sent in `extensions` (e.g. `seatIds`, `field`). */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/**
 * A failure the client caused or can act on. Knows nothing of GraphQL: the message and
 * details are safe to show to the caller.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const unauthenticated = (message = 'A valid bearer token is required.'): DomainError =>
  new DomainError(ErrorCode.Unauthenticated, message);

export const forbidden = (message = 'You are not allowed to do this.'): DomainError =>
  new DomainError(ErrorCode.Forbidden, message);

export const notFound = (what: string, id: string): DomainError =>
  new DomainError(ErrorCode.NotFound, `${what} ${id} does not exist.`, { id });

export const badUserInput = (field: string, message: string): DomainError =>
  new DomainError(ErrorCode.BadUserInput, message, { field });

/**
 * The request ran out of time and its work was undone (HTTP 503 when it refuses the whole
 * request; the client sees INTERNAL_SERVER_ERROR with `reason: 'TIMEOUT'`).
 */
export const requestTimedOut = (): DomainError =>
  new DomainError(ErrorCode.Timeout, 'The request took too long; nothing was changed.', {
    reason: 'TIMEOUT',
  });

/** Too many requests; the client may retry after `retryAfterSeconds`. */
export const rateLimited = (message: string, retryAfterSeconds: number): DomainError =>
  new DomainError(ErrorCode.RateLimited, message, { retryAfterSeconds });

/**
 * The refusal of an operation the process has no room for now (admission control): the
 * contract's RATE_LIMITED, with the seconds after which to retry.
 */
export const overloaded = (retryAfterSeconds: number): DomainError =>
  rateLimited(`The service is busy; retry in ${retryAfterSeconds} s.`, retryAfterSeconds);

import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { isPoolExhausted } from '../infra/database-errors';
import { DomainError, ErrorCode, overloaded } from './domain-error';

// Seconds a caller refused for want of a pooled connection should wait.
const POOL_EXHAUSTED_RETRY_AFTER_SECONDS = 1;

/**
 * How loud an error is in the logs. The caller's own mistakes are `debug` (they are answered,
 * and the operation log line already counts them); a timeout is `warn` (the service is slow,
 * not broken); only what the service could not handle is `error`.
 */
export type ErrorLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** How one code is answered; see {@link ERROR_CODE_TABLE}. */
export interface ErrorCodeAnswer {
  /** `extensions.code` on the wire: always one of the contract's codes (docs/contract.md). */
  readonly extensionCode: string;
  /**
   * The HTTP status when this error refuses the whole request before execution (parse,
   * validation, limits, rate budget, timeout, wrong transport). Errors raised while executing
   * are answered 200 with `errors`, as GraphQL over HTTP does for `application/json`.
   */
  readonly httpStatus: number;
  /** The level at which this error is logged wherever it is logged. */
  readonly logLevel: ErrorLogLevel;
}

/**
 * The one table from domain codes to the wire: `extensions.code`, HTTP status and log level;
 * exhaustive by type. No other module spells a wire code.
 */
export const ERROR_CODE_TABLE: Readonly<Record<ErrorCode, ErrorCodeAnswer>> = {
  [ErrorCode.Unauthenticated]: { extensionCode: 'UNAUTHENTICATED', httpStatus: 401, logLevel: 'debug' },
  [ErrorCode.Forbidden]: { extensionCode: 'FORBIDDEN', httpStatus: 403, logLevel: 'debug' },
  [ErrorCode.NotFound]: { extensionCode: 'NOT_FOUND', httpStatus: 404, logLevel: 'debug' },
  [ErrorCode.BadUserInput]: { extensionCode: 'BAD_USER_INPUT', httpStatus: 400, logLevel: 'debug' },
  [ErrorCode.SeatUnavailable]: { extensionCode: 'SEAT_UNAVAILABLE', httpStatus: 409, logLevel: 'debug' },
  [ErrorCode.ReservationExpired]: {
    extensionCode: 'RESERVATION_EXPIRED',
    httpStatus: 409,
    logLevel: 'debug',
  },
  [ErrorCode.InvalidState]: { extensionCode: 'INVALID_STATE', httpStatus: 409, logLevel: 'debug' },
  // 409, not 422: the request is well formed and would have been accepted earlier; it conflicts
  // with the sale's state now (the time left before its session), as SESSION_CLOSED does.
  [ErrorCode.RefundNotAllowed]: { extensionCode: 'REFUND_NOT_ALLOWED', httpStatus: 409, logLevel: 'debug' },
  [ErrorCode.LimitExceeded]: { extensionCode: 'LIMIT_EXCEEDED', httpStatus: 409, logLevel: 'debug' },
  [ErrorCode.SessionClosed]: { extensionCode: 'SESSION_CLOSED', httpStatus: 409, logLevel: 'debug' },
  [ErrorCode.RateLimited]: { extensionCode: 'RATE_LIMITED', httpStatus: 429, logLevel: 'debug' },
  [ErrorCode.ResyncRequired]: { extensionCode: 'RESYNC_REQUIRED', httpStatus: 409, logLevel: 'debug' },
  [ErrorCode.SeatGap]: { extensionCode: 'SEAT_GAP', httpStatus: 409, logLevel: 'debug' },
  [ErrorCode.ScheduleConflict]: {
    extensionCode: 'SCHEDULE_CONFLICT',
    httpStatus: 409,
    logLevel: 'debug',
  },
  [ErrorCode.GraphQLParseFailed]: {
    extensionCode: ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
    httpStatus: 400,
    logLevel: 'debug',
  },
  [ErrorCode.GraphQLValidationFailed]: {
    extensionCode: ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
    httpStatus: 400,
    logLevel: 'debug',
  },
  [ErrorCode.BadRequest]: {
    extensionCode: ApolloServerErrorCode.BAD_REQUEST,
    httpStatus: 400,
    logLevel: 'debug',
  },
  // Not a contract code of its own: the client sees INTERNAL_SERVER_ERROR with reason TIMEOUT.
  [ErrorCode.Timeout]: {
    extensionCode: ApolloServerErrorCode.INTERNAL_SERVER_ERROR,
    httpStatus: 503,
    logLevel: 'warn',
  },
  [ErrorCode.InternalServerError]: {
    extensionCode: ApolloServerErrorCode.INTERNAL_SERVER_ERROR,
    httpStatus: 500,
    logLevel: 'error',
  },
};

/** The contract's code for `code` (a shorthand for the table's column). */
export function wireCode(code: ErrorCode): string {
  return ERROR_CODE_TABLE[code].extensionCode;
}

/** Every `extensions.code` the contract knows: an outcome label from this set is bounded. */
export const WIRE_CODES: ReadonlySet<string> = new Set(
  Object.values(ERROR_CODE_TABLE).map((row) => row.extensionCode),
);

/**
 * Request-level codes produced by graphql-js and Apollo themselves (and our own refusals,
 * which reach the formatter already coded), and the rows they are answered with. Anything
 * else without a domain error behind it is masked.
 */
const PROTOCOL_CODES: ReadonlyMap<string, ErrorCode> = new Map([
  [ApolloServerErrorCode.GRAPHQL_PARSE_FAILED, ErrorCode.GraphQLParseFailed],
  [ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED, ErrorCode.GraphQLValidationFailed],
  [ApolloServerErrorCode.BAD_USER_INPUT, ErrorCode.BadUserInput],
  [ApolloServerErrorCode.BAD_REQUEST, ErrorCode.BadRequest],
  [ApolloServerErrorCode.PERSISTED_QUERY_NOT_FOUND, ErrorCode.BadRequest],
  [ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED, ErrorCode.BadRequest],
  // An operationName the document does not contain (docs/contract.md, "Limits").
  [ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE, ErrorCode.BadUserInput],
  [wireCode(ErrorCode.RateLimited), ErrorCode.RateLimited],
]);

/**
 * A GraphQL error that refuses a whole request (before execution), with the contract's code
 * and the table's HTTP status (plus `Retry-After` when the details carry `retryAfterSeconds`).
 */
export function requestRefusal(error: DomainError): GraphQLError {
  const answer = ERROR_CODE_TABLE[error.code];
  const retryAfter = error.details.retryAfterSeconds;
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: {
      ...error.details,
      code: answer.extensionCode,
      http: {
        status: answer.httpStatus,
        headers: new Map(typeof retryAfter === 'number' ? [['retry-after', String(retryAfter)]] : []),
      },
    },
  });
}

/** The same refusal as a plain HTTP answer, for refusals made before GraphQL runs. */
export function refusalResponse(error: DomainError): {
  status: number;
  body: { errors: GraphQLFormattedError[] };
} {
  const answer = ERROR_CODE_TABLE[error.code];
  return {
    status: answer.httpStatus,
    body: {
      errors: [{ message: error.message, extensions: { ...error.details, code: answer.extensionCode } }],
    },
  };
}

const INTERNAL_MESSAGE = 'Internal server error';

/** Logs an error the formatter masked, at the table's level for it. */
export type ErrorLogger = (error: unknown, level: ErrorLogLevel, message: string) => void;

function validationMessage(error: ArgumentValidationError): { message: string; fields: string[] } {
  const fields: string[] = [];
  const messages: string[] = [];
  const walk = (items: ArgumentValidationError['extensions']['validationErrors'], path: string): void => {
    for (const item of items) {
      const field = path ? `${path}.${item.property}` : item.property;
      if (item.constraints) {
        fields.push(field);
        messages.push(...Object.values(item.constraints).map((text) => `${field}: ${text}`));
      }
      if (item.children?.length) {
        walk(item.children, field);
      }
    }
  };
  walk(error.extensions.validationErrors, '');
  return { message: `Invalid input. ${messages.join('; ')}`, fields };
}

/**
 * Builds Apollo's `formatError`: domain errors keep their message and details under their
 * contract code (and are logged at their row's level: a client's mistake at `debug`, a timeout
 * at `warn`), GraphQL's own request errors pass through, a wait for a pooled connection that
 * timed out is RATE_LIMITED, everything else is logged and masked as INTERNAL_SERVER_ERROR.
 */
export function createErrorFormatter(logError: ErrorLogger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const thrown = unwrap(error);
    // No pooled connection in time is load, not a fault: answered as the admission gate answers
    // it (RATE_LIMITED with retryAfterSeconds), so a racer or a reader under load may retry.
    const original = isPoolExhausted(thrown) ? overloaded(POOL_EXHAUSTED_RETRY_AFTER_SECONDS) : thrown;
    if (original instanceof DomainError) {
      logError(original, ERROR_CODE_TABLE[original.code].logLevel, 'GraphQL error answered');
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { ...original.details, code: wireCode(original.code) },
      };
    }
    if (original instanceof ArgumentValidationError) {
      const { message, fields } = validationMessage(original);
      return {
        message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: wireCode(ErrorCode.BadUserInput), fields },
      };
    }
    const code = formatted.extensions?.code;
    const protocolCode = typeof code === 'string' ? PROTOCOL_CODES.get(code) : undefined;
    // Request-level errors (parse, validation, variable coercion) have no path: they never
    // reached a resolver, so their messages describe only the client's own document.
    if (protocolCode !== undefined && formatted.path === undefined) {
      // `http` only sets the response status; `stacktrace` never leaves the server.
      const { http: _http, stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return {
        message: formatted.message,
        locations: formatted.locations,
        extensions: { ...extensions, code: wireCode(protocolCode) },
      };
    }
    // Apollo's own refusals without a code (a persisted query whose hash does not match) carry
    // a 4xx status: the client's mistake, not ours.
    const status =
      error instanceof GraphQLError ? (error.extensions.http as { status?: number })?.status : undefined;
    if (formatted.path === undefined && typeof status === 'number' && status >= 400 && status < 500) {
      return {
        message: formatted.message,
        extensions: { code: wireCode(ErrorCode.BadRequest) },
      };
    }
    logError(
      original ?? error,
      ERROR_CODE_TABLE[ErrorCode.InternalServerError].logLevel,
      'Unexpected GraphQL error',
    );
    return {
      message: INTERNAL_MESSAGE,
      path: formatted.path,
      extensions: { code: wireCode(ErrorCode.InternalServerError) },
    };
  };
}

/** Apollo and graphql-js wrap resolver errors; dig out what was actually thrown. */
function unwrap(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth += 1) {
    if (current && typeof current === 'object' && 'originalError' in current && current.originalError) {
      current = current.originalError;
    } else {
      break;
    }
  }
  return current;
}

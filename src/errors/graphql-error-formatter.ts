import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { DomainError, ErrorCode } from './domain-error';

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
}

/** The one table from domain codes to the wire: `extensions.code` and HTTP status; exhaustive by type. */
export const ERROR_CODE_TABLE: Readonly<Record<ErrorCode, ErrorCodeAnswer>> = {
  [ErrorCode.Unauthenticated]: { extensionCode: 'UNAUTHENTICATED', httpStatus: 401 },
  [ErrorCode.Forbidden]: { extensionCode: 'FORBIDDEN', httpStatus: 403 },
  [ErrorCode.NotFound]: { extensionCode: 'NOT_FOUND', httpStatus: 404 },
  [ErrorCode.BadUserInput]: { extensionCode: 'BAD_USER_INPUT', httpStatus: 400 },
  [ErrorCode.SeatUnavailable]: { extensionCode: 'SEAT_UNAVAILABLE', httpStatus: 409 },
  [ErrorCode.ReservationExpired]: { extensionCode: 'RESERVATION_EXPIRED', httpStatus: 409 },
  [ErrorCode.InvalidState]: { extensionCode: 'INVALID_STATE', httpStatus: 409 },
  [ErrorCode.LimitExceeded]: { extensionCode: 'LIMIT_EXCEEDED', httpStatus: 409 },
  [ErrorCode.SessionClosed]: { extensionCode: 'SESSION_CLOSED', httpStatus: 409 },
  [ErrorCode.RateLimited]: { extensionCode: 'RATE_LIMITED', httpStatus: 429 },
  [ErrorCode.GraphQLParseFailed]: { extensionCode: 'GRAPHQL_PARSE_FAILED', httpStatus: 400 },
  [ErrorCode.GraphQLValidationFailed]: { extensionCode: 'GRAPHQL_VALIDATION_FAILED', httpStatus: 400 },
  [ErrorCode.BadRequest]: { extensionCode: 'BAD_REQUEST', httpStatus: 400 },
  // Not a contract code of its own: the client sees INTERNAL_SERVER_ERROR with reason TIMEOUT.
  [ErrorCode.Timeout]: { extensionCode: 'INTERNAL_SERVER_ERROR', httpStatus: 503 },
  [ErrorCode.InternalServerError]: { extensionCode: 'INTERNAL_SERVER_ERROR', httpStatus: 500 },
};

/**
 * Request-level codes produced by graphql-js and Apollo themselves, and what they become.
 * Anything else without a domain error behind it is masked.
 */
const PROTOCOL_CODES: ReadonlyMap<string, ErrorCode> = new Map([
  ['GRAPHQL_PARSE_FAILED', ErrorCode.GraphQLParseFailed],
  ['GRAPHQL_VALIDATION_FAILED', ErrorCode.GraphQLValidationFailed],
  ['BAD_USER_INPUT', ErrorCode.BadUserInput],
  ['BAD_REQUEST', ErrorCode.BadRequest],
  ['PERSISTED_QUERY_NOT_FOUND', ErrorCode.BadRequest],
  ['PERSISTED_QUERY_NOT_SUPPORTED', ErrorCode.BadRequest],
  // An operationName the document does not contain (docs/contract.md, "Limits").
  ['OPERATION_RESOLUTION_FAILURE', ErrorCode.BadUserInput],
  ['RATE_LIMITED', ErrorCode.RateLimited],
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

export type ErrorLogger = (error: unknown) => void;

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
 * contract code, GraphQL's own request errors pass through, everything else is logged and
 * masked as INTERNAL_SERVER_ERROR.
 */
export function createErrorFormatter(logError: ErrorLogger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrap(error);
    if (original instanceof DomainError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { ...original.details, code: ERROR_CODE_TABLE[original.code].extensionCode },
      };
    }
    if (original instanceof ArgumentValidationError) {
      const { message, fields } = validationMessage(original);
      return {
        message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: ERROR_CODE_TABLE[ErrorCode.BadUserInput].extensionCode, fields },
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
        extensions: { ...extensions, code: ERROR_CODE_TABLE[protocolCode].extensionCode },
      };
    }
    // Apollo's own refusals without a code (a persisted query whose hash does not match) carry
    // a 4xx status: the client's mistake, not ours.
    const status =
      error instanceof GraphQLError ? (error.extensions.http as { status?: number })?.status : undefined;
    if (formatted.path === undefined && typeof status === 'number' && status >= 400 && status < 500) {
      return {
        message: formatted.message,
        extensions: { code: ERROR_CODE_TABLE[ErrorCode.BadRequest].extensionCode },
      };
    }
    logError(original ?? error);
    return { message: INTERNAL_MESSAGE, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
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

import { type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { DomainError, ErrorCode } from './domain-error';

/** What each domain code becomes on the wire (`extensions.code`); exhaustive by type. */
export const ERROR_CODE_TABLE: Readonly<Record<ErrorCode, { extensionCode: string }>> = {
  [ErrorCode.Unauthenticated]: { extensionCode: 'UNAUTHENTICATED' },
  [ErrorCode.Forbidden]: { extensionCode: 'FORBIDDEN' },
  [ErrorCode.NotFound]: { extensionCode: 'NOT_FOUND' },
  [ErrorCode.BadUserInput]: { extensionCode: 'BAD_USER_INPUT' },
  [ErrorCode.SeatUnavailable]: { extensionCode: 'SEAT_UNAVAILABLE' },
  [ErrorCode.ReservationExpired]: { extensionCode: 'RESERVATION_EXPIRED' },
  [ErrorCode.InvalidState]: { extensionCode: 'INVALID_STATE' },
  [ErrorCode.LimitExceeded]: { extensionCode: 'LIMIT_EXCEEDED' },
  [ErrorCode.SessionClosed]: { extensionCode: 'SESSION_CLOSED' },
  [ErrorCode.RateLimited]: { extensionCode: 'RATE_LIMITED' },
};

/** Codes GraphQL itself (parsing, validation, variable coercion) produces; passed through. */
const PROTOCOL_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'RATE_LIMITED',
]);

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
    // Request-level errors (parse, validation, variable coercion) have no path: they never
    // reached a resolver, so their messages describe only the client's own document.
    if (typeof code === 'string' && PROTOCOL_CODES.has(code) && formatted.path === undefined) {
      // `http` only sets the response status; `stacktrace` never leaves the server.
      const { http: _http, stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return {
        message: formatted.message,
        locations: formatted.locations,
        extensions: { ...extensions, code },
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

import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { ErrorCode } from '../errors/domain-error';
import { wireCode } from '../errors/graphql-error-formatter';

// ISO-8601 date-time with an explicit offset ("Z" or "+hh:mm"): a time without a zone is
// ambiguous for a booking made across time zones.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parse(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) {
    throw new GraphQLError(
      'DateTime must be an ISO-8601 string with a time zone, e.g. 2030-01-31T20:00:00Z',
      {
        extensions: { code: wireCode(ErrorCode.BadUserInput) },
      },
    );
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new GraphQLError(`DateTime "${value}" is not a real date`, {
      extensions: { code: wireCode(ErrorCode.BadUserInput) },
    });
  }
  return date;
}

/** `DateTime`: a point in time, sent and received as an ISO-8601 string. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'A point in time as an ISO-8601 string with a time zone, e.g. `2030-01-31T20:00:00.000Z`.',
  serialize(value) {
    if (value instanceof Date) {
      return value.toISOString();
    }
    if (typeof value === 'string') {
      return new Date(value).toISOString();
    }
    throw new TypeError('DateTime cannot represent a non-date value');
  },
  parseValue: parse,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime must be a string', {
        extensions: { code: wireCode(ErrorCode.BadUserInput) },
      });
    }
    return parse(ast.value);
  },
});

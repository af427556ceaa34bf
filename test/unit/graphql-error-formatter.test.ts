import { GraphQLError } from 'graphql';
import { DomainError, ErrorCode } from '../../src/errors/domain-error';
import { createErrorFormatter, ERROR_CODE_TABLE } from '../../src/errors/graphql-error-formatter';

describe('GraphQL error formatting', () => {
  const logged: unknown[] = [];
  const format = createErrorFormatter((error) => logged.push(error));

  function fromResolver(original: Error): GraphQLError {
    return new GraphQLError(original.message, { path: ['reserve'], originalError: original });
  }

  it('maps every domain code to its contract code, keeping message and details', () => {
    for (const code of Object.values(ErrorCode)) {
      const error = fromResolver(new DomainError(code, 'Explained.', { seatIds: ['s1'] }));
      expect(format(error.toJSON(), error)).toEqual({
        message: 'Explained.',
        path: ['reserve'],
        extensions: { code: ERROR_CODE_TABLE[code].extensionCode, seatIds: ['s1'] },
      });
    }
    expect(Object.keys(ERROR_CODE_TABLE).sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it('masks unknown errors as INTERNAL_SERVER_ERROR and logs them', () => {
    const secret = new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');
    const error = fromResolver(secret);
    const formatted = format(error.toJSON(), error);
    expect(formatted).toEqual({
      message: 'Internal server error',
      path: ['reserve'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(JSON.stringify(formatted)).not.toContain('hunter2');
    expect(logged).toContain(secret);
  });

  it("logs domain errors at their table row's level: client mistakes quietly, timeouts as warnings", () => {
    const levels: [string, string][] = [];
    const formatWithLevels = createErrorFormatter((error, level) =>
      levels.push([(error as DomainError).code, level]),
    );
    for (const code of [ErrorCode.SeatUnavailable, ErrorCode.Timeout]) {
      const error = fromResolver(new DomainError(code, 'Explained.'));
      formatWithLevels(error.toJSON(), error);
    }
    expect(levels).toEqual([
      [ErrorCode.SeatUnavailable, 'debug'],
      [ErrorCode.Timeout, 'warn'],
    ]);
  });

  it('does not trust a code a resolver error claims for itself', () => {
    const error = new GraphQLError('internal detail', {
      path: ['session'],
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(format(error.toJSON(), error).extensions?.code).toBe('INTERNAL_SERVER_ERROR');
  });

  it('passes request errors (no path) through', () => {
    const error = new GraphQLError('Cannot query field "nope" on type "Query".', {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    expect(format(error.toJSON(), error)).toMatchObject({
      message: 'Cannot query field "nope" on type "Query".',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });
});

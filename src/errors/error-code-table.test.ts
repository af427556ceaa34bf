import { ErrorCode } from './domain-error';
import { ERROR_CODE_TABLE, WIRE_CODES, wireCode } from './graphql-error-formatter';

describe('error code table', () => {
  it('logs only what the service could not handle as an error, a timeout as a warning', () => {
    const levels = Object.entries(ERROR_CODE_TABLE).map(([code, row]) => [code, row.logLevel]);
    expect(levels.filter(([, level]) => level === 'error')).toEqual([
      [ErrorCode.InternalServerError, 'error'],
    ]);
    expect(ERROR_CODE_TABLE[ErrorCode.Timeout].logLevel).toBe('warn');
    expect(ERROR_CODE_TABLE[ErrorCode.SeatUnavailable].logLevel).toBe('debug');
  });

  it('answers a timeout under the internal code, and knows every wire code it answers', () => {
    expect(wireCode(ErrorCode.Timeout)).toBe(wireCode(ErrorCode.InternalServerError));
    for (const code of Object.values(ErrorCode)) {
      expect(WIRE_CODES.has(wireCode(code))).toBe(true);
    }
  });
});

describe('REFUND_NOT_ALLOWED', () => {
  it('is answered under its own contract code, as a conflict with the current state (409), logged as a client mistake', () => {
    expect(ERROR_CODE_TABLE[ErrorCode.RefundNotAllowed]).toEqual({
      extensionCode: 'REFUND_NOT_ALLOWED',
      httpStatus: 409,
      logLevel: 'debug',
    });
  });
});

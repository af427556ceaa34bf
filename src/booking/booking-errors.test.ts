import { DomainError, ErrorCode } from '../errors/domain-error';
import { seatUnavailable } from './booking-errors';

describe('seatUnavailable', () => {
  it('names the seats, carries no stack frames, and leaves stack capture as it was', () => {
    const limit = Error.stackTraceLimit;
    const error = seatUnavailable(['seat-1', 'seat-2']);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe(ErrorCode.SeatUnavailable);
    expect(error.details).toEqual({ seatIds: ['seat-1', 'seat-2'] });
    expect(error.stack).not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('other').stack).toMatch(/\n\s+at /);
  });
});

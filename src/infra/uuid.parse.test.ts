import { type DomainError } from '../errors/domain-error';
import { parseId, parseIds } from './uuid';

const ID = '01A20302-9AE7-7000-ADA0-7E24D907B529';

describe('id normaliser', () => {
  it('lower-cases a UUID', () => {
    expect(parseId('id', ID)).toBe(ID.toLowerCase());
    expect(parseIds('seatIds', [ID])).toEqual([ID.toLowerCase()]);
  });

  it('refuses a malformed id as BAD_USER_INPUT naming the field', () => {
    expect(() => parseId('sessionId', 'seat-1')).toThrow(
      expect.objectContaining({
        code: 'BAD_USER_INPUT',
        message: 'sessionId must be a UUID.',
        details: { field: 'sessionId' },
      }) as DomainError,
    );
  });

  it('reports every malformed id of a list at once', () => {
    expect(() => parseIds('seatIds', [ID, 'a', 'b'], 'Seat ids must be UUIDs.')).toThrow(
      expect.objectContaining({
        code: 'BAD_USER_INPUT',
        message: 'Seat ids must be UUIDs.',
        details: { field: 'seatIds', seatIds: ['a', 'b'] },
      }) as DomainError,
    );
  });
});

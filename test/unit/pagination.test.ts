import { decodeCursor, encodeCursor } from '../../src/booking/pagination';
import { ErrorCode } from '../../src/errors/domain-error';

const ID = '01234567-89ab-7def-8123-456789abcdef';
const base64url = (text: string) => Buffer.from(text).toString('base64url');

function refusal(cursor: string, parts: readonly ('timestamp' | 'uuid')[]) {
  try {
    decodeCursor(cursor, parts);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('cursors', () => {
  it('decodes what it encodes', () => {
    const startsAt = new Date('2031-05-06T07:08:09.123Z');
    const [decodedDate, decodedId] = decodeCursor(encodeCursor([startsAt, ID]), ['timestamp', 'uuid']);
    expect(decodedDate).toEqual(startsAt);
    expect(decodedId).toBe(ID);
    expect(decodeCursor(encodeCursor([ID]), ['uuid'])).toEqual([ID]);
  });

  it.each([
    ['not base64 JSON', 'garbage', ['uuid']],
    ['a key of another length', encodeCursor([ID, ID]), ['uuid']],
    [
      'a date before year 0',
      base64url(JSON.stringify(['-010000-01-01T00:00:00.000Z', ID])),
      ['timestamp', 'uuid'],
    ],
    [
      'a date after year 9999',
      base64url(JSON.stringify(['+275760-09-13T00:00:00.000Z', ID])),
      ['timestamp', 'uuid'],
    ],
    ['a date the API does not write', base64url(JSON.stringify(['2031-05-06', ID])), ['timestamp', 'uuid']],
    [
      'an impossible date',
      base64url(JSON.stringify(['2031-02-30T00:00:00.000Z', ID])),
      ['timestamp', 'uuid'],
    ],
    ['an upper-case id', base64url(JSON.stringify([ID.toUpperCase()])), ['uuid']],
    ['another JSON spelling', base64url(`[ "${ID}" ]`), ['uuid']],
    ['padded base64', `${encodeCursor([ID])}==`, ['uuid']],
  ] as const)('refuses %s as BAD_USER_INPUT on `after`', (_name, cursor, parts) => {
    expect(refusal(cursor, parts)).toMatchObject({
      code: ErrorCode.BadUserInput,
      details: { field: 'after' },
    });
  });
});

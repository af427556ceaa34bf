import { rowIndex, rowLetters, seatLabel } from '../../src/seating/seat-label';

describe('seat labels', () => {
  it('names rows A..Z, then AA, AB, ... like spreadsheet columns', () => {
    expect([0, 1, 25, 26, 27, 51, 52, 99, 701, 702].map(rowLetters)).toEqual([
      'A',
      'B',
      'Z',
      'AA',
      'AB',
      'AZ',
      'BA',
      'CV',
      'ZZ',
      'AAA',
    ]);
  });

  it('refuses negative or fractional rows', () => {
    expect(() => rowLetters(-1)).toThrow(RangeError);
    expect(() => rowLetters(1.5)).toThrow(RangeError);
  });

  it('reads row letters back into the row index', () => {
    for (const index of [0, 1, 25, 26, 27, 51, 52, 99, 701, 702, 18_277]) {
      expect(rowIndex(rowLetters(index))).toBe(index);
    }
  });

  it('joins row and number', () => {
    expect(seatLabel('C', 7)).toBe('C7');
  });
});

import { type DomainError } from '../errors/domain-error';
import { type LayoutSymbol, parseAuditoriumLayout, SeatKind } from './auditorium-layout';

const LEGEND: LayoutSymbol[] = [
  { symbol: 's', category: 'STANDARD', kind: SeatKind.STANDARD },
  { symbol: 'P', category: 'PREMIUM', kind: SeatKind.STANDARD },
  { symbol: 'w', category: 'STANDARD', kind: SeatKind.WHEELCHAIR },
  { symbol: 'c', category: 'STANDARD', kind: SeatKind.COMPANION },
];

/** The refusal `parse` throws. */
function refusal(parse: () => unknown): DomainError {
  try {
    parse();
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

function expectRefused(
  legend: readonly LayoutSymbol[],
  rows: readonly string[],
  message: string,
  details: Record<string, unknown>,
): void {
  const error = refusal(() => parseAuditoriumLayout(legend, rows));
  expect({ code: error.code, message: error.message, details: error.details }).toEqual({
    code: 'BAD_USER_INPUT',
    message,
    details,
  });
}

describe('auditorium layout', () => {
  it('numbers seats from the left across a row, gaps taking no number, with x and y', () => {
    const layout = parseAuditoriumLayout(LEGEND, ['ss.ss', ' sss ']);
    expect(layout.seats.map(({ row, number, x, y }) => [`${row}${number}`, x, y])).toEqual([
      ['A1', 0, 0],
      ['A2', 1, 0],
      ['A3', 3, 0],
      ['A4', 4, 0],
      ['B1', 1, 1],
      ['B2', 2, 1],
      ['B3', 3, 1],
    ]);
  });

  it('gives each seat the category and kind of its symbol, and lists the categories used', () => {
    const layout = parseAuditoriumLayout(LEGEND, ['wc.ss', 'PPPP']);
    expect(layout.seats.map(({ number, category, kind }) => [number, category, kind])).toEqual([
      [1, 'STANDARD', 'WHEELCHAIR'],
      [2, 'STANDARD', 'COMPANION'],
      [3, 'STANDARD', 'STANDARD'],
      [4, 'STANDARD', 'STANDARD'],
      [1, 'PREMIUM', 'STANDARD'],
      [2, 'PREMIUM', 'STANDARD'],
      [3, 'PREMIUM', 'STANDARD'],
      [4, 'PREMIUM', 'STANDARD'],
    ]);
    expect(layout.categories).toEqual(['STANDARD', 'PREMIUM']);
  });

  it('lists only the categories its seats use, with legend categories trimmed', () => {
    const layout = parseAuditoriumLayout(
      [...LEGEND, { symbol: 'V', category: ' VIP ', kind: SeatKind.STANDARD }],
      ['VV'],
    );
    expect(layout.categories).toEqual(['VIP']);
    expect(layout.legend.find((entry) => entry.symbol === 'V')?.category).toBe('VIP');
  });

  it('labels rows past Z as AA, AB, ... and takes 100 rows of 100 characters', () => {
    const rows = Array.from({ length: 100 }, () => 's'.repeat(100));
    const layout = parseAuditoriumLayout(LEGEND, rows);
    expect(layout.seats).toHaveLength(10_000);
    expect(layout.seats[26 * 100]).toMatchObject({ row: 'AA', number: 1, x: 0, y: 26 });
    expect(layout.seats.at(-1)).toMatchObject({ row: 'CV', number: 100, x: 99, y: 99 });
  });

  it('counts a symbol outside the basic plane as one character', () => {
    const layout = parseAuditoriumLayout(
      [{ symbol: '💺', category: 'STANDARD', kind: SeatKind.STANDARD }],
      ['💺.💺'],
    );
    expect(layout.seats.map(({ number, x }) => [number, x])).toEqual([
      [1, 0],
      [2, 2],
    ]);
  });

  it('refuses an unknown symbol, naming its row and column', () => {
    expectRefused(LEGEND, ['sss', 'sss', 'ssssssQ'], "Row C, column 7: unknown symbol 'Q'.", {
      field: 'rows',
      row: 'C',
      column: 7,
    });
  });

  it('refuses a legend symbol that is not exactly one character', () => {
    for (const symbol of ['', 'ab']) {
      expectRefused(
        [{ symbol, category: 'STANDARD', kind: SeatKind.STANDARD }],
        ['s'],
        `Legend symbol '${symbol}' must be exactly one character.`,
        { field: 'legend', symbol },
      );
    }
  });

  it('refuses "." and " " as legend symbols', () => {
    for (const symbol of ['.', ' ']) {
      expectRefused(
        [{ symbol, category: 'STANDARD', kind: SeatKind.STANDARD }],
        ['s'],
        `Legend symbol '${symbol}' is reserved for "no seat".`,
        { field: 'legend', symbol },
      );
    }
  });

  it('refuses a legend symbol that appears twice', () => {
    expectRefused(
      [...LEGEND, { symbol: 's', category: 'PREMIUM', kind: SeatKind.STANDARD }],
      ['s'],
      "Legend symbol 's' appears more than once.",
      { field: 'legend', symbol: 's' },
    );
  });

  it('refuses an empty legend, and one of more than 100 symbols', () => {
    expectRefused([], ['s'], 'legend must define at least one symbol.', { field: 'legend' });
    const many = Array.from({ length: 101 }, (_, index) => ({
      symbol: String.fromCharCode(0x100 + index),
      category: 'STANDARD',
      kind: SeatKind.STANDARD,
    }));
    expectRefused(many, ['s'], 'legend may define at most 100 symbols.', { field: 'legend' });
  });

  it('refuses a blank or too long category', () => {
    for (const category of ['  ', 'x'.repeat(51)]) {
      expectRefused(
        [{ symbol: 's', category, kind: SeatKind.STANDARD }],
        ['s'],
        "The category of legend symbol 's' must be 1-50 visible characters, not blank.",
        { field: 'legend', symbol: 's' },
      );
    }
  });

  it('refuses invisible symbols and categories: control and format characters, spaces, lone surrogates', () => {
    for (const symbol of ['\t', '\u00a0', '\u3000', '\u200b', '\u0000', '\ud800']) {
      expectRefused(
        [{ symbol, category: 'STANDARD', kind: SeatKind.STANDARD }],
        [symbol],
        `Legend symbol '${symbol}' must be a visible character.`,
        { field: 'legend', symbol },
      );
    }
    expectRefused(
      [{ symbol: 's', category: 'VIP\u0000', kind: SeatKind.STANDARD }],
      ['s'],
      "The category of legend symbol 's' must be 1-50 visible characters, not blank.",
      { field: 'legend', symbol: 's' },
    );
  });

  it('refuses an empty row set', () => {
    expectRefused(LEGEND, [], 'rows must have at least one row.', { field: 'rows' });
  });

  it('refuses a row with no seat, empty or all gaps', () => {
    expectRefused(LEGEND, ['ss', ' . '], 'Row B has no seat.', { field: 'rows', row: 'B' });
    expectRefused(LEGEND, [''], 'Row A has no seat.', { field: 'rows', row: 'A' });
  });

  it('refuses more than 100 rows', () => {
    expectRefused(
      LEGEND,
      Array.from({ length: 101 }, () => 's'),
      'rows may have at most 100 rows, got 101.',
      { field: 'rows' },
    );
  });

  it('refuses a row of more than 100 characters, gaps included', () => {
    expectRefused(
      LEGEND,
      ['s', `${'s'.repeat(50)}${'.'.repeat(51)}`],
      'Row B has more than 100 characters.',
      {
        field: 'rows',
        row: 'B',
      },
    );
    expectRefused(LEGEND, ['s'.repeat(10_000)], 'Row A has more than 100 characters.', {
      field: 'rows',
      row: 'A',
    });
  });
});

import { DomainError, ErrorCode } from '../errors/domain-error';
import { isPrintable } from '../infra/text';
import { rowLetters } from './seat-label';

/** What a seat is for; the price comes from its category. */
export enum SeatKind {
  STANDARD = 'STANDARD',
  WHEELCHAIR = 'WHEELCHAIR',
  COMPANION = 'COMPANION',
}

/** Most rows an auditorium's layout may have. */
export const MAX_LAYOUT_ROWS = 100;

/** Most characters (seats and gaps) in one row of a layout. */
export const MAX_LAYOUT_COLUMNS = 100;

/** Most symbols a legend may define. */
export const MAX_LEGEND_SYMBOLS = 100;

/** Longest price category name, in characters. */
export const MAX_CATEGORY_LENGTH = 50;

/** The characters that stand for "no seat here" (an aisle, a pillar, the row's ragged end). */
export const GAP_SYMBOLS: readonly string[] = ['.', ' '];

/** One symbol of a layout's legend: the seats it stands for. */
export interface LayoutSymbol {
  readonly symbol: string;
  readonly category: string;
  readonly kind: SeatKind;
}

/** One seat of a parsed layout. */
export interface LayoutSeat {
  /** Row letters: A for the front row (`y` = 0), then B, … */
  readonly row: string;
  /** 1, 2, … from the left of its row; gaps take no number. */
  readonly number: number;
  /** The character's index in its row, gaps included (0-based). */
  readonly x: number;
  /** The row's index, front first (0-based). */
  readonly y: number;
  readonly category: string;
  readonly kind: SeatKind;
}

/** An auditorium's seats, as its legend and rows describe them. */
export interface AuditoriumLayout {
  /** Row by row, front first, then left to right. */
  readonly seats: readonly LayoutSeat[];
  /** The categories its seats use, in order of first appearance (front row, left first). */
  readonly categories: readonly string[];
  /** The legend as checked: categories trimmed. */
  readonly legend: readonly LayoutSymbol[];
}

/** BAD_USER_INPUT about one field of the layout, with where in it when that is known. */
function refuse(field: 'legend' | 'rows', message: string, where: Record<string, unknown> = {}): DomainError {
  return new DomainError(ErrorCode.BadUserInput, message, { field, ...where });
}

// Separators (spaces of every kind) are refused as symbols: they look like gaps on a drawing.
const BLANK = /\p{Z}/u;

/** `text` as echoed in an error: cut short when long (a 60 KB "symbol" is not sent back whole). */
function excerpt(text: string): string {
  const characters = charactersOf(text.slice(0, 40));
  return `${characters.slice(0, 10).join('')}${characters.length > 10 || text.length > 40 ? '…' : ''}`;
}

/** The characters of `text` (code points, so a symbol outside the BMP is one character). */
function charactersOf(text: string): string[] {
  return Array.from(text);
}

function checkedLegend(legend: readonly LayoutSymbol[]): Map<string, LayoutSymbol> {
  if (legend.length === 0) {
    throw refuse('legend', 'legend must define at least one symbol.');
  }
  if (legend.length > MAX_LEGEND_SYMBOLS) {
    throw refuse('legend', `legend may define at most ${MAX_LEGEND_SYMBOLS} symbols.`);
  }
  const symbols = new Map<string, LayoutSymbol>();
  for (const entry of legend) {
    const symbol = excerpt(entry.symbol);
    const shown = `'${symbol}'`;
    // Length first: a long symbol is refused without splitting it into characters.
    if (entry.symbol.length > 2 || charactersOf(entry.symbol).length !== 1) {
      throw refuse('legend', `Legend symbol ${shown} must be exactly one character.`, {
        symbol,
      });
    }
    if (!isPrintable(entry.symbol) || (BLANK.test(entry.symbol) && !GAP_SYMBOLS.includes(entry.symbol))) {
      throw refuse('legend', `Legend symbol ${shown} must be a visible character.`, { symbol });
    }
    if (GAP_SYMBOLS.includes(entry.symbol)) {
      throw refuse('legend', `Legend symbol ${shown} is reserved for "no seat".`, { symbol });
    }
    if (symbols.has(entry.symbol)) {
      throw refuse('legend', `Legend symbol ${shown} appears more than once.`, { symbol });
    }
    const category = entry.category.trim();
    if (!category || charactersOf(category).length > MAX_CATEGORY_LENGTH || !isPrintable(category)) {
      throw refuse(
        'legend',
        `The category of legend symbol ${shown} must be 1-${MAX_CATEGORY_LENGTH} visible characters, not blank.`,
        { symbol },
      );
    }
    symbols.set(entry.symbol, { symbol: entry.symbol, category, kind: entry.kind });
  }
  return symbols;
}

/**
 * Turns a legend and rows into seats: row `y` (front first) is labelled A, B, …; in a row the
 * seats are numbered 1, 2, … from the left, gaps (`.` and space) taking no number; `x` is the
 * character's index. Pure: the same input always gives the same layout.
 *
 * @throws DomainError BAD_USER_INPUT (`field` `legend` or `rows`, with `row` and `column` when
 *   the fault is at one place) for: no symbols or more than 100, a symbol that is not exactly one
 *   character, is a gap or appears twice, a blank or too long category; no rows, more than 100
 *   rows or columns, a row with no seat, an unknown symbol.
 */
export function parseAuditoriumLayout(
  legend: readonly LayoutSymbol[],
  rows: readonly string[],
): AuditoriumLayout {
  const symbols = checkedLegend(legend);
  if (rows.length === 0) {
    throw refuse('rows', 'rows must have at least one row.');
  }
  if (rows.length > MAX_LAYOUT_ROWS) {
    throw refuse('rows', `rows may have at most ${MAX_LAYOUT_ROWS} rows, got ${rows.length}.`);
  }
  const seats: LayoutSeat[] = [];
  const categories = new Set<string>();
  rows.forEach((text, y) => {
    const row = rowLetters(y);
    // Counted before splitting: a very long row is refused without building its characters.
    if (text.length > MAX_LAYOUT_COLUMNS * 2 || charactersOf(text).length > MAX_LAYOUT_COLUMNS) {
      throw refuse('rows', `Row ${row} has more than ${MAX_LAYOUT_COLUMNS} characters.`, { row });
    }
    let number = 0;
    charactersOf(text).forEach((character, x) => {
      if (GAP_SYMBOLS.includes(character)) {
        return;
      }
      const symbol = symbols.get(character);
      if (!symbol) {
        throw refuse('rows', `Row ${row}, column ${x + 1}: unknown symbol '${character}'.`, {
          row,
          column: x + 1,
        });
      }
      number += 1;
      categories.add(symbol.category);
      seats.push({ row, number, x, y, category: symbol.category, kind: symbol.kind });
    });
    if (number === 0) {
      throw refuse('rows', `Row ${row} has no seat.`, { row });
    }
  });
  return { seats, categories: [...categories], legend: [...symbols.values()] };
}

/** The one category of a session made by `createSession` (a one-off rectangular room). */
export const STANDARD_CATEGORY = 'STANDARD';

/**
 * The seats of a one-off rectangular room (`createSession`): `rows` rows of `seatsPerRow`
 * STANDARD seats, no gaps, so each seat's `x` is its number - 1.
 */
export function rectangularLayout(rows: number, seatsPerRow: number): LayoutSeat[] {
  const seats: LayoutSeat[] = [];
  for (let y = 0; y < rows; y += 1) {
    const row = rowLetters(y);
    for (let x = 0; x < seatsPerRow; x += 1) {
      seats.push({ row, number: x + 1, x, y, category: STANDARD_CATEGORY, kind: SeatKind.STANDARD });
    }
  }
  return seats;
}

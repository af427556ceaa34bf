/**
 * Row letters for a 0-based row index: A..Z, then AA, AB, ... (bijective base 26, like
 * spreadsheet columns).
 */
export function rowLetters(rowIndex: number): string {
  if (!Number.isInteger(rowIndex) || rowIndex < 0) {
    throw new RangeError(`rowIndex must be a non-negative integer, got ${rowIndex}`);
  }
  let letters = '';
  let remaining = rowIndex + 1;
  while (remaining > 0) {
    const digit = (remaining - 1) % 26;
    letters = String.fromCharCode(65 + digit) + letters;
    remaining = Math.floor((remaining - 1) / 26);
  }
  return letters;
}

/** The label users read on the seat, e.g. `C7`. */
export function seatLabel(row: string, number: number): string {
  return `${row}${number}`;
}

/** The 0-based row index of row letters: the inverse of {@link rowLetters}. */
export function rowIndex(letters: string): number {
  let index = 0;
  for (const letter of letters) {
    index = index * 26 + (letter.charCodeAt(0) - 64);
  }
  return index - 1;
}

// Control and format characters, lone surrogates: PostgreSQL cannot store some (NUL, lone
// surrogates in jsonb) and the others draw nothing, so a name could look blank or like another.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}]/u;

/**
 * True when `text` holds only characters that can be stored and drawn: no control or format
 * character and no lone surrogate. The one rule for text shown to others (movie titles, room,
 * auditorium and category names, legend symbols, refund reasons).
 */
export function isPrintable(text: string): boolean {
  return !UNPRINTABLE.test(text);
}

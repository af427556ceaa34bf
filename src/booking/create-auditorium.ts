import { type EntityManager } from '@mikro-orm/postgresql';
import { Auditorium } from '../entities/auditorium.entity';
import { badUserInput } from '../errors/domain-error';
import { type RequestDeadline } from '../infra/request-deadline';
import { isPrintable } from '../infra/text';
import { type LayoutSymbol, parseAuditoriumLayout, SeatKind } from '../seating/auditorium-layout';
import { type BookingTransactions } from './booking-transaction';

/** Longest auditorium name, in characters (after trimming). */
export const MAX_AUDITORIUM_NAME_LENGTH = 100;

/**
 * Most auditoriums one deployment keeps: `auditoriums` is a list without pagination, costed at
 * this size by the operation limits.
 */
export const MAX_AUDITORIUMS = 100;

/** The cleaning buffer of an auditorium created without one, in minutes (seed 004). */
export const DEFAULT_CLEANING_BUFFER_MINUTES = 15;

/** Longest cleaning buffer, in minutes. */
export const MAX_CLEANING_BUFFER_MINUTES = 240;

/** One legend entry as asked for; a missing kind is STANDARD. */
export interface LayoutSymbolCommand {
  readonly symbol: string;
  readonly category: string;
  readonly kind?: SeatKind | null;
}

/** What `createAuditorium` needs; only the GraphQL types are checked by the input. */
export interface CreateAuditoriumCommand {
  readonly name: string;
  /** Null or absent: {@link DEFAULT_CLEANING_BUFFER_MINUTES}. */
  readonly cleaningBufferMinutes?: number | null;
  /** A symbol without a kind stands for STANDARD seats. */
  readonly legend: readonly LayoutSymbolCommand[];
  readonly rows: readonly string[];
}

/** What creating an auditorium depends on, built once by the composition root. */
export interface AuditoriumCreationDependencies {
  /** Runs the creation within the request's deadline. */
  readonly transactions: Pick<BookingTransactions, 'within'>;
}

/**
 * Creates an auditorium from its legend and rows (see `parseAuditoriumLayout`), storing them as
 * given with the categories and capacity of their seats.
 *
 * @param deadline the HTTP request's: the auditorium is created before it or not at all.
 * @throws DomainError BAD_USER_INPUT for a blank or too long name, a buffer outside 0-240, a
 *   layout the parser refuses, a name already taken.
 */
export async function createAuditorium(
  deps: AuditoriumCreationDependencies,
  em: EntityManager,
  command: CreateAuditoriumCommand,
  deadline?: RequestDeadline,
): Promise<Auditorium> {
  const name = command.name.trim();
  if (!name || Array.from(name).length > MAX_AUDITORIUM_NAME_LENGTH || !isPrintable(name)) {
    throw badUserInput('name', `name must be 1-${MAX_AUDITORIUM_NAME_LENGTH} visible characters, not blank.`);
  }
  const buffer = command.cleaningBufferMinutes ?? DEFAULT_CLEANING_BUFFER_MINUTES;
  if (!Number.isInteger(buffer) || buffer < 0 || buffer > MAX_CLEANING_BUFFER_MINUTES) {
    throw badUserInput(
      'cleaningBufferMinutes',
      `cleaningBufferMinutes must be between 0 and ${MAX_CLEANING_BUFFER_MINUTES}.`,
    );
  }
  const legend: LayoutSymbol[] = command.legend.map((entry) => ({
    symbol: entry.symbol,
    category: entry.category,
    kind: entry.kind ?? SeatKind.STANDARD,
  }));
  const layout = parseAuditoriumLayout(legend, command.rows);
  return deps.transactions.within(em, deadline, async (tx) => {
    const auditoriums = tx.getRepository(Auditorium);
    // Creations take turns (admins create rooms rarely), so the count cannot be overtaken.
    if ((await auditoriums.countForCreation()) >= MAX_AUDITORIUMS) {
      throw badUserInput('name', `A deployment keeps at most ${MAX_AUDITORIUMS} auditoriums.`);
    }
    return auditoriums.add({
      name,
      cleaningBufferMinutes: buffer,
      categories: [...layout.categories],
      capacity: layout.seats.length,
      rows: [...command.rows],
      // As parsed: categories trimmed, kinds given.
      legend: [...layout.legend],
    });
  });
}

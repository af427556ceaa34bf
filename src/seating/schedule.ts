/** Longest screening a session may be scheduled for, in minutes (24 h). */
export const MAX_DURATION_MINUTES = 24 * 60;

/** How long a session made by `createSession` lasts unless told otherwise, in minutes. */
export const DEFAULT_DURATION_MINUTES = 120;

/** When a session ends, and until when its auditorium is busy with it. */
export interface SessionSpan {
  /** `startsAt` + the duration. */
  readonly endsAt: Date;
  /** `endsAt` + the auditorium's cleaning buffer (seed 004): the next session may start then. */
  readonly busyUntil: Date;
}

const MINUTE_MILLISECONDS = 60_000;

/**
 * The span a session occupies in its auditorium: `[startsAt, busyUntil)`. Two sessions of one
 * auditorium whose spans overlap cannot both exist (the database refuses the second).
 */
export function sessionSpan(
  startsAt: Date,
  durationMinutes: number,
  cleaningBufferMinutes: number,
): SessionSpan {
  const endsAt = new Date(startsAt.getTime() + durationMinutes * MINUTE_MILLISECONDS);
  return { endsAt, busyUntil: new Date(endsAt.getTime() + cleaningBufferMinutes * MINUTE_MILLISECONDS) };
}

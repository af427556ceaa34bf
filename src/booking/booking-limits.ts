/** Seats in one reservation, at most. */
export const MAX_SEATS_PER_RESERVATION = 10;

/** PENDING reservations one user may hold at once. */
export const MAX_ACTIVE_HOLDS_PER_USER = 5;

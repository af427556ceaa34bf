/** Most rows a session's room may have (`CreateSessionInput.rows`). */
export const MAX_ROWS = 100;

/** Most seats in one row (`CreateSessionInput.seatsPerRow`). */
export const MAX_SEATS_PER_ROW = 100;

/** Most seats one session may have: the largest seat map the API can be asked for. */
export const MAX_SEATS_PER_SESSION = MAX_ROWS * MAX_SEATS_PER_ROW;

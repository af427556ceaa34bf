/** A tab the GraphQL IDE opens with (until the browser has tabs of its own stored). */
export interface IdeExampleTab {
  readonly query: string;
  readonly variables: string;
  readonly headers: string;
}

const NO_TOKEN = JSON.stringify({ Authorization: '' }, null, 2);

const tab = (query: string, variables: Record<string, unknown> = {}): IdeExampleTab => ({
  query: `${query.trim()}\n`,
  variables: Object.keys(variables).length > 0 ? JSON.stringify(variables, null, 2) : '',
  headers: NO_TOKEN,
});

/**
 * The IDE's example tabs, in the order a cinema is set up and used: list sessions, create an
 * auditorium (admin), schedule a session in it with a price per category (admin), read its
 * seat map, reserve (the total is the sum of the seats' prices), pay, refund. Every document
 * is checked against the served schema (`graphql-ide-examples.test.ts`).
 */
export const IDE_EXAMPLE_TABS: readonly IdeExampleTab[] = [
  tab(`
# Welcome to Poltrona. Schema docs: the book icon on the left; more examples in the other tabs.
# Mutations need a token in Headers: { "Authorization": "Bearer …" }
#   npm run token -- --user alice          (a customer)
#   npm run token -- --user admin --admin  (an admin, who creates auditoriums and sessions)
# or pick a user on a demo seat map page (/ lists the sessions) and copy its token.

query Sessions {
  sessions(first: 10) {
    edges { node { id movie room startsAt endsAt availableSeats priceCents } }
    pageInfo { hasNextPage endCursor }
  }
}`),
  tab(
    `
# Admin: an auditorium drawn as text rows, front row first. Each legend symbol is one
# character with a price category and a kind; "." and " " are gaps (here an aisle after
# the 2nd place). Row A: a wheelchair space (w) and its companion seat (c).
mutation CreateAuditorium($input: CreateAuditoriumInput!) {
  createAuditorium(input: $input) {
    id name capacity categories rows cleaningBufferMinutes
  }
}`,
    {
      input: {
        name: 'Sala 1',
        cleaningBufferMinutes: 15,
        legend: [
          { symbol: 's', category: 'STANDARD' },
          { symbol: 'p', category: 'PREMIUM' },
          { symbol: 'w', category: 'STANDARD', kind: 'WHEELCHAIR' },
          { symbol: 'c', category: 'STANDARD', kind: 'COMPANION' },
        ],
        rows: ['wc.ssss', 'ss.ssss', 'pp.pppp'],
      },
    },
  ),
  tab(
    `
# Admin: a session in that auditorium, one price per category of its seats. The room is
# busy from startsAt to endsAt plus its cleaning buffer: an overlapping session is refused
# with SCHEDULE_CONFLICT (extensions.sessionIds). gapRule NO_SINGLE_SEAT (the default)
# refuses selections that leave a single free seat.
mutation ScheduleSession($input: ScheduleSessionInput!) {
  scheduleSession(input: $input) {
    id movie room startsAt endsAt gapRule
    prices { category priceCents }
    auditorium { id name }
  }
}`,
    {
      input: {
        auditoriumId: 'the id createAuditorium returned',
        movie: 'Central do Brasil',
        startsAt: '2030-01-01T20:00:00Z',
        durationMinutes: 115,
        prices: [
          { category: 'STANDARD', priceCents: 2200 },
          { category: 'PREMIUM', priceCents: 3500 },
        ],
        gapRule: 'NO_SINGLE_SEAT',
      },
    },
  ),
  tab(
    `
# Anyone: a session's seat map with its layout (x = column with gaps, y = row, both from 0),
# categories, kinds and prices. Open /demo/sessions/<id> for the live page.
query SeatMap($id: ID!) {
  session(id: $id) {
    movie room startsAt endsAt availableSeats
    prices { category priceCents }
    seats { id label status version category kind priceCents x y }
  }
}`,
    { id: 'the id scheduleSession returned' },
  ),
  tab(
    `
# Customer: hold seats, all or none. totalCents is the sum of the seats' prices; the hold ends
# at expiresAt. A COMPANION seat needs a WHEELCHAIR space in the same reservation
# (BAD_USER_INPUT, extensions.rule COMPANION_NEEDS_WHEELCHAIR).
mutation Reserve($input: ReserveInput!) {
  reserve(input: $input) {
    id status expiresAt totalCents
    seats { label category kind priceCents status }
  }
}`,
    { input: { sessionId: '…', seatIds: ['…', '…'], idempotencyKey: 'checkout-1' } },
  ),
  tab(
    `
# Customer: pay for the hold (calling it again returns the same sale).
mutation ConfirmPayment($reservationId: ID!) {
  confirmPayment(reservationId: $reservationId) {
    id status amountCents
    seats { label category priceCents status }
  }
}`,
    { reservationId: '…' },
  ),
  tab(
    `
# Owner or admin: refund a sale. The policy by time before startsAt: 100 % more than 24 h
# before, 50 % more than 12 h before, then 0 % (the owner gets REFUND_NOT_ALLOWED). Only an
# admin passes percent (0-100), with a reason when it differs from the policy. The seats go
# back on sale if the session has not started; refunding again returns the same sale.
mutation RefundSale($saleId: ID!, $reason: String, $percent: Int) {
  refundSale(saleId: $saleId, reason: $reason, percent: $percent) {
    id status amountCents
    refund { id amountCents percent reason refundedBy createdAt }
  }
}`,
    { saleId: '…', reason: 'Projector failure', percent: 100 },
  ),
];

/** The tabs as a JSON literal that is safe inside an HTML `<script>` element. */
export function ideExampleTabsScriptLiteral(): string {
  return JSON.stringify(IDE_EXAMPLE_TABS)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

import 'reflect-metadata';
import { SeatKind, SeatStatus } from '../../src/entities/enums';
import { SeatStatusChange } from '../../src/resolvers/seat-status-change.type';

describe('SeatStatusChange', () => {
  const event = {
    sessionId: '01a20302-9ae7-7000-ada0-7e24d907b529',
    mapVersion: 3,
    reservationId: null,
    changedAt: '2030-01-01T20:00:00.000Z',
    seats: [
      {
        id: '01a20302-9ae9-7000-847e-84a1dd3fd494',
        sessionId: '01a20302-9ae7-7000-ada0-7e24d907b529',
        row: 'C',
        number: 7,
        status: SeatStatus.SOLD,
        version: 4,
        x: 8,
        category: 'PREMIUM',
        kind: SeatKind.STANDARD,
        priceCents: 1_500,
      },
    ],
  };

  it('rebuilds the seats as of the event, not as they are now', () => {
    const change = SeatStatusChange.fromEvent(event);
    expect(change.changedAt).toEqual(new Date(event.changedAt));
    expect(change.seats[0]).toMatchObject({
      id: event.seats[0].id,
      row: 'C',
      number: 7,
      status: 'SOLD',
      version: 4,
      x: 8,
      y: 2,
      category: 'PREMIUM',
      priceCents: 1_500,
    });
  });

  it('reads an event stored before seats had layout facts as a STANDARD seat where its number puts it', () => {
    const {
      x: _x,
      category: _category,
      kind: _kind,
      priceCents: _priceCents,
      ...legacySeat
    } = event.seats[0];
    const change = SeatStatusChange.fromEvent({ ...event, seats: [legacySeat] } as unknown as typeof event);
    expect(change.seats[0]).toMatchObject({ x: 6, y: 2, category: 'STANDARD', kind: 'STANDARD', number: 7 });
  });

  it('builds the view once per event, shared by every subscriber', () => {
    expect(SeatStatusChange.fromEvent(event)).toBe(SeatStatusChange.fromEvent(event));
    expect(SeatStatusChange.fromEvent({ ...event })).not.toBe(SeatStatusChange.fromEvent(event));
  });
});

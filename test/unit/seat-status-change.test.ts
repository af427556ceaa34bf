import 'reflect-metadata';
import { SeatStatus } from '../../src/entities/enums';
import { SeatStatusChange } from '../../src/resolvers/seat-status-change.type';

describe('SeatStatusChange', () => {
  const event = {
    sessionId: '01a20302-9ae7-7000-ada0-7e24d907b529',
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
    });
  });

  it('builds the view once per event, shared by every subscriber', () => {
    expect(SeatStatusChange.fromEvent(event)).toBe(SeatStatusChange.fromEvent(event));
    expect(SeatStatusChange.fromEvent({ ...event })).not.toBe(SeatStatusChange.fromEvent(event));
  });
});

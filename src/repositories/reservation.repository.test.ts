import { type MikroORM } from '@mikro-orm/postgresql';
import { insertSession } from '../../test/support/booking-harness';
import { connectMigratedTestDatabase } from '../../test/support/test-app';
import { Reservation } from '../entities/reservation.entity';
import { uuidv7 } from '../infra/uuid';
import { type NewPendingReservation, ReservationConflict } from './reservation.repository';

describe('ReservationRepository.insertPending', () => {
  let orm: MikroORM;

  beforeAll(async () => {
    orm = await connectMigratedTestDatabase();
  });
  afterAll(async () => {
    await orm.close();
  });

  async function pending(overrides: Partial<NewPendingReservation> = {}): Promise<NewPendingReservation> {
    const session = await insertSession(orm);
    const now = new Date();
    return {
      id: uuidv7(),
      userId: `user-${uuidv7()}`,
      sessionId: session.id,
      seatIds: [session.seatIds[0]],
      expiresAt: new Date(now.getTime() + 60_000),
      createdAt: now,
      totalCents: 1_000,
      idempotencyKey: null,
      lockToken: null,
      ...overrides,
    };
  }

  const insert = (reservation: NewPendingReservation) =>
    orm.em.fork().transactional((tx) => tx.getRepository(Reservation).insertPending(reservation));

  it('translates the idempotency key index by its name', async () => {
    const first = await pending({ idempotencyKey: 'same' });
    await insert(first);
    await expect(insert({ ...first, id: uuidv7() })).rejects.toEqual(
      new ReservationConflict('idempotency-key'),
    );
  });

  it('translates the one-live-reservation-per-seat index by its name', async () => {
    const first = await pending();
    await insert(first);
    await expect(insert({ ...first, id: uuidv7(), userId: 'someone-else' })).rejects.toMatchObject({
      kind: 'seat-taken',
    });
  });
});

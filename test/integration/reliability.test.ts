import { randomUUID } from 'node:crypto';
import { type MikroORM } from '@mikro-orm/postgresql';
import { type ChannelModel, type ConfirmChannel, connect, type Options } from 'amqplib';
import { encodeEvent } from '../../src/events/event-message';
import { OutboxRelay, type OutboxRelayOptions } from '../../src/events/outbox-relay';
import { MAX_DELIVERY_ATTEMPTS, topologyNames } from '../../src/events/topology';
import { ManualClock } from '../../src/infra/clock';
import { createLogger, type Logger } from '../../src/infra/logger';
import { uuidv7 } from '../../src/infra/uuid';
import { type RunningConsumer, startConsumer } from '../../src/workers/consumer';
import { type Receipt, type ReceiptSender } from '../../src/workers/receipt-sender';
import { createReceiptsHandler, RECEIPTS_CONSUMER } from '../../src/workers/receipts.worker';
import { CONFIRM_PAYMENT, createSession, RESERVE } from '../support/factories';
import { ManualScheduler } from '../support/manual-scheduler';
import { ClientPool, subscribe } from '../support/subscriptions';
import { connectMigratedTestDatabase, startTestApp, type TestApp, uniqueUser } from '../support/test-app';
import { TEST_AMQP_URL } from '../support/test-environment';
import { eventually } from '../support/wait';

/** A promise a test resolves by hand. */
function deferred<Value = void>(): { promise: Promise<Value>; resolve: (value: Value) => void } {
  let resolve!: (value: Value) => void;
  const promise = new Promise<Value>((done) => (resolve = done));
  return { promise, resolve };
}

/** Rejects if `promise` has not settled within `milliseconds`. */
function within<Value>(promise: Promise<Value>, milliseconds: number, description: string): Promise<Value> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${description}`)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const quietLogger = createLogger('silent');

describe('receipts consumer: the effect comes before the inbox row', () => {
  let testApp: TestApp;
  let connection: ChannelModel;

  beforeAll(async () => {
    // No workers in the app: the test runs its own receipts consumer on the app's queue.
    testApp = await startTestApp({ ROLE: 'api' });
    connection = await connect(TEST_AMQP_URL);
  });

  afterAll(async () => {
    await connection.close();
    await testApp.stop();
  });

  /** Runs the receipts handler on the real queue and reports each handling's outcome. */
  async function consumeReceipts(logger: Logger, sender?: ReceiptSender) {
    const handler = createReceiptsHandler(testApp.app.orm, logger, sender);
    const outcomes: string[] = [];
    const waiters: { successes: number; reached: () => void }[] = [];
    const consumer: RunningConsumer = await startConsumer(
      connection,
      {
        name: RECEIPTS_CONSUMER,
        queue: testApp.app.topology.receiptsQueue,
        prefetch: 1,
        deadLetterExchange: testApp.app.topology.deadLetterExchange,
        maxAttempts: MAX_DELIVERY_ATTEMPTS,
        handle: async (message) => {
          try {
            await handler(message);
            outcomes.push('ok');
          } catch (error) {
            outcomes.push(`failed: ${(error as Error).message}`);
            throw error;
          }
          const successes = outcomes.filter((outcome) => outcome === 'ok').length;
          for (const waiter of waiters.filter((candidate) => candidate.successes <= successes)) {
            waiter.reached();
          }
        },
      },
      quietLogger,
    );
    return {
      outcomes,
      consumer,
      /** Resolves once `count` deliveries have been handled successfully. */
      succeeded: (count: number) => {
        const reached = deferred();
        if (outcomes.filter((outcome) => outcome === 'ok').length >= count) {
          reached.resolve();
        }
        waiters.push({ successes: count, reached: reached.resolve });
        return within(reached.promise, 10_000, `${count} handled deliveries`);
      },
    };
  }

  async function publishConfirmation(messageId: string): Promise<void> {
    const channel = await connection.createConfirmChannel();
    try {
      const { content, options } = encodeEvent(messageId, {
        topic: 'reservation.confirmed',
        payload: {
          reservationId: randomUUID(),
          userId: uniqueUser(),
          sessionId: randomUUID(),
          status: 'CONFIRMED',
          seatIds: [randomUUID()],
          totalCents: 1_250,
          expiresAt: new Date().toISOString(),
          changedAt: new Date().toISOString(),
          saleId: randomUUID(),
        },
      } as never);
      channel.sendToQueue(testApp.app.topology.receiptsQueue, content, options as Options.Publish);
      await channel.waitForConfirms();
    } finally {
      await channel.close();
    }
  }

  const inboxRows = async (messageId: string): Promise<number> => {
    const [{ count }] = await testApp.app.orm.em
      .fork()
      .execute<{ count: number }[]>(
        'select count(*)::int as count from consumed_message where message_id = ?',
        [messageId],
      );
    return count;
  };

  it('sends a receipt whose log line failed once when the message comes back (never records before the effect)', async () => {
    const receipts: Receipt[] = [];
    let failuresLeft = 1;
    // The default sender writes the receipt as a log line: this logger fails the first one.
    const logger = {
      info: (details: { receipt?: Receipt }, message: string) => {
        if (message === 'Receipt' && details.receipt) {
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            throw new Error('log sink unavailable');
          }
          receipts.push(details.receipt);
        }
      },
      warn: () => undefined,
      error: () => undefined,
      debug: () => undefined,
    } as unknown as Logger;
    const { outcomes, consumer, succeeded } = await consumeReceipts(logger);
    const messageId = uuidv7();
    try {
      await publishConfirmation(messageId);
      await succeeded(1);
    } finally {
      await consumer.stop();
    }
    expect(outcomes).toEqual(['failed: log sink unavailable', 'ok']);
    expect(receipts.map((receipt) => receipt.messageId)).toEqual([messageId]);
    expect(await inboxRows(messageId)).toBe(1);
  });

  it('sends the receipt again when recording the message fails after the effect, and never after it is recorded', async () => {
    const em = testApp.app.orm.em.fork();
    // The inbox insert fails exactly once (a sequence is not rolled back with the insert).
    await em.execute(`create sequence receipts_inbox_fault`);
    await em.execute(`create function fail_first_inbox_insert() returns trigger language plpgsql as $$
      begin
        if nextval('receipts_inbox_fault') = 1 then
          raise exception 'inbox unavailable';
        end if;
        return new;
      end $$`);
    await em.execute(`create trigger fail_first_inbox_insert before insert on consumed_message
      for each row execute function fail_first_inbox_insert()`);
    const sent: Receipt[] = [];
    const sender: ReceiptSender = {
      send: async (receipt) => {
        sent.push(receipt);
      },
    };
    const { outcomes, consumer, succeeded } = await consumeReceipts(quietLogger, sender);
    const messageId = uuidv7();
    try {
      await publishConfirmation(messageId);
      await succeeded(1);
      expect(outcomes).toEqual([expect.stringContaining('inbox unavailable'), 'ok']);
      // At-least-once: the effect happened, the record did not, so the retry sent it again
      // with the same message id (which a mail provider uses to drop the duplicate).
      expect(sent.map((receipt) => receipt.messageId)).toEqual([messageId, messageId]);
      expect(await inboxRows(messageId)).toBe(1);

      // Once recorded, a redelivery (a relay that republished the row) sends nothing.
      await publishConfirmation(messageId);
      await succeeded(2);
      expect(sent).toHaveLength(2);
    } finally {
      await consumer.stop();
      await em.execute('drop trigger fail_first_inbox_insert on consumed_message');
      await em.execute('drop function fail_first_inbox_insert()');
      await em.execute('drop sequence receipts_inbox_fault');
    }
  });
});

describe('outbox relay when the broker does not confirm', () => {
  // Longer than the whole test: only the test's manual scheduler may end a confirm wait.
  const CONFIRM_TIMEOUT_MILLISECONDS = 30_000;
  const names = topologyNames('reliability', 1);
  let orm: MikroORM;

  beforeAll(async () => {
    // Just a migrated database: no application, so no other relay publishes these rows.
    orm = await connectMigratedTestDatabase();
  });

  afterAll(async () => {
    await orm.close();
  });

  /** The relays of the running test, stopped after it even when it fails. */
  const relays: OutboxRelay[] = [];

  afterEach(async () => {
    // Stopping ends a confirm wait still in flight, which would otherwise outlive the database.
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  });

  function newRelay(logger: Logger, options: OutboxRelayOptions): OutboxRelay {
    const relay = new OutboxRelay(orm, names, logger, options);
    relays.push(relay);
    return relay;
  }

  /** A confirm channel that records what it is given; its confirms come when the test says. */
  function stubChannel(confirms: 'never' | 'at once') {
    const published: string[] = [];
    const waiting = deferred();
    const closed = deferred();
    const channel = {
      on: () => channel,
      publish: (_exchange: string, _routingKey: string, _content: Buffer, options: Options.Publish) => {
        published.push(String(options.messageId));
        return true;
      },
      waitForConfirms: () => {
        waiting.resolve();
        return confirms === 'never' ? new Promise<void>(() => undefined) : Promise.resolve();
      },
      close: async () => {
        closed.resolve();
      },
    };
    return {
      channel: channel as unknown as ConfirmChannel,
      published,
      waiting: waiting.promise,
      closed: closed.promise,
    };
  }

  /** A broker connection whose channels are handed out by the test, one per request. */
  function stubConnection(channels: Promise<ConfirmChannel>[]): ChannelModel {
    return {
      createConfirmChannel: () => channels.shift() ?? new Promise<ConfirmChannel>(() => undefined),
    } as unknown as ChannelModel;
  }

  async function insertOutboxRows(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => uuidv7());
    await orm.em.fork().execute(
      `insert into outbox_event (id, topic, payload)
       select id, 'seat.status-changed', '{}'::jsonb from unnest(array[?]::uuid[]) as id`,
      [ids],
    );
    return ids;
  }

  const rowStates = (ids: string[]) =>
    orm.em.fork().execute<{ id: string; published: boolean; claimed: boolean }[]>(
      `select id, published_at is not null as published, claimed_until is not null as claimed
         from outbox_event where id = any(array[?]::uuid[]) order by id`,
      [ids],
    );

  const idleInTransaction = async (): Promise<number> => {
    const [{ count }] = await orm.em.fork().execute<{ count: number }[]>(
      `select count(*)::int as count from pg_stat_activity
        where datname = current_database() and state like 'idle in transaction%'`,
    );
    return count;
  };

  it('gives the batch back when OUTBOX_CONFIRM_TIMEOUT_MS is up (not before), holds no transaction open meanwhile, and publishes it once the broker answers', async () => {
    const ids = await insertOutboxRows(3);
    const stuck = stubChannel('never');
    let stuckClosed = false;
    void stuck.closed.then(() => (stuckClosed = true));
    const scheduler = new ManualScheduler(new ManualClock(new Date('2030-01-01T00:00:00Z')));
    const healthy = stubChannel('at once');
    const brokerBack = deferred<ConfirmChannel>();
    const failures: unknown[] = [];
    const gaveUp = deferred();
    const logger = {
      info: () => undefined,
      debug: () => undefined,
      error: () => undefined,
      warn: (details: { err?: unknown }) => {
        failures.push(details.err);
        gaveUp.resolve();
      },
    } as unknown as Logger;
    const relay = newRelay(logger, {
      confirmTimeoutMilliseconds: CONFIRM_TIMEOUT_MILLISECONDS,
      lingerMilliseconds: 0,
      schedule: scheduler.schedule,
    });
    await relay.attach(stubConnection([Promise.resolve(stuck.channel), brokerBack.promise]));

    await within(stuck.waiting, 5_000, 'the relay to wait for confirms');
    expect(stuck.published).toEqual(ids);
    // The wait is bounded by one timeout of exactly OUTBOX_CONFIRM_TIMEOUT_MS.
    expect(scheduler.armed.map((timer) => timer.milliseconds)).toEqual([CONFIRM_TIMEOUT_MILLISECONDS]);
    // The rows are claimed, but no connection sits in an open transaction during the wait.
    expect(await idleInTransaction()).toBe(0);
    expect(await rowStates(ids)).toEqual(ids.map((id) => ({ id, published: false, claimed: true })));

    // A moment before the timeout the relay still waits: nothing given back, the channel kept.
    scheduler.advance(CONFIRM_TIMEOUT_MILLISECONDS - 1);
    expect(await rowStates(ids)).toEqual(ids.map((id) => ({ id, published: false, claimed: true })));
    expect(failures).toEqual([]);
    expect(stuckClosed).toBe(false);
    expect(scheduler.pending).toBe(1);

    // The timeout fires: the relay gives up on the batch.
    scheduler.advance(1);
    await within(gaveUp.promise, 5_000, 'the relay to give up on the batch');
    expect(String(failures[0])).toContain('did not confirm');
    await within(stuck.closed, 5_000, 'the stale channel to be closed');
    // Given back, not published: the next attempt starts with these rows.
    expect(await rowStates(ids)).toEqual(ids.map((id) => ({ id, published: false, claimed: false })));
    expect(await idleInTransaction()).toBe(0);

    brokerBack.resolve(healthy.channel);
    await within(healthy.waiting, 5_000, 'the relay to publish on a fresh channel');
    await eventually(
      async () => (await rowStates(ids)).every((row) => row.published),
      5_000,
      'rows published',
    );
    expect(healthy.published).toEqual(ids);
    expect(await rowStates(ids)).toEqual(ids.map((id) => ({ id, published: true, claimed: false })));
    // The confirmed batch's timeout was cancelled, not left to fire.
    expect(scheduler.pending).toBe(0);
  });

  it('lets another relay skip the rows a waiting relay has claimed, and publish the newer ones', async () => {
    const claimed = await insertOutboxRows(2);
    const stuck = stubChannel('never');
    const waiting = newRelay(quietLogger, {
      confirmTimeoutMilliseconds: 10_000,
      lingerMilliseconds: 0,
    });
    await waiting.attach(stubConnection([Promise.resolve(stuck.channel)]));
    await within(stuck.waiting, 5_000, 'the first relay to wait for confirms');

    const newer = await insertOutboxRows(2);
    const healthy = stubChannel('at once');
    const other = newRelay(quietLogger, { lingerMilliseconds: 0 });
    await other.attach(stubConnection([Promise.resolve(healthy.channel)]));
    await eventually(async () => (await rowStates(newer)).every((row) => row.published), 5_000, 'newer rows');
    expect(healthy.published).toEqual(newer);
    expect((await rowStates(claimed)).map((row) => row.published)).toEqual([false, false]);
  });
});

describe('expiry consumer on a worker whose clock runs ahead of the database', () => {
  const HOLD_SECONDS = 2;
  let testApp: TestApp;
  const clients = new ClientPool(
    () => testApp.url,
    () => testApp.app.subscriptionSignals,
  );

  beforeAll(async () => {
    testApp = await startTestApp({ HOLD_SECONDS: String(HOLD_SECONDS) });
    // Only the expiry consumer may expire the hold here: the sweeper would hide a miss.
    await testApp.app.sweeper.stop();
  });

  afterAll(async () => {
    await clients.disposeAll();
    await testApp.stop();
  });

  it('expires a hold whose message came early once its expiresAt has passed, not before, without the sweeper', async () => {
    const session = await createSession(testApp);
    const token = await testApp.token(uniqueUser());
    const reserved = await testApp.graphql<{ reserve: { id: string; expiresAt: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      token,
    );
    const { id: reservationId, expiresAt } = reserved.data!.reserve;
    const updates = await subscribe<{ reservationUpdated: { status: string } }>(
      clients.open(token),
      `subscription ($id: ID!) { reservationUpdated(reservationId: $id) { status } }`,
      { id: reservationId },
    );
    const em = testApp.app.orm.em.fork();
    const names = testApp.app.topology;
    // Take the on-time message out of the delay queue and hand the expiry consumer an early
    // copy, as a delay queue of a shorter, older HOLD_SECONDS would.
    const [row] = await eventually(async () => {
      const rows = await em.execute<{ id: string; payload: object; published: boolean }[]>(
        `select id, payload, published_at is not null as published from outbox_event
          where topic = 'reservation.created' and payload->>'reservationId' = ?`,
        [reservationId],
      );
      return rows[0]?.published ? rows : undefined;
    });
    const realNow = Date.now.bind(Date);
    const connection = await connect(TEST_AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.purgeQueue(names.expiryDelay);
      // This process's clock now runs 500 ms ahead of the database's.
      jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 500);
      const { content, options } = encodeEvent(row.id, {
        topic: 'reservation.created',
        payload: row.payload,
      } as never);
      channel.sendToQueue(names.expiryQueue, content, options);
      await channel.waitForConfirms();

      // A guard against hanging, not a latency bound.
      const update = await within(updates.next(), 15_000, 'the EXPIRED update');
      expect(update.data!.reservationUpdated.status).toBe('EXPIRED');
      // Never early, by the database's clock, whatever this process's clock says. How long the
      // consumer waits (the database's remainder, not a sweep's period) is proven without timing
      // in src/workers/expiry.worker.test.ts.
      expect(realNow()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    } finally {
      jest.restoreAllMocks();
      await connection.close();
    }
    const [reservation] = await em.execute<{ status: string }[]>(
      'select status from reservation where id = ?',
      [reservationId],
    );
    expect(reservation.status).toBe('EXPIRED');
    const pay = await testApp.graphql(CONFIRM_PAYMENT, { reservationId }, token);
    expect(pay.errors?.[0].extensions.code).toBe('RESERVATION_EXPIRED');
  });
});

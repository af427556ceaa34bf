import { EventEmitter } from 'node:events';
import { type ChannelModel } from 'amqplib';
import { type MikroORM } from '@mikro-orm/postgresql';
import { createLogger } from '../infra/logger';
import { OutboxRelay } from './outbox-relay';
import { topologyNames } from './topology';

/** A confirm channel closed under the relay: amqplib's `publish` then throws. */
class ClosedChannel extends EventEmitter {
  publish(): boolean {
    throw new Error('Channel closed');
  }
  async waitForConfirms(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('OutboxRelay', () => {
  it('gives a traced batch back when publish throws, leaving no promise unobserved', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const statements: string[] = [];
      let givenBack!: () => void;
      const batchGivenBack = new Promise<void>((resolve) => (givenBack = resolve));
      const em = {
        execute: async (sql: string) => {
          statements.push(sql);
          if (sql.includes('with claimed')) {
            // Claimed once: the row a traced booking transaction wrote.
            return statements.length === 1
              ? [
                  {
                    id: '0190c0de-7d1f-7000-8000-000000000001',
                    topic: 'booking.reserved',
                    payload: {},
                    trace_context: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
                  },
                ]
              : [];
          }
          if (sql.includes('claimed_until = null where')) {
            givenBack();
          }
          return [];
        },
      };
      const orm = { em: { fork: () => em } } as unknown as MikroORM;
      const connection = new EventEmitter() as EventEmitter & {
        createConfirmChannel(): Promise<ClosedChannel>;
      };
      connection.createConfirmChannel = async () => new ClosedChannel();
      const relay = new OutboxRelay(orm, topologyNames('p', 60), createLogger('silent'), {
        lingerMilliseconds: 0,
      });

      await relay.attach(connection as unknown as ChannelModel);
      await batchGivenBack;
      await relay.stop();
      // A check that nothing happens: Node reports a promise left rejected once the microtasks
      // of the turn that rejected it have run, before any later timer fires, so one timer's
      // turn is enough to hear of it. Waiting longer or shorter never fails a relay that leaves
      // nothing unobserved.
      await new Promise((resolve) => setTimeout(resolve, 20));

      expect(statements.filter((sql) => sql.includes('claimed_until = null where'))).toHaveLength(1);
      expect(statements.some((sql) => sql.includes('published_at = now()'))).toBe(false);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('publishes a commit at once when told of it, with no polling', async () => {
    const row = { id: '0190c0de-7d1f-7000-8000-000000000002', topic: 'reservation.created', payload: {} };
    let committed = false;
    let firstClaimDone!: () => void;
    const firstClaim = new Promise<void>((resolve) => (firstClaimDone = resolve));
    let markedPublished!: () => void;
    const published = new Promise<void>((resolve) => (markedPublished = resolve));
    const em = {
      execute: async (sql: string) => {
        if (sql.includes('with claimed')) {
          // The row exists once the test has "committed" it, and is claimed once.
          const claimed = committed ? [{ ...row, trace_context: null }] : [];
          committed = false;
          firstClaimDone();
          return claimed;
        }
        if (sql.includes('published_at = now()')) {
          markedPublished();
        }
        return [];
      },
    };
    const orm = { em: { fork: () => em } } as unknown as MikroORM;
    const publishedIds: string[] = [];
    const channel = Object.assign(new EventEmitter(), {
      publish: (_exchange: string, _topic: string, _content: Buffer, options: { messageId?: string }) => {
        publishedIds.push(String(options.messageId));
        return true;
      },
      waitForConfirms: async () => undefined,
      close: async () => undefined,
    });
    const connection = Object.assign(new EventEmitter(), { createConfirmChannel: async () => channel });
    // `start()` is never called: no polling timer, so only the commit can wake the relay.
    const relay = new OutboxRelay(orm, topologyNames('p', 60), createLogger('silent'), {
      lingerMilliseconds: 0,
    });
    await relay.attach(connection as unknown as ChannelModel);
    // The attach's drain of the backlog found nothing.
    await firstClaim;
    expect(publishedIds).toEqual([]);

    committed = true;
    relay.onCommitted([]);
    // A relay that ignores the commit never publishes: the test's 10 s guard fails it, not jest's 60 s.
    await published;
    expect(publishedIds).toEqual([row.id]);
    await relay.stop();
  }, 10_000);
});

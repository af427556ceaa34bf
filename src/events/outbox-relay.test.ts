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
      // An unhandled rejection is reported after the microtask queue drains: let a turn pass.
      await new Promise((resolve) => setTimeout(resolve, 20));

      expect(statements.filter((sql) => sql.includes('claimed_until = null where'))).toHaveLength(1);
      expect(statements.some((sql) => sql.includes('published_at = now()'))).toBe(false);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

import { WebSocket } from 'ws';
import { type SubscriberSink } from '../live/shared-subscriptions';

/**
 * Past this many bytes waiting to be written to one socket, its subscriber is not keeping up
 * with seat changes: it is closed (1013, try again later) instead of buffering without bound.
 * graphql-ws clients reconnect and resubscribe.
 */
export const MAX_BUFFERED_BYTES = 4 * 1_024 * 1_024;

/** The close code of a subscriber too slow to keep up (try again later). */
export const SLOW_SUBSCRIBER_CLOSE_CODE = 1013;

/** Direct writes of pre-serialised `next` frames for subscription `id` on `socket`. */
export function socketSink(socket: WebSocket, id: string): SubscriberSink {
  return {
    id,
    send: (frame) => {
      if (socket.readyState !== WebSocket.OPEN) {
        return;
      }
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.close(SLOW_SUBSCRIBER_CLOSE_CODE, 'Subscriber too slow');
        return;
      }
      socket.send(frame);
    },
  };
}

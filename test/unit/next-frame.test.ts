import { MessageType, stringifyMessage } from 'graphql-ws';
import { nextFrame } from '../../src/live/shared-subscriptions';

describe('nextFrame', () => {
  it('writes the same bytes as graphql-ws for a next message', () => {
    const payload = { data: { seatStatusChanged: { sessionId: 's1', seats: [{ id: 'a', label: 'A1' }] } } };
    for (const id of ['1', 'sub "quoted" \\ id', 'ünïcode']) {
      expect(nextFrame(id, JSON.stringify(payload))).toBe(
        stringifyMessage({ id, type: MessageType.Next, payload }),
      );
    }
  });
});

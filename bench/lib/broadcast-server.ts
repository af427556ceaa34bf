import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * Baseline for the fan-out benchmark: a plain `ws` server that sends the same bytes to every
 * connected client when POSTed to. Run as its own process, like the API server. The payload
 * carries the time the benchmark created the event (as Poltrona's carries its commit time), so
 * latency includes the queueing of a burst of events, as it does for Poltrona's subscribers.
 */
const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    const { payload } = JSON.parse(body) as { payload: string };
    for (const client of sockets.clients) {
      if (client.readyState === WebSocket.OPEN) {
        client.send(payload);
      }
    }
    response.end('ok');
  });
});
const sockets = new WebSocketServer({ server });
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});

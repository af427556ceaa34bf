import { once } from 'node:events';
import { request as httpRequest, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import express from 'express';
import { Metrics } from '../infra/metrics';
import { countResponses } from './health-routes';

describe('countResponses', () => {
  let server: Server;
  let metrics: Metrics;
  let closed: Promise<unknown>;
  let received: Promise<void>;
  let receive: () => void;

  beforeEach(async () => {
    received = new Promise((resolve) => (receive = resolve));
    metrics = new Metrics();
    const app = express();
    app.use(countResponses(metrics));
    app.get('/done', (_request, response) => {
      response.status(200).send('ok');
    });
    // Answers only after its client has gone: the 503 of a caller that gave up.
    app.get('/slow', (_request, response) => {
      closed = once(response, 'close');
      response.status(503);
      receive();
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterEach(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  const counted = async () =>
    (await metrics.httpResponses.get()).values.map(({ labels, value }) => [labels.code, value]);

  it('counts finished responses once, and responses whose client went away first', async () => {
    const { port } = server.address() as AddressInfo;
    expect((await fetch(`http://127.0.0.1:${port}/done`)).status).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await counted()).toEqual([['2xx', 1]]);

    const aborted = httpRequest({ host: '127.0.0.1', port, path: '/slow' });
    aborted.on('error', () => undefined);
    aborted.end();
    // The client leaves once the server has its request, not before.
    await received;
    aborted.destroy();
    // Counted on the same event, by a listener added before this one.
    await closed;
    expect(await counted()).toEqual([
      ['2xx', 1],
      ['5xx', 1],
    ]);
  });
});

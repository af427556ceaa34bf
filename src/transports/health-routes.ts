import { type Express, type RequestHandler } from 'express';
import { type Metrics } from '../infra/metrics';

/**
 * Whether each dependency answered. The process is ready while PostgreSQL answers: without
 * Redis or RabbitMQ bookings keep working (degraded mode), so an orchestrator must not pull it.
 */
export interface DependencyHealth {
  readonly postgres: boolean;
  readonly redis: boolean;
  readonly rabbitmq: boolean;
}

/** Serves `/healthz`, `/readyz` and `/metrics` on `app` (every role, workers included). */
export function mountHealthRoutes(
  app: Express,
  health: () => Promise<DependencyHealth>,
  metrics: Metrics,
): void {
  // Liveness: 200 while the process runs; the body says how well it can serve.
  app.get('/healthz', async (_request, response) => {
    const checks = await health();
    const status = !checks.postgres ? 'unavailable' : checks.redis && checks.rabbitmq ? 'ok' : 'degraded';
    response.json({ status, checks });
  });
  // Readiness: only PostgreSQL decides (see DependencyHealth).
  app.get('/readyz', async (_request, response) => {
    const checks = await health();
    response
      .status(checks.postgres ? 200 : 503)
      .json({ status: checks.postgres ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_request, response) => {
    response.setHeader('content-type', metrics.registry.contentType);
    response.end(await metrics.registry.metrics());
  });
}

const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Counts every HTTP response by status class (`poltrona_http_responses_total{code}`), probes
 * excepted: refusals answered before GraphQL runs (body too large, 404, 503 timeouts, 500s
 * outside Apollo) are not in the GraphQL operation histogram, and show here. Counted on
 * `close`, which every response emits once, finished or not: a response whose client went away
 * first (a 503 to a caller that gave up) counts too, by the status it was given.
 */
export function countResponses(metrics: Metrics): RequestHandler {
  return (request, response, next) => {
    if (!PROBE_PATHS.has(request.path)) {
      response.once('close', () => {
        metrics.httpResponses.inc({ code: `${Math.floor(response.statusCode / 100)}xx` });
      });
    }
    next();
  };
}

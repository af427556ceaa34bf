import { type GraphQLSchema } from 'graphql';
import { type SessionReadCache } from '../caching/session-read-cache';
import { sessionReadCachePlugin } from '../caching/session-read-cache-plugin';
import { type Config } from '../config/config';
import { type ContextFactory } from '../resolvers/context';
import { type TokenVerifier } from '../infra/auth';
import { type RedisClient } from '../infra/redis';
import { createOperationPipeline } from '../pipeline/operation-pipeline';
import { type AdmissionGate } from '../security/admission-gate';
import { createClientAddressResolver } from '../security/client-address';
import { RateLimiter } from '../security/rate-limiter';
import { createRequestGuard } from '../security/request-guard';
import { type GraphQLEndpointOptions } from './http-server';
import { type SubscriptionSignals } from './subscription-signals';
import { devTokenIssuerFor } from '../web/dev-token-route';

/** What the GraphQL endpoint is assembled from. */
export interface GraphQLEndpointParts {
  readonly config: Config;
  readonly schema: GraphQLSchema;
  /** Rate budgets are counted there. */
  readonly redis: RedisClient;
  readonly verifyToken: TokenVerifier;
  readonly createContext: ContextFactory;
  readonly sessionCache: SessionReadCache;
  readonly subscriptionSignals: SubscriptionSignals;
  /** The process's admission control; the pipeline admits reads through it. */
  readonly admissionGate: AdmissionGate;
}

/**
 * The GraphQL endpoint of an API process: one operation pipeline (admission control, limits,
 * rate budget, context) for every transport, the response cache for HTTP, and the dev token issuer of the
 * demo page when the dev key is in use.
 */
export function assembleGraphQLEndpoint(parts: GraphQLEndpointParts): GraphQLEndpointOptions {
  const { config, schema, createContext, sessionCache } = parts;
  const rateLimiter = new RateLimiter(parts.redis, config.amqp.prefix, {
    mutation: config.rateLimit.mutationsPerMinute,
    read: config.rateLimit.readsPerMinute,
  });
  return {
    schema,
    verifyToken: parts.verifyToken,
    createContext,
    pipeline: createOperationPipeline({
      schema,
      limits: config.limits,
      guard: createRequestGuard(schema, config.limits, rateLimiter),
      createContext,
      gate: parts.admissionGate,
    }),
    responseCache: {
      plugin: sessionReadCachePlugin(sessionCache),
      stringifyResult: sessionCache.stringifyResult,
    },
    subscriptionSignals: parts.subscriptionSignals,
    limits: config.limits,
    corsOrigins: config.corsOrigins,
    clientAddress: createClientAddressResolver(config.trustedProxies),
    websocket: config.websocket,
    issueDevToken: devTokenIssuerFor(config.auth),
  };
}

import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { DomainError, unauthenticated } from '../errors/domain-error';
import { bearerToken, type TokenVerifier, type Viewer } from '../infra/auth';
import { type Clock, DATABASE_CLOCK } from '../infra/clock';
import { type LivePubSub } from '../live/live-pubsub';
import { type SeatMapFeed } from '../live/seat-map-feed';
import { type RequestDeadline } from '../infra/request-deadline';
import { createLoaders, type RepositoryFactory, type Loaders } from './loaders';

/** Per-request (or per-subscription) GraphQL context. */
export interface Context {
  /** A fork of the entity manager for this request only. */
  readonly em: EntityManager;
  /** The caller, when a valid bearer token was sent. */
  readonly viewer: Viewer | null;
  /** Why the sent token was rejected; reported only where identity is needed. */
  readonly authError: DomainError | null;
  readonly loaders: Loaders;
  /** This process's source of committed events, for subscriptions. */
  readonly live: LivePubSub;
  /** The session seat maps' change streams (ordered, gapless, resumable). */
  readonly seatMaps: SeatMapFeed;
  /** The caller's network address (rate limits for anonymous callers). */
  readonly clientAddress: string;
  /** Correlates this request's log lines (`x-request-id`, or generated). */
  readonly requestId: string;
  /** When an HTTP request is answered 503; its transactions commit before it or not at all. */
  readonly deadline: RequestDeadline | undefined;
}

/** The caller, or UNAUTHENTICATED. */
export function requireViewer(context: Context): Viewer {
  if (context.authError) {
    throw context.authError;
  }
  if (!context.viewer) {
    throw unauthenticated();
  }
  return context.viewer;
}

/** Where a request comes from. */
export interface RequestOrigin {
  /** The Authorization value (`Bearer <token>`), if any. */
  readonly authorization?: string;
  /** A caller already authenticated by the transport (websocket connections verify once). */
  readonly viewer?: Viewer | null;
  readonly clientAddress: string;
  readonly requestId: string;
  /** DataLoader memo: on for one HTTP request, off for long-lived subscriptions. */
  readonly cacheLoaders?: boolean;
  /** When the request will be answered 503 if not done (HTTP only). */
  readonly deadline?: RequestDeadline;
}

export type ContextFactory = (origin: RequestOrigin) => Promise<Context>;

/**
 * Builds the function that makes a fresh {@link Context} for each request or subscription.
 *
 * @param clock judges the holds of the seats its loaders read (the use cases' clock).
 */
export function createContextFactory(
  orm: MikroORM,
  verifyToken: TokenVerifier,
  repositories: RepositoryFactory,
  live: LivePubSub,
  seatMaps: SeatMapFeed,
  clock: Clock = DATABASE_CLOCK,
): ContextFactory {
  return async ({
    authorization,
    viewer: knownViewer,
    clientAddress,
    requestId,
    cacheLoaders = true,
    deadline,
  }) => {
    let viewer: Viewer | null = knownViewer ?? null;
    let authError: DomainError | null = null;
    try {
      const token = knownViewer === undefined ? bearerToken(authorization) : undefined;
      if (token !== undefined) {
        viewer = await verifyToken(token);
      }
    } catch (error) {
      if (!(error instanceof DomainError)) {
        throw error;
      }
      authError = error;
    }
    // The entity manager and the loaders are made on first use: many requests need neither
    // (a cached seat map, a refused reserve, `{ __typename }`), and a fork with a dozen
    // DataLoaders was a few per cent of their CPU.
    let em: EntityManager | undefined;
    let loaders: Loaders | undefined;
    return {
      get em() {
        return (em ??= orm.em.fork());
      },
      get loaders() {
        return (loaders ??= createLoaders(this.em, repositories, { cache: cacheLoaders, clock }));
      },
      viewer,
      authError,
      live,
      seatMaps,
      clientAddress,
      requestId,
      deadline,
    } satisfies Context;
  };
}

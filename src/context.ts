import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { DomainError, unauthenticated } from './errors/domain-error';
import { bearerToken, type TokenVerifier, type Viewer } from './infra/auth';
import { type LivePubSub } from './infra/live-events';
import { createLoaders, type LoaderRepositories, type Loaders } from './resolvers/loaders';

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

export type ContextFactory = (
  authorization: string | undefined,
  options?: { cacheLoaders: boolean },
) => Promise<Context>;

/** Builds the function that makes a fresh {@link Context} from an Authorization value. */
export function createContextFactory(
  orm: MikroORM,
  verifyToken: TokenVerifier,
  repositories: LoaderRepositories,
  live: LivePubSub,
): ContextFactory {
  return async (authorization, options = { cacheLoaders: true }) => {
    const em = orm.em.fork();
    let viewer: Viewer | null = null;
    let authError: DomainError | null = null;
    try {
      const token = bearerToken(authorization);
      if (token !== undefined) {
        viewer = await verifyToken(token);
      }
    } catch (error) {
      if (!(error instanceof DomainError)) {
        throw error;
      }
      authError = error;
    }
    return {
      em,
      viewer,
      authError,
      loaders: createLoaders(em, repositories, { cache: options.cacheLoaders }),
      live,
    } satisfies Context;
  };
}

import { type AuthChecker } from 'type-graphql';
import { type Context, requireViewer } from './context';
import { forbidden } from '../errors/domain-error';

/** The only role with extra rights; carried in the token's `roles` claim. */
export const ADMIN_ROLE = 'admin';

/**
 * `@Authorized()` needs a valid token; `@Authorized(ADMIN_ROLE)` an admin. Throws the
 * contract's UNAUTHENTICATED / FORBIDDEN instead of type-graphql's own errors.
 */
export const authChecker: AuthChecker<Context> = ({ context }, roles) => {
  const viewer = requireViewer(context);
  if (roles.includes(ADMIN_ROLE) && !viewer.isAdmin) {
    throw forbidden('Only admins can do this.');
  }
  return true;
};

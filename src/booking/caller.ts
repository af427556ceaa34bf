/**
 * Who asks a use case to act: the part of the authenticated viewer booking needs. The
 * transport's `Viewer` (infra/auth) has this shape, so resolvers pass it as it is.
 */
export interface Caller {
  /** The user id (the token's `sub`). */
  readonly userId: string;
  /** Admins may read everybody's reservations and sales. */
  readonly isAdmin: boolean;
}

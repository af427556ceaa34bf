import { type ReservationStatus } from '../entities/enums';
import { type ReservationListing } from '../repositories/reservation-listing';

/**
 * What the `Reservation` type's fields read of their parent: a `Reservation` entity (single
 * reads, mutations, subscriptions) or a plain object made from a listing row (`myReservations`),
 * which skips hydration. Field resolvers take this, not the entity class: type-graphql would
 * otherwise copy every plain parent into a new entity instance.
 */
export interface ReservationRoot {
  readonly id: string;
  readonly userId: string;
  /** As stored; a PENDING one whose `holdEnded` is true reads as EXPIRED. */
  readonly status: ReservationStatus;
  readonly holdEnded?: boolean | null;
  readonly expiresAt: Date;
  readonly createdAt: Date;
  readonly totalCents: number;
  readonly session: { readonly id: string };
}

/** The parent of a listed reservation's fields. */
export function reservationRootOf(listing: ReservationListing): ReservationRoot {
  return {
    id: listing.id,
    userId: listing.userId,
    status: listing.status,
    holdEnded: listing.holdEnded,
    expiresAt: listing.expiresAt,
    createdAt: listing.createdAt,
    totalCents: listing.totalCents,
    session: { id: listing.sessionId },
  };
}

import { IsOptional } from 'class-validator';
import { ArgsType, Field, ID } from 'type-graphql';
import { ReservationStatus } from '../entities/enums';

@ArgsType()
export class ReservationArgs {
  @Field(() => ID, { description: 'UUID of the reservation.' })
  id!: string;
}

@ArgsType()
export class ReservationIdArgs {
  @Field(() => ID, { description: 'UUID of the reservation.' })
  reservationId!: string;
}

@ArgsType()
export class MyReservationsArgs {
  @Field(() => ReservationStatus, {
    nullable: true,
    description: 'Only reservations in this status (an overdue PENDING one counts as EXPIRED).',
  })
  @IsOptional()
  status?: ReservationStatus | null;
}

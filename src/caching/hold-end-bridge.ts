import { type Repositories } from '../repositories';
import { type SeatRepository } from '../repositories/seat.repository';
import { type ReadHorizon } from './read-horizon';

/**
 * Transitional bridge, to go once the response cache asks the database itself when the
 * sessions it stores next change by the clock (`SeatRepository#nextHoldEndBySessions`): the
 * seat reads of one request tell its horizon when a hold they saw ends, as the loaders used to.
 * Wraps the repositories the loaders read through; adds no query.
 */
export function reportingHoldEnds(repositories: Repositories, horizon: ReadHorizon): Repositories {
  const { seats } = repositories;
  const report = (holdEnd: Date | null): void => {
    if (holdEnd) {
      horizon.changesAt(holdEnd.getTime());
    }
  };
  const watched = Object.create(seats) as SeatRepository;
  watched.findBySessions = async (...args) => {
    const rows = await seats.findBySessions(...args);
    rows.forEach((seat) => report(seat.holdEndsAt));
    return rows;
  };
  watched.findByIds = async (...args) => {
    const rows = await seats.findByIds(...args);
    rows.forEach((seat) => report(seat.holdEndsAt));
    return rows;
  };
  watched.availabilityBySessions = async (...args) => {
    const availability = await seats.availabilityBySessions(...args);
    for (const { nextHoldEnd } of availability.values()) {
      report(nextHoldEnd);
    }
    return availability;
  };
  return { ...repositories, seats: watched };
}

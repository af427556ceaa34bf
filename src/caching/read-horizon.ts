/**
 * Until when the data one request has read stays true without any new commit. A hold ends by
 * the clock alone (its seat reads AVAILABLE from then on, before any event says so), so an
 * answer that showed a held seat must not be reused past the end of that hold.
 */
export class ReadHorizon {
  private time = Number.POSITIVE_INFINITY;

  /** Something read changes by itself at `time` (epoch milliseconds). */
  changesAt(time: number): void {
    if (time < this.time) {
      this.time = time;
    }
  }

  /** The earliest such time; infinite when nothing read changes by itself. */
  get validUntil(): number {
    return this.time;
  }
}

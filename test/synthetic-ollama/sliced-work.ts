/**
 * Runs jobs in short slices, one slice per event-loop turn, so the loop goes back to polling its sockets
 * between slices. The synthetic server's socket reads do nothing but stamp and buffer; parsing, answering
 * and token writes run here. A request arriving while the server is busy is then stamped within one slice
 * of its arrival, instead of after everything the server had queued (measured: 256 requests in a burst
 * were seen up to 90 ms late when each read also parsed and answered its request).
 */
export class SlicedWork {
  private jobs: (() => void)[] = [];
  private next = 0;
  private scheduled = false;

  constructor(
    private readonly sliceMs: number,
    private readonly now: () => number,
  ) {}

  push(job: () => void): void {
    this.jobs.push(job);
    if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate, not a microtask: the poll phase (socket reads) runs before the next slice.
      setImmediate(this.runSlice);
    }
  }

  private readonly runSlice = (): void => {
    const until = this.now() + this.sliceMs;
    try {
      while (this.next < this.jobs.length) {
        const job = this.jobs[this.next++] as () => void;
        job();
        if (this.now() >= until) break;
      }
    } finally {
      // Even after a throwing job the queue keeps going.
      this.scheduleRest();
    }
  };

  private scheduleRest(): void {
    if (this.next >= this.jobs.length) {
      this.jobs = [];
      this.next = 0;
      this.scheduled = false;
      return;
    }
    if (this.next > 1024) {
      this.jobs = this.jobs.slice(this.next);
      this.next = 0;
    }
    setImmediate(this.runSlice);
  }
}

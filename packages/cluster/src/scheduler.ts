/**
 * Timed changes of the simulation (a node lost, a pod turning ready, ovn-controller's announcements), in time
 * order; equal times run in the order they were scheduled.
 */
export class Scheduler {
  private readonly queue: Array<{ time: number; run: () => void }> = [];

  /** When the next change is due, or Infinity. */
  get next(): number {
    return this.queue[0]?.time ?? Infinity;
  }

  schedule(time: number, run: () => void): void {
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.time > time) i--;
    this.queue.splice(i, 0, { time, run });
  }

  /** Runs the next change (the caller checked it is due). */
  runNext(): void {
    this.queue.shift()!.run();
  }
}

import { NO_SLOT } from './int-key-index.js';

/**
 * The write order of a table whose entries live in numbered slots of typed arrays: an intrusive doubly linked list,
 * oldest to newest, with O(1) append and unlink and no object per entry. The typed-array tables keyed
 * through an {@link IntKeyIndex} (@vippath/cluster's LRU tables, @vippath/openflow's MAC tables) share it; `newer`
 * doubles as a free chain where a table wants one.
 */
export class SlotOrder {
  /** Per slot: the next towards the oldest, towards the newest ({@link NO_SLOT}: none). */
  older: Int32Array;
  newer: Int32Array;
  oldest = NO_SLOT;
  newest = NO_SLOT;

  constructor(slots: number) {
    this.older = new Int32Array(slots);
    this.newer = new Int32Array(slots);
  }

  /** Room for `slots` slots, the links of the existing ones kept. */
  resize(slots: number): void {
    const older = new Int32Array(slots);
    older.set(this.older.subarray(0, Math.min(slots, this.older.length)));
    this.older = older;
    const newer = new Int32Array(slots);
    newer.set(this.newer.subarray(0, Math.min(slots, this.newer.length)));
    this.newer = newer;
  }

  /** Slot `s` becomes the newest. */
  append(s: number): void {
    this.older[s] = this.newest;
    this.newer[s] = NO_SLOT;
    if (this.newest !== NO_SLOT) this.newer[this.newest] = s;
    else this.oldest = s;
    this.newest = s;
  }

  /** Takes slot `s` out of the order. */
  unlink(s: number): void {
    const o = this.older[s]!;
    const n = this.newer[s]!;
    if (o !== NO_SLOT) this.newer[o] = n;
    else this.oldest = n;
    if (n !== NO_SLOT) this.older[n] = o;
    else this.newest = o;
  }

  clear(): void {
    this.oldest = NO_SLOT;
    this.newest = NO_SLOT;
  }
}

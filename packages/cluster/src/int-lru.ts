/**
 * {@link LruTable}'s contract (a bounded map forgetting its least recently written key first) for keys that are
 * non-negative integers below 2^53 — MAC addresses as numbers, IPv4 address × 65 536 + port — without a Map.
 *
 * Why not a Map: such keys are above V8's small-integer range, so each `get`/`set` boxes the key into a new heap
 * number, and a table that keeps turning over (a wire seeing new clients, a pod's connections at their limit)
 * is the worst case of V8's ordered hash table — every delete leaves a hole that stays in its bucket's chain
 * until the table is rebuilt, and every `limit` writes it is rebuilt (a new multi-megabyte table at 65 536
 * entries) — while the linked list of node objects and the table's chains sit in different places in memory:
 * measured at 0.8–2 µs per write at 65 536 entries, against ≈ 0.2 µs at 8 192.
 *
 * Here the entries live in typed arrays indexed by a slot fixed for the entry's life (keys, the LRU list's
 * links), found through an {@link IntKeyIndex} (@vippath/wire: open addressing, no tombstones). The arrays double as the table fills, up to the limit (a limit of millions costs memory only
 * when used); a write at the limit reuses the evicted entry's slot: nothing is allocated once the table is full.
 */
import { IntKeyIndex, NO_SLOT as EMPTY, SlotOrder } from '@vippath/wire';

const TWO32 = 4294967296;

export class IntLruTable<V> {
  private keys: Float64Array;
  private values: Array<V | undefined>;
  /** The LRU list by slot. */
  private readonly order: SlotOrder;
  private readonly index: IntKeyIndex;
  /** Slots never used yet start here; freed slots (deletions) are kept on a stack. */
  private fresh = 0;
  private free: Int32Array;
  private freeCount = 0;
  private count = 0;
  /**
   * The positions two keys were last found at, the later first (-1: none): valid while nothing leaves the index or
   * rebuilds it (a removal shifts the positions after it back; an insertion moves none). A wire's table is asked
   * about the same two MACs frame after frame — the clients' gateway on the way in, the answers' source on the way
   * back — and a found key then costs a comparison instead of its hash and probe (bench/README, "The cluster's hops
   * per frame (session 17)"). The keys as their halves ({@link findHalves}: the high 16 bits, -1 for none, and the low
   * 32 as an int32), small integers compared as they are.
   */
  private seenHi0 = -1;
  private seenLo0 = 0;
  private seenAt0 = -1;
  private seenHi1 = -1;
  private seenLo1 = 0;
  private seenAt1 = -1;
  /**
   * Whether the list's two newest slots stand in each other's place: the order is the list's with them exchanged. A
   * wire's table is touched for two MACs in turn, frame after frame (the clients' gateway on the way in, the answers'
   * source on the way back), and each touch was the other's undoing — an unlink and an append, ≈ 10 loads and stores
   * of the links with their checks (int-lru's touch ≈ 113 instructions a call, bench/README "The wire table's two
   * MACs in turn"): touching the second newest now flips this instead. Everything else that reads the list settles it
   * first ({@link settle}).
   */
  private swapped = false;
  /** Entries forgotten to make room. */
  evictions = 0;

  constructor(readonly limit: number) {
    // LruTable keeps one entry even at limit 0 (it evicts only when there is an oldest): so does this.
    const slots = Math.max(1, Math.min(1024, Math.ceil(limit) || 0));
    this.keys = new Float64Array(slots);
    this.values = new Array<V | undefined>(slots).fill(undefined);
    this.order = new SlotOrder(slots);
    this.free = new Int32Array(slots);
    this.index = new IntKeyIndex(slots);
  }

  /** Doubles the slots (the table is full and below its limit) and rebuilds the index for them. */
  private grow(): void {
    if (this.swapped === true) this.settle();
    const slots = this.keys.length * 2;
    const keys = new Float64Array(slots);
    keys.set(this.keys);
    this.keys = keys;
    this.order.resize(slots);
    const free = new Int32Array(slots);
    free.set(this.free);
    this.free = free;
    for (let s = this.values.length; s < slots; s++) this.values.push(undefined);
    this.index.resize(slots);
    this.forgetSeen();
    for (let s = this.order.oldest; s !== EMPTY; s = this.order.newer[s]!) this.index.insert(s, this.keys[s]!);
  }

  /**
   * The list as the order is: the two newest exchanged back when {@link swapped}. Its callers test `swapped` first:
   * settle is a call where it is used (not inlined into set and delete), and rarely has anything to do.
   */
  private settle(): void {
    if (this.swapped === true) {
      this.swapped = false;
      const o = this.order;
      const s = o.older[o.newest]!;
      o.unlink(s);
      o.append(s);
    }
  }

  /** Slot `s`, in the list, becomes the newest of the order. */
  private promote(s: number): void {
    const o = this.order;
    const n = o.newest;
    // The list's newest: the order's newest, or its second (swapped) made the newest again by settling the exchange.
    if (s === n) {
      if (this.swapped === true) this.swapped = false;
      return;
    }
    // The list's second: the order's newest already when swapped, else its second, made the newest by the exchange.
    if (o.older[n] === s) {
      if (this.swapped === false) this.swapped = true;
      return;
    }
    if (this.swapped === true) this.settle();
    o.unlink(s);
    o.append(s);
  }

  private forgetSeen(): void {
    this.seenHi0 = -1;
    this.seenHi1 = -1;
  }

  /** Empties index position `i` (the positions after it may move). */
  private removeAt(i: number): void {
    this.index.remove(i);
    this.forgetSeen();
  }

  get size(): number {
    return this.count;
  }

  /** The index position holding `key`'s slot, or -1. */
  private find(key: number): number {
    // Its halves: the quotient truncated (below 2^21) and the low 32 bits as an int32 (ToInt32 keeps them).
    return this.findHalves((key / TWO32) | 0, key | 0);
  }

  /**
   * {@link find} for the key `hi` × 2^32 + (`lo` >>> 0) given as its halves (IntKeyIndex.findHalves): `hi` below 2^21,
   * `lo` an int32 (the two words a frame's key holds a MAC in). The caches keep and pass a MAC they check again so,
   * where a 48-bit number stored in an object or passed to a call not inlined is a new heap number each time.
   */
  private findHalves(hi: number, lo: number): number {
    if (lo === this.seenLo0 && hi === this.seenHi0) return this.seenAt0;
    if (lo === this.seenLo1 && hi === this.seenHi1) return this.seenAt1;
    return this.findIndexed(hi, lo);
  }

  /** {@link findHalves} past the two keys found last: the index's probe, the key remembered. */
  private findIndexed(hi: number, lo: number): number {
    const i = this.index.findHalves(hi, lo, this.keys);
    if (i >= 0) {
      this.seenHi1 = this.seenHi0;
      this.seenLo1 = this.seenLo0;
      this.seenAt1 = this.seenAt0;
      this.seenHi0 = hi;
      this.seenLo0 = lo;
      this.seenAt0 = i;
    }
    return i;
  }

  get(key: number): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.values[this.index.slot(i)];
  }

  /** {@link get} of the key `hi` × 2^32 + (`lo` >>> 0): `hi` below 2^21, `lo` an int32 (see {@link findHalves}). */
  getHalves(hi: number, lo: number): V | undefined {
    const i = this.findHalves(hi, lo);
    return i < 0 ? undefined : this.values[this.index.slot(i)];
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  /** Makes `key` the newest without changing its value (a MAC seen again); false when it is not there. */
  touch(key: number): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.promote(this.index.slot(i));
    return true;
  }

  /** {@link touch} of the key `hi` × 2^32 + (`lo` >>> 0) (as {@link getHalves}). */
  touchHalves(hi: number, lo: number): boolean {
    // findHalves written out: a cache hit inlines this, and findHalves, which the table's other lookups share, may
    // have optimized code of its own by then, with the index's probe in it — too large for the hit's inlining budget.
    let i: number;
    if (lo === this.seenLo0 && hi === this.seenHi0) i = this.seenAt0;
    else if (lo === this.seenLo1 && hi === this.seenHi1) i = this.seenAt1;
    else if ((i = this.findIndexed(hi, lo)) < 0) return false;
    this.promote(this.index.slot(i));
    return true;
  }

  /** {@link touch} when `key` holds `value` (one lookup for a learning switch's common case); false otherwise. */
  touchIf(key: number, value: V): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    const s = this.index.slot(i);
    if (this.values[s] !== value) return false;
    this.promote(s);
    return true;
  }

  /** Writes `key` (it becomes the newest), evicting the oldest when full. */
  set(key: number, value: V): void {
    const found = this.find(key);
    if (found >= 0) {
      const s = this.index.slot(found);
      this.values[s] = value;
      this.promote(s);
      return;
    }
    if (this.swapped === true) this.settle();
    let s: number;
    if (this.count >= this.limit && this.order.oldest !== EMPTY) {
      // The evicted entry's slot carries the new one.
      s = this.order.oldest;
      this.order.unlink(s);
      this.removeAt(this.find(this.keys[s]!));
      this.evictions++;
    } else {
      if (this.freeCount === 0 && this.fresh === this.keys.length) this.grow();
      s = this.freeCount > 0 ? this.free[--this.freeCount]! : this.fresh++;
      this.count++;
    }
    this.keys[s] = key;
    this.values[s] = value;
    this.index.insert(s, key);
    this.order.append(s);
  }

  delete(key: number): void {
    const i = this.find(key);
    if (i < 0) return;
    if (this.swapped === true) this.settle();
    const s = this.index.slot(i);
    this.removeAt(i);
    this.release(s);
  }

  /** Deletes every entry whose value satisfies `drop`; returns how many. */
  deleteWhere(drop: (value: V) => boolean): number {
    let n = 0;
    if (this.swapped === true) this.settle();
    for (let s = this.order.oldest; s !== EMPTY; ) {
      const next = this.order.newer[s]!;
      if (drop(this.values[s]!)) {
        this.removeAt(this.find(this.keys[s]!));
        this.release(s);
        n++;
      }
      s = next;
    }
    return n;
  }

  clear(): void {
    this.index.clear();
    this.forgetSeen();
    this.values.fill(undefined);
    this.fresh = 0;
    this.freeCount = 0;
    this.order.clear();
    this.swapped = false;
    this.count = 0;
  }

  /** Takes slot `s` (already out of the index) off the list and frees it. */
  private release(s: number): void {
    this.order.unlink(s);
    this.values[s] = undefined;
    this.free[this.freeCount++] = s;
    this.count--;
  }
}

/**
 * NORMAL's MAC table of one VLAN: a MAC address (a 48-bit number) to what was learned of it, iterated in the order
 * MACs were first learned — a Map's contract for the few operations NORMAL uses, without a Map.
 *
 * Why not a Map: a MAC is above V8's small-integer range, so a Map keys it by a heap number, and every lookup
 * hashes that number through a call into the runtime; a table filling with new clients (an on-link client's first
 * ARP, flooded to every node) grows V8's ordered hash table by rebuilding it. Measured in the whole path
 * (bench/README.md, session 11): NORMAL's learning of a new source took 1–2 µs a call, a lookup ≈ 80 ns.
 *
 * Here the entries' keys sit in a Float64Array by slot, found through an {@link IntKeyIndex} (@vippath/wire: open
 * addressing, no tombstones), with the insertion order a {@link SlotOrder} (a Map's iteration order: the bridge's
 * eviction of the oldest breaks ties in `seen` by it).
 */
import { IntKeyIndex, NO_SLOT as NONE, SlotOrder } from '@vippath/wire';

/** What a table holds per MAC (the bridge's MacEntry). */
export interface MacSlot {
  port: number;
  seen: number;
}

export class MacTable<V extends MacSlot = MacSlot> {
  private keys = new Float64Array(16);
  private vals: Array<V | undefined> = new Array<V | undefined>(16).fill(undefined);
  /** Insertion order, first learned first. */
  private readonly order = new SlotOrder(16);
  private readonly index = new IntKeyIndex(16);
  /** Slots never used start at `fresh`; freed ones are kept on a stack. */
  private fresh = 0;
  private free: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The index position holding `mac`'s slot, or -1. */
  private find(mac: number): number {
    return this.index.find(mac, this.keys);
  }

  get(mac: number): V | undefined {
    const i = this.find(mac);
    return i < 0 ? undefined : this.vals[this.index.slot(i)];
  }

  /**
   * {@link get} of the MAC `hi` × 2^32 + (`lo` >>> 0) — the two words a frame's key holds it in (IntKeyIndex.findHalves:
   * no 48-bit number passed to a call, which would be a new heap number each time).
   */
  getHalves(hi: number, lo: number): V | undefined {
    const i = this.index.findHalves(hi, lo, this.keys);
    return i < 0 ? undefined : this.vals[this.index.slot(i)];
  }

  has(mac: number): boolean {
    return this.find(mac) >= 0;
  }

  /** Sets `mac`'s value: in place when it is there (its place in the order kept), else learned last. */
  set(mac: number, value: V): void {
    const found = this.find(mac);
    if (found >= 0) {
      this.vals[this.index.slot(found)] = value;
      return;
    }
    if (this.free.length === 0 && this.fresh === this.keys.length) this.grow();
    const s = this.free.length > 0 ? this.free.pop()! : this.fresh++;
    this.keys[s] = mac;
    this.vals[s] = value;
    this.index.insert(s, mac);
    this.order.append(s);
    this.count++;
  }

  /** Forgets `mac`; false when it was not there. */
  delete(mac: number): boolean {
    const i = this.find(mac);
    if (i < 0) return false;
    const s = this.index.slot(i);
    this.index.remove(i);
    this.order.unlink(s);
    this.vals[s] = undefined;
    this.free.push(s);
    this.count--;
    return true;
  }

  clear(): void {
    this.index.clear();
    this.vals.fill(undefined);
    this.fresh = 0;
    this.free.length = 0;
    this.order.clear();
    this.count = 0;
  }

  /**
   * The slot of the value seen longest ago — the first learned among those seen at that time, as a walk of
   * {@link entries} keeping the first strictly smaller `seen` finds it — or -1 when empty. No allocation: the
   * bridge's eviction of the oldest asks this of every table per new MAC once the tables are full.
   */
  oldestSlot(): number {
    let best = NONE;
    let bestSeen = 0;
    const vals = this.vals;
    const newer = this.order.newer;
    for (let s = this.order.oldest; s !== NONE; s = newer[s]!) {
      const seen = vals[s]!.seen;
      if (best === NONE || seen < bestSeen) {
        best = s;
        bestSeen = seen;
      }
    }
    return best;
  }

  /** The MAC in slot `s` (one {@link oldestSlot} gave). */
  keyAt(s: number): number {
    return this.keys[s]!;
  }

  /** The value in slot `s` (one {@link oldestSlot} gave). */
  valueAt(s: number): V {
    return this.vals[s]!;
  }

  /** The MACs and their values, first learned first (a Map's order). */
  *entries(): IterableIterator<[number, V]> {
    for (let s = this.order.oldest; s !== NONE; s = this.order.newer[s]!) yield [this.keys[s]!, this.vals[s]!];
  }

  /** The values, first learned first. */
  *values(): IterableIterator<V> {
    for (let s = this.order.oldest; s !== NONE; s = this.order.newer[s]!) yield this.vals[s]!;
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }

  /** Doubles the slots (all in use) and rebuilds the index for them. */
  private grow(): void {
    const slots = this.keys.length * 2;
    const keys = new Float64Array(slots);
    keys.set(this.keys);
    this.keys = keys;
    for (let s = this.vals.length; s < slots; s++) this.vals.push(undefined);
    this.order.resize(slots);
    this.index.resize(slots);
    for (let s = this.order.oldest; s !== NONE; s = this.order.newer[s]!) this.index.insert(s, this.keys[s]!);
  }
}

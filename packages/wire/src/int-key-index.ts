/**
 * An open-addressed index from integer keys — non-negative below 2^53: a MAC address as a number, an IPv4 address ×
 * 65 536 + port — to the slots of a table that keeps its keys in a Float64Array by slot. The learning tables of
 * the wire and of br-provider's NORMAL key by such numbers, which a Map would box into heap numbers and hash
 * through the runtime on every call.
 *
 * Linear probing, deletion by backward shift (Knuth's algorithm R: no tombstones, so a table that keeps turning over
 * never needs rebuilding); each position holds a slot number and its key's hash side by side, so a probe or a
 * shift reads one cache line and compares a key only when the hashes agree. The tables around it own their slots,
 * values and orders, and grow it with {@link IntKeyIndex.resize}.
 */

/** An empty position (and "no slot" for the tables using the index). */
export const NO_SLOT = -1;
const TWO32 = 4294967296;

/** A 32-bit hash of an integer key below 2^53 (both halves mixed: MACs differ in either): hashHalves'. */
export function hashIntKey(key: number): number {
  const lo = key >>> 0;
  return hashHalves(((key - lo) / TWO32) | 0, lo);
}

/**
 * The hash of the key `hi` × 2^32 + (`lo` >>> 0) from its halves — the two words a frame's key holds a MAC in (`lo`
 * read as an int32 mixes as its unsigned self: `^` takes both as the same 32 bits), without the 48-bit number. The one
 * mixing of both: {@link hashIntKey} splits its key and calls it, so find and findHalves cannot disagree.
 */
function hashHalves(hi: number, lo: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class IntKeyIndex {
  private index: Int32Array = new Int32Array(0);
  private mask = 0;

  constructor(slots: number) {
    this.resize(slots);
  }

  /** Empties the index and sizes it for `slots` entries: a power of two of positions, at least twice as many. */
  resize(slots: number): void {
    let n = 8;
    while (n < slots * 2) n *= 2;
    this.index = new Int32Array(2 * n).fill(NO_SLOT);
    this.mask = n - 1;
  }

  clear(): void {
    this.index.fill(NO_SLOT);
  }

  /** The position holding `key`'s slot (its key read from `keys`, the table's keys by slot), or -1. */
  find(key: number, keys: Float64Array): number {
    const index = this.index;
    const mask = this.mask;
    const h = hashIntKey(key);
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = index[2 * i]!;
      if (s === NO_SLOT) return -1;
      if (index[2 * i + 1] === h && keys[s] === key) return i;
    }
  }

  /**
   * {@link find} for the key `hi` × 2^32 + (`lo` >>> 0), `hi` a non-negative integer below 2^21 and `lo` any 32-bit
   * integer: the key as two small integers, which a call passes as they are, where a 48-bit number passed to a call
   * that is not inlined is a new heap number each time (the caches' wild entries ask about a new MAC every few frames).
   */
  findHalves(hi: number, lo: number, keys: Float64Array): number {
    const index = this.index;
    const mask = this.mask;
    const h = hashHalves(hi, lo);
    const key = hi * TWO32 + (lo >>> 0);
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = index[2 * i]!;
      if (s === NO_SLOT) return -1;
      if (index[2 * i + 1] === h && keys[s] === key) return i;
    }
  }

  /** The slot at position `i` (a position {@link find} returned). */
  slot(i: number): number {
    return this.index[2 * i]!;
  }

  /** Puts slot `s`, whose key is `key`, at the first free position from the key's home (the key is not there). */
  insert(s: number, key: number): void {
    const index = this.index;
    const mask = this.mask;
    const h = hashIntKey(key);
    let i = h & mask;
    while (index[2 * i] !== NO_SLOT) i = (i + 1) & mask;
    index[2 * i] = s;
    index[2 * i + 1] = h;
  }

  /** Empties position `i`, moving back the entries after it that probed past it. */
  remove(i: number): void {
    const index = this.index;
    const mask = this.mask;
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const s = index[2 * j]!;
      if (s === NO_SLOT) break;
      const h = index[2 * j + 1]!;
      const home = h & mask;
      // The entry at j stays unless its home lies cyclically outside (hole, j].
      if (hole <= j ? home > hole && home <= j : home > hole || home <= j) continue;
      index[2 * hole] = s;
      index[2 * hole + 1] = h;
      hole = j;
    }
    index[2 * hole] = NO_SLOT;
  }
}

import { SlotOrder } from '@vippath/wire';

/**
 * A bounded map that forgets its least recently written key first, in O(1): entries are linked in write order.
 * (A plain Map evicting `keys().next()` degrades: V8 leaves deleted entries as holes that every new iterator
 * skips, so evicting from the front again and again costs O(holes) each time.)
 */
interface Node<K, V> {
  key: K;
  value: V;
  older: Node<K, V> | undefined;
  newer: Node<K, V> | undefined;
}

export class LruTable<K, V> {
  private readonly map = new Map<K, Node<K, V>>();
  private oldest: Node<K, V> | undefined;
  private newest: Node<K, V> | undefined;
  /** Entries forgotten to make room. */
  evictions = 0;

  constructor(readonly limit: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Makes `key` the newest without changing its value (a MAC seen again); false when it is not there. */
  touch(key: K): boolean {
    const n = this.map.get(key);
    if (!n) return false;
    if (n !== this.newest) {
      this.unlink(n);
      this.append(n);
    }
    return true;
  }

  /** Writes `key` (it becomes the newest), evicting the oldest when full. */
  set(key: K, value: V): void {
    const n = this.map.get(key);
    if (n) {
      n.value = value;
      this.unlink(n);
      this.append(n);
      return;
    }
    let node: Node<K, V>;
    if (this.map.size >= this.limit && this.oldest) {
      // The evicted entry's node carries the new one: a full table (a wire seeing new clients) allocates nothing.
      node = this.oldest;
      this.unlink(node);
      this.map.delete(node.key);
      this.evictions++;
      node.key = key;
      node.value = value;
    } else node = { key, value, older: undefined, newer: undefined };
    this.map.set(key, node);
    this.append(node);
  }

  delete(key: K): void {
    const n = this.map.get(key);
    if (!n) return;
    this.unlink(n);
    this.map.delete(key);
  }

  /** Deletes every entry whose value satisfies `drop`; returns how many. */
  deleteWhere(drop: (value: V) => boolean): number {
    let n = 0;
    for (const [key, node] of this.map) {
      if (!drop(node.value)) continue;
      this.unlink(node);
      this.map.delete(key);
      n++;
    }
    return n;
  }

  clear(): void {
    this.map.clear();
    this.oldest = undefined;
    this.newest = undefined;
  }

  private append(n: Node<K, V>): void {
    n.older = this.newest;
    n.newer = undefined;
    if (this.newest) this.newest.newer = n;
    else this.oldest = n;
    this.newest = n;
  }

  private unlink(n: Node<K, V>): void {
    if (n.older) n.older.newer = n.newer;
    else this.oldest = n.newer;
    if (n.newer) n.newer.older = n.older;
    else this.newest = n.older;
    n.older = undefined;
    n.newer = undefined;
  }
}

const EMPTY = -1;

/**
 * A bounded table keyed by an address of up to 128 bits (four 32-bit words; IPv4 as the mapped form
 * ::ffff:a.b.c.d) and a port, with two number columns per entry, least recently written forgotten first — a
 * socket table without an object per entry: keys, values and the write-order links live in typed arrays,
 * grown by doubling up to the limit, and lookups allocate nothing (a Map keyed by address × 65 536 + port
 * boxes a heap number per lookup and keeps a node object and a value object per entry).
 *
 * Entries are named by slot numbers, valid until the entry is deleted or evicted.
 *
 * `ipv4` (a table that only ever holds IPv4 keys, e.g. a socket table's IPv4 half) keeps two key words a slot —
 * the address and the port; the other three are the mapped form's constants — and unsigned 32-bit values: 20 bytes a
 * slot fewer than 64 (keys 20 → 8, values 16 → 8), which a table of many connections writes first, page by page,
 * and again at every doubling (bench/README "A new connection, end to end (session 16)"). Its lookups of any other
 * address find nothing; inserting one is a RangeError.
 */
export class AddressPortTable {
  /** Entries forgotten to make room. */
  evictions = 0;
  /** The first value column of each slot (unsigned 32-bit in an `ipv4` table). */
  a: Float64Array | Uint32Array;
  /** The second value column of each slot (unsigned 32-bit in an `ipv4` table). */
  b: Float64Array | Uint32Array;
  /** A third value column of each slot, a byte (a pod's connection state). */
  c: Uint8Array;
  /** A fourth value column, as {@link a} and {@link b}. */
  d: Float64Array | Uint32Array;
  /** Key words a slot: 5 (four address words, the port), or 2 in an `ipv4` table (the address's last word, the port). */
  private readonly ks: number;
  private keys: Uint32Array;
  /** Each slot's key's hash (a deletion finds the slot's position from it). */
  private hashes: Int32Array;
  /** The write order; `newer` also chains the freed slots from `free`. */
  private readonly order: SlotOrder;
  /** The open-addressed index: per position a slot (EMPTY when free) and its key's hash side by side. */
  private buckets: Int32Array;
  private mask: number;
  private capacity: number;
  private count = 0;
  /** Slots never used yet start at `fresh`; freed ones are chained through `newer` from `free`. */
  private fresh = 0;
  private free = EMPTY;
  // The last find's miss: where its probe met an empty position, the key's hash and words. An insert of that key
  // before any other write (a pod's SYN: find4, then insert4 once the segment is judged a SYN that opens a
  // connection) takes the hash and the position from here instead of hashing and probing twice more. Every write
  // clears it (missAt EMPTY): a deletion's backward shift or a doubling moves the positions, an insert fills one.
  // The words are kept as signed 32-bit integers: small integers in a field, never a boxed number.
  private missAt = EMPTY;
  private missHash = 0;
  private missW0 = 0;
  private missW1 = 0;
  private missW2 = 0;
  private missW3 = 0;
  private missPort = 0;

  constructor(readonly limit: number, initial = 64, readonly ipv4 = false) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a table's limit is a positive whole number, not ${limit}`);
    this.capacity = Math.min(limit, initial);
    const c = this.capacity;
    this.ks = ipv4 ? 2 : 5;
    this.keys = new Uint32Array(c * this.ks);
    this.hashes = new Int32Array(c);
    this.order = new SlotOrder(c);
    this.a = ipv4 ? new Uint32Array(c) : new Float64Array(c);
    this.b = ipv4 ? new Uint32Array(c) : new Float64Array(c);
    this.c = new Uint8Array(c);
    this.d = ipv4 ? new Uint32Array(c) : new Float64Array(c);
    const nb = bucketsFor(c);
    this.buckets = new Int32Array(2 * nb).fill(EMPTY);
    this.mask = nb - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The least recently written entry's slot (the next to be evicted), or -1 when the table is empty. */
  get oldest(): number {
    return this.order.oldest;
  }

  /** The slot of the key, or -1. Does not change the order. */
  find(w0: number, w1: number, w2: number, w3: number, port: number): number {
    return this.findHashed(hashKey(w0, w1, w2, w3, port), w0, w1, w2, w3, port);
  }

  /** {@link find} with the key's hash `h` given (an insert hashes once, for the probe and the placing). */
  private findHashed(h: number, w0: number, w1: number, w2: number, w3: number, port: number): number {
    const k = this.keys;
    const b = this.buckets;
    const mask = this.mask;
    const v4 = this.ks === 2;
    if (v4 && (w0 !== 0 || w1 !== 0 || w2 >>> 0 !== 0xffff)) return EMPTY;
    // A probe reads the slot and its hash from one place; the keys only when the hashes agree.
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = b[2 * i]!;
      if (s === EMPTY) {
        this.missAt = i;
        this.missHash = h;
        this.missW0 = w0 | 0;
        this.missW1 = w1 | 0;
        this.missW2 = w2 | 0;
        this.missW3 = w3 | 0;
        this.missPort = port;
        return EMPTY;
      }
      if (b[2 * i + 1] !== h) continue;
      if (v4) {
        if (k[s * 2] === w3 >>> 0 && k[s * 2 + 1] === port) return s;
        continue;
      }
      const o = s * 5;
      if (k[o] === w0 >>> 0 && k[o + 1] === w1 >>> 0 && k[o + 2] === w2 >>> 0 && k[o + 3] === w3 >>> 0 && k[o + 4] === port) return s;
    }
  }

  /** {@link find} for an IPv4 address (an unsigned 32-bit number). */
  find4(ip: number, port: number): number {
    return this.find(0, 0, 0xffff, ip, port);
  }

  /** {@link find} for the 16 address bytes at `at` in `buf`. */
  find6(buf: Uint8Array, at: number, port: number): number {
    return this.find(word(buf, at), word(buf, at + 4), word(buf, at + 8), word(buf, at + 12), port);
  }

  /**
   * The key's slot, made the newest; a new entry (values 0) when it is not there, the oldest entry evicted for
   * it when the table is full.
   */
  insert(w0: number, w1: number, w2: number, w3: number, port: number): number {
    if (this.ks === 2 && (w0 !== 0 || w1 !== 0 || w2 >>> 0 !== 0xffff)) throw new RangeError('an IPv4 table holds IPv4 keys only');
    let h: number;
    let at = this.missAt;
    if (at !== EMPTY && (w3 | 0) === this.missW3 && port === this.missPort && (w2 | 0) === this.missW2 && (w1 | 0) === this.missW1 && (w0 | 0) === this.missW0) h = this.missHash;
    else {
      h = hashKey(w0, w1, w2, w3, port);
      const found = this.findHashed(h, w0, w1, w2, w3, port);
      if (found !== EMPTY) {
        this.order.unlink(found);
        this.order.append(found);
        return found;
      }
      at = this.missAt;
    }
    this.missAt = EMPTY;
    if (this.count >= this.limit) {
      this.evictions++;
      this.delete(this.order.oldest);
      at = EMPTY;
    } else if (this.count >= this.capacity) {
      this.grow();
      at = EMPTY;
    }
    let s: number;
    if (this.free !== EMPTY) {
      s = this.free;
      this.free = this.order.newer[s]!;
    } else s = this.fresh++;
    if (this.ks === 2) {
      this.keys[s * 2] = w3;
      this.keys[s * 2 + 1] = port;
    } else {
      const o = s * 5;
      this.keys[o] = w0;
      this.keys[o + 1] = w1;
      this.keys[o + 2] = w2;
      this.keys[o + 3] = w3;
      this.keys[o + 4] = port;
    }
    this.hashes[s] = h;
    this.a[s] = 0;
    this.b[s] = 0;
    this.c[s] = 0;
    this.d[s] = 0;
    if (at !== EMPTY) {
      this.buckets[2 * at] = s;
      this.buckets[2 * at + 1] = h;
    } else this.place(s, h);
    this.count++;
    this.order.append(s);
    return s;
  }

  insert4(ip: number, port: number): number {
    return this.insert(0, 0, 0xffff, ip, port);
  }

  insert6(buf: Uint8Array, at: number, port: number): number {
    return this.insert(word(buf, at), word(buf, at + 4), word(buf, at + 8), word(buf, at + 12), port);
  }

  /** Removes the entry in slot `s` (a slot {@link find} or {@link insert} gave). */
  delete(s: number): void {
    if (s < 0) return;
    const mask = this.mask;
    const b = this.buckets;
    let i = this.hashes[s]! & mask;
    while (b[2 * i] !== s) i = (i + 1) & mask;
    // Backward-shift deletion: entries after the hole that could sit in it move up, so probes stay unbroken.
    for (let j = (i + 1) & mask; b[2 * j] !== EMPTY; j = (j + 1) & mask) {
      const home = b[2 * j + 1]! & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        b[2 * i] = b[2 * j]!;
        b[2 * i + 1] = b[2 * j + 1]!;
        i = j;
      }
    }
    b[2 * i] = EMPTY;
    this.missAt = EMPTY;
    this.order.unlink(s);
    this.order.newer[s] = this.free;
    this.free = s;
    this.count--;
  }

  /** The address words and port of slot `s`, into `out` (5 numbers). */
  keyOf(s: number, out: Uint32Array): void {
    if (this.ks === 2) {
      out[0] = 0;
      out[1] = 0;
      out[2] = 0xffff;
      out[3] = this.keys[s * 2]!;
      out[4] = this.keys[s * 2 + 1]!;
      return;
    }
    for (let i = 0; i < 5; i++) out[i] = this.keys[s * 5 + i]!;
  }

  /** The slots oldest first (the order of writes). */
  *slots(): IterableIterator<number> {
    for (let s = this.order.oldest; s !== EMPTY; s = this.order.newer[s]!) yield s;
  }

  clear(): void {
    this.buckets.fill(EMPTY);
    this.missAt = EMPTY;
    this.count = 0;
    this.fresh = 0;
    this.free = EMPTY;
    this.order.clear();
  }

  private grow(): void {
    const c = Math.min(this.limit, this.capacity * 2);
    const keys = new Uint32Array(c * this.ks);
    keys.set(this.keys);
    this.keys = keys;
    const g = (old: Int32Array): Int32Array => {
      const n = new Int32Array(c);
      n.set(old);
      return n;
    };
    const f = (old: Float64Array | Uint32Array): Float64Array | Uint32Array => {
      const n = this.ks === 2 ? new Uint32Array(c) : new Float64Array(c);
      n.set(old);
      return n;
    };
    this.hashes = g(this.hashes);
    this.order.resize(c);
    this.a = f(this.a);
    this.b = f(this.b);
    const st = new Uint8Array(c);
    st.set(this.c);
    this.c = st;
    this.d = f(this.d);
    this.capacity = c;
    const nb = bucketsFor(c);
    this.buckets = new Int32Array(2 * nb).fill(EMPTY);
    this.mask = nb - 1;
    for (let s = this.order.oldest; s !== EMPTY; s = this.order.newer[s]!) this.place(s, this.hashes[s]!);
  }

  /** Puts slot `s` (its key's hash `h`) into the index at the first free position from its home. */
  private place(s: number, h: number): void {
    const b = this.buckets;
    const mask = this.mask;
    let i = h & mask;
    while (b[2 * i] !== EMPTY) i = (i + 1) & mask;
    b[2 * i] = s;
    b[2 * i + 1] = h;
  }
}

/** A power of two at least twice `capacity`: probes stay short at a load of one half or less. */
function bucketsFor(capacity: number): number {
  let n = 4;
  while (n < capacity * 2) n *= 2;
  return n;
}

const word = (buf: Uint8Array, at: number): number => {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
};

const hashKey = (w0: number, w1: number, w2: number, w3: number, port: number): number => {
  let h = Math.imul(port ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ w3, 0xcc9e2d51);
  h = Math.imul((h << 13) | (h >>> 19), 5) ^ w2;
  h = Math.imul(h ^ w1, 0x1b873593);
  h = Math.imul((h << 15) | (h >>> 17), 5) ^ w0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
};

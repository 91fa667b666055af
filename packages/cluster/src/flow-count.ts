/**
 * Counting distinct flows exactly, in bounded memory: an open-addressing set of fixed-size keys in typed arrays
 * (IPv4 5-tuples and non-IP MAC pairs in 4 words, IPv6 5-tuples in 10), grown by doubling. No allocation per
 * frame; a hash of the 5-tuple alone (what came before) folded distinct flows together and stopped near 65 536.
 */
import { DecodedFrame, FrameDecoder, L3, formatIPv6, plainTcp4 } from '@vippath/wire';

/** Distinct flows the replay counts exactly; past it the count stops and says "at least". */
export const FLOW_COUNT_LIMIT = 1_000_000;

class KeySet {
  private keys: Uint32Array;
  private used: Uint8Array;
  private mask: number;
  size = 0;

  constructor(private readonly words: number, capacity = 1024) {
    this.keys = new Uint32Array(capacity * words);
    this.used = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  /** Adds `key[at, at + words)`; true when it was new. Word by word: a view per new key was 19 B a frame. */
  add(key: Uint32Array, at = 0): boolean {
    const w = this.words;
    let h = 0x811c9dc5;
    for (let i = 0; i < w; i++) h = Math.imul(h ^ key[at + i]!, 0x01000193) ^ (h >>> 15);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h ^= h >>> 13;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      if (!this.used[slot]) {
        const keys = this.keys;
        for (let i = 0, o = slot * w; i < w; i++) keys[o + i] = key[at + i]!;
        this.used[slot] = 1;
        if (++this.size * 4 > this.used.length * 3) this.grow();
        return true;
      }
      let same = true;
      const base = slot * w;
      for (let i = 0; i < w; i++) {
        if (this.keys[base + i] !== key[at + i]) {
          same = false;
          break;
        }
      }
      if (same) return false;
    }
  }

  private grow(): void {
    const old = this.keys;
    const oldUsed = this.used;
    const w = this.words;
    this.keys = new Uint32Array(old.length * 2);
    this.used = new Uint8Array(oldUsed.length * 2);
    this.mask = this.used.length - 1;
    this.size = 0;
    for (let s = 0; s < oldUsed.length; s++) if (oldUsed[s]) this.add(old, s * w);
  }
}

/**
 * {@link KeySet} of 4-word keys given as four int32 arguments: no key array written and read back, no loop over
 * the words (a replay counts every injected frame's key here).
 */
class KeySet4 {
  private keys: Int32Array;
  private used: Uint8Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    this.keys = new Int32Array(capacity * 4);
    this.used = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  /** Adds the key (k0, k1, k2, k3), each taken as int32; true when it was new. */
  add(k0: number, k1: number, k2: number, k3: number): boolean {
    let h = k0 ^ Math.imul(k1, 0x85ebca6b) ^ Math.imul(k2, 0xc2b2ae35) ^ Math.imul(k3, 0x27d4eb2f);
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h ^= h >>> 15;
    const keys = this.keys;
    const used = this.used;
    const mask = this.mask;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const o = slot * 4;
      if (used[slot] === 0) {
        keys[o] = k0;
        keys[o + 1] = k1;
        keys[o + 2] = k2;
        keys[o + 3] = k3;
        used[slot] = 1;
        if (++this.size * 4 > used.length * 3) this.grow();
        return true;
      }
      if (keys[o] === (k0 | 0) && keys[o + 1] === (k1 | 0) && keys[o + 2] === (k2 | 0) && keys[o + 3] === (k3 | 0)) return false;
    }
  }

  private grow(): void {
    const old = this.keys;
    const oldUsed = this.used;
    this.keys = new Int32Array(old.length * 2);
    this.used = new Uint8Array(oldUsed.length * 2);
    this.mask = this.used.length - 1;
    this.size = 0;
    for (let s = 0; s < oldUsed.length; s++) if (oldUsed[s]) this.add(old[s * 4]!, old[s * 4 + 1]!, old[s * 4 + 2]!, old[s * 4 + 3]!);
  }
}

/** The big-endian word at `buf[at, at + 4)`, as int32. */
const word = (buf: Uint8Array, at: number): number => (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;

/**
 * Distinct flows among frames: IP 5-tuples (direction included), and for other frames the pair of MAC addresses
 * and EtherType. Exact up to {@link FLOW_COUNT_LIMIT}; `capped` says the count stopped there.
 */
export class FlowCounter {
  private readonly v4 = new KeySet4();
  private readonly v6 = new KeySet(10);
  private readonly key = new Uint32Array(10);
  private readonly decoder = new FrameDecoder();
  private readonly d = new DecodedFrame();
  capped = false;

  constructor(readonly limit = FLOW_COUNT_LIMIT) {}

  get count(): number {
    return this.v4.size + this.v6.size;
  }

  add(frame: Uint8Array): void {
    this.addAt(frame, 0, frame.length);
  }

  /**
   * {@link add} of the frame at `buf[offset, offset + length)`, read where it lies (a replay's capture chunk):
   * no view per frame.
   */
  addAt(buf: Uint8Array, offset: number, length: number): void {
    if (this.count >= this.limit) {
      this.capped = true;
      return;
    }
    const k = this.key;
    // The commonest frame (plain IPv4 TCP) read where wire's layout check found its header: no decode.
    const l3 = plainTcp4(buf, length, offset);
    if (l3 !== 0) {
      this.v4.add(word(buf, l3 + 12), word(buf, l3 + 16), word(buf, l3 + 20), 6);
      return;
    }
    const d = this.d;
    this.decoder.decode(buf, d, length, offset);
    const frame = buf;
    const ports = ((d.srcPort << 16) | d.dstPort) >>> 0;
    // The decoder's offsets are indexes into `buf`.
    if (d.l3 === L3.IPV6 && d.l3Offset + 40 <= offset + length) {
      for (let i = 0, o = d.l3Offset + 8; i < 8; i++, o += 4) k[i] = ((frame[o]! << 24) | (frame[o + 1]! << 16) | (frame[o + 2]! << 8) | frame[o + 3]!) >>> 0;
      k[8] = ports;
      k[9] = d.ipProto;
      this.v6.add(k);
    } else if (d.l3 === L3.IPV4) {
      this.v4.add(d.ipSrc, d.ipDst, ports, d.ipProto);
    } else if (length >= 12) {
      const o = offset;
      // A tag bit no IP protocol number has: these keys never meet an IPv4 5-tuple's.
      this.v4.add(word(frame, o), word(frame, o + 4), word(frame, o + 8), 0x80000000 | (d.etherType & 0xffff));
    }
  }

  /**
   * {@link addAt} of a frame {@link plainTcp4} found to be plain IPv4 TCP, its IPv4 header at `buf[l3]` (a replay
   * checks the layout once for its two counts).
   */
  addTcp4At(buf: Uint8Array, l3: number): void {
    if (this.count >= this.limit) {
      this.capped = true;
      return;
    }
    this.v4.add(word(buf, l3 + 12), word(buf, l3 + 16), word(buf, l3 + 20), 6);
  }
}

/**
 * Frames per IPv4 address, for a top list: an open-addressing table in typed arrays, at most `limit` addresses
 * (then only those already seen are counted and `capped` is set). A Map keyed by the address boxed every
 * address above 2^30 (192.168/16, most of the space) on each lookup. {@link entries} visits in first-seen order,
 * as a Map would, so ties in a top list keep that order.
 */
export class AddressCounter {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly addresses: Uint32Array;
  private readonly counts: Float64Array;
  size = 0;
  capped = false;

  constructor(readonly limit: number) {
    let cap = 1024;
    while (cap < limit * 2) cap *= 2;
    // Slot → index + 1 into the first-seen arrays (0: empty); load ≤ 1/2.
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    this.addresses = new Uint32Array(limit);
    this.counts = new Float64Array(limit);
  }

  add(address: number): void {
    const a = address >>> 0;
    let h = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
    h ^= h >>> 13;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const i = this.slots[slot]!;
      if (i === 0) {
        if (this.size >= this.limit) {
          this.capped = true;
          return;
        }
        this.addresses[this.size] = a;
        this.counts[this.size] = 1;
        this.slots[slot] = ++this.size;
        return;
      }
      if (this.addresses[i - 1] === a) {
        this.counts[i - 1]!++;
        return;
      }
    }
  }

  /** Each address (unsigned) and its count, first seen first. */
  *entries(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.size; i++) yield [this.addresses[i]!, this.counts[i]!];
  }
}

/**
 * Frames per IPv6 address: {@link AddressCounter}'s table with the address's 16 bytes as the key, read where they
 * lie in the frame (no string, no array per frame). The arrays are sized on the first address, so a capture with
 * no IPv6 costs nothing. {@link entries} gives each address's index; {@link format} writes it as text.
 */
export class Address6Counter {
  private slots: Int32Array | undefined;
  private mask = 0;
  private words: Uint32Array | undefined;
  private counts: Float64Array | undefined;
  size = 0;
  capped = false;

  constructor(readonly limit: number) {}

  /** Counts the address at `buf[at, at + 16)`. */
  addAt(buf: Uint8Array, at: number): void {
    if (!this.slots) {
      let cap = 1024;
      while (cap < this.limit * 2) cap *= 2;
      this.slots = new Int32Array(cap);
      this.mask = cap - 1;
      this.words = new Uint32Array(this.limit * 4);
      this.counts = new Float64Array(this.limit);
    }
    const slots = this.slots, words = this.words!;
    const w0 = ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
    const w1 = ((buf[at + 4]! << 24) | (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!) >>> 0;
    const w2 = ((buf[at + 8]! << 24) | (buf[at + 9]! << 16) | (buf[at + 10]! << 8) | buf[at + 11]!) >>> 0;
    const w3 = ((buf[at + 12]! << 24) | (buf[at + 13]! << 16) | (buf[at + 14]! << 8) | buf[at + 15]!) >>> 0;
    // Clients of one prefix differ in the low words: all four go into the hash.
    let h = Math.imul(w0 ^ Math.imul(w1, 0x9e3779b1) ^ Math.imul(w2, 0x85ebca6b) ^ Math.imul(w3, 0xc2b2ae35), 0x27d4eb2f);
    h ^= h >>> 15;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const i = slots[slot]!;
      if (i === 0) {
        if (this.size >= this.limit) {
          this.capped = true;
          return;
        }
        const o = this.size * 4;
        words[o] = w0;
        words[o + 1] = w1;
        words[o + 2] = w2;
        words[o + 3] = w3;
        this.counts![this.size] = 1;
        slots[slot] = ++this.size;
        return;
      }
      const o = (i - 1) * 4;
      if (words[o] === w0 && words[o + 1] === w1 && words[o + 2] === w2 && words[o + 3] === w3) {
        this.counts![i - 1]!++;
        return;
      }
    }
  }

  /** Each address's index (for {@link format}) and its count, first seen first. */
  *entries(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.size; i++) yield [i, this.counts![i]!];
  }

  /** The address at index `i` as RFC 5952 text. */
  format(i: number): string {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    for (let k = 0; k < 4; k++) view.setUint32(k * 4, this.words![i * 4 + k]!);
    return formatIPv6(bytes);
  }
}

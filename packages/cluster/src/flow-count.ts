/**
 * Counting distinct flows exactly, in bounded memory: an open-addressing set of fixed-size keys in typed arrays
 * (IPv4 5-tuples and non-IP MAC pairs in 4 words, IPv6 5-tuples in 10), grown by doubling. No allocation per
 * frame; a hash of the 5-tuple alone (what came before) folded distinct flows together and stopped near 65 536.
 */
import { DecodedFrame, FrameDecoder, L3 } from '@vippath/wire';

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

  /** Adds `key[0, words)`; true when it was new. */
  add(key: Uint32Array): boolean {
    const w = this.words;
    let h = 0x811c9dc5;
    for (let i = 0; i < w; i++) h = Math.imul(h ^ key[i]!, 0x01000193) ^ (h >>> 15);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h ^= h >>> 13;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      if (!this.used[slot]) {
        this.keys.set(key.subarray(0, w), slot * w);
        this.used[slot] = 1;
        if (++this.size * 4 > this.used.length * 3) this.grow();
        return true;
      }
      let same = true;
      const base = slot * w;
      for (let i = 0; i < w; i++) {
        if (this.keys[base + i] !== key[i]) {
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
    for (let s = 0; s < oldUsed.length; s++) if (oldUsed[s]) this.add(old.subarray(s * w, s * w + w));
  }
}

/**
 * Distinct flows among frames: IP 5-tuples (direction included), and for other frames the pair of MAC addresses
 * and EtherType. Exact up to {@link FLOW_COUNT_LIMIT}; `capped` says the count stopped there.
 */
export class FlowCounter {
  private readonly v4 = new KeySet(4);
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
    if (this.count >= this.limit) {
      this.capped = true;
      return;
    }
    const d = this.d;
    this.decoder.decode(frame, d);
    const k = this.key;
    const ports = ((d.srcPort << 16) | d.dstPort) >>> 0;
    if (d.l3 === L3.IPV6 && d.l3Offset + 40 <= frame.length) {
      for (let i = 0, o = d.l3Offset + 8; i < 8; i++, o += 4) k[i] = ((frame[o]! << 24) | (frame[o + 1]! << 16) | (frame[o + 2]! << 8) | frame[o + 3]!) >>> 0;
      k[8] = ports;
      k[9] = d.ipProto;
      this.v6.add(k);
    } else if (d.l3 === L3.IPV4) {
      k[0] = d.ipSrc >>> 0;
      k[1] = d.ipDst >>> 0;
      k[2] = ports;
      k[3] = d.ipProto;
      this.v4.add(k);
    } else if (frame.length >= 12) {
      k[0] = ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) >>> 0;
      k[1] = ((frame[4]! << 24) | (frame[5]! << 16) | (frame[6]! << 8) | frame[7]!) >>> 0;
      k[2] = ((frame[8]! << 24) | (frame[9]! << 16) | (frame[10]! << 8) | frame[11]!) >>> 0;
      // A tag bit no IP protocol number has: these keys never meet an IPv4 5-tuple's.
      k[3] = (0x80000000 | (d.etherType & 0xffff)) >>> 0;
      this.v4.add(k);
    }
  }
}

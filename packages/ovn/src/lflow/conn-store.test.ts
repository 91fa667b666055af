import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONN_ADMIT, CONN_KEY_WORDS, CONN_PAD, CONN_SLOT, CONN_SLOTS_FIRST, CONN_WAYS, ConnStore } from './megaflow.js';

/** A key of CONN_KEY_WORDS words made from `n`, and its hash (the number itself: keys spread evenly over the index buckets, none overflows). */
const key = (n: number): { k: Int32Array; h: number } => {
  const k = new Int32Array(CONN_KEY_WORDS);
  for (let i = 0; i < k.length; i++) k[i] = n * 31 + i;
  return { k, h: n };
};
const put = (s: ConnStore, n: number): number => {
  const { k, h } = key(n);
  const base = s.add(h);
  s.data.set(k, base);
  return base;
};
const has = (s: ConnStore, n: number): boolean => {
  const { k, h } = key(n);
  return s.find(h, k) >= 0;
};

describe('ConnStore (the connection replay\'s walks)', () => {
  it('finds what it holds by full key, frees a removed walk, grows past its first slots', () => {
    const s = new ConnStore(32768);
    const bases = new Map<number, number>();
    for (let n = 0; n < 3000; n++) bases.set(n, put(s, n));
    expect(s.size).toBe(3000);
    for (let n = 0; n < 3000; n++) expect(s.find(key(n).h, key(n).k)).toBe(bases.get(n));
    // Same hash, another key: not found (the slot's key is compared, not only the index's hash).
    const other = key(7).k.slice();
    other[5]! ^= 1;
    expect(s.find(key(7).h, other)).toBe(-1);
    s.remove(bases.get(7)!);
    expect(has(s, 7)).toBe(false);
    expect(s.size).toBe(2999);
    // The freed slot is the next one handed out.
    expect(put(s, 5000)).toBe(bases.get(7));
    s.clear();
    expect(has(s, 1)).toBe(false);
    expect(s.size).toBe(0);
  });

  it('when full, gives a dead walk\'s slot at once and a live one\'s only every CONN_ADMIT-th time', () => {
    const SLOTS = 64;
    const s = new ConnStore(SLOTS);
    for (let n = 0; n < SLOTS; n++) put(s, n);
    // All in use (every walk held is looked up between two new ones): most new walks are declined, one in
    // CONN_ADMIT taken.
    const held = [...Array(SLOTS).keys()];
    let admitted = 0;
    for (let i = 0; i < CONN_ADMIT * 4; i++) {
      for (const n of held) has(s, n);
      if (s.admit()) {
        admitted++;
        put(s, 1000 + i);
        held.push(1000 + i);
      }
    }
    expect(admitted).toBe(4);
    expect(s.evictions).toBe(4);
    // Every other walk held stays in use, the others are left alone for more than twice the store's size of lookups:
    // dead. Each new walk is admitted at once and takes a dead one's slot (the clock's window of 8 holds some); every
    // live walk stays.
    const liveHeld = held.filter((n) => has(s, n)).filter((_, i) => i % 2 === 0);
    for (let round = 0; round < 5; round++) for (const n of liveHeld) has(s, n);
    for (let i = 0; i < 8; i++) {
      expect(s.admit()).toBe(true);
      put(s, 2000 + i);
    }
    for (const n of liveHeld) expect(has(s, n)).toBe(true);
    for (let i = 0; i < 8; i++) expect(has(s, 2000 + i)).toBe(true);
    expect(s.size).toBe(SLOTS);
  });

  it('reuses the slots of short connections\' dead walks before taking slots never used, and keeps live ones', () => {
    // 5 000 walks, each used every 10 walks' time for the next 50 and then never again (7 lookups per new walk): the
    // slots taken in turn hold dead walks, and are reused; the store never grows past its first slots.
    const s = new ConnStore(32768);
    let lost = 0;
    for (let n = 0; n < 5000; n++) {
      if (has(s, n)) lost++;
      put(s, n);
      for (let m = n; m >= 0 && m >= n - 50; m -= 10) if (!has(s, m)) lost++;
    }
    expect(lost).toBe(0);
    expect(s.data.length).toBe(CONN_PAD + CONN_SLOTS_FIRST * CONN_SLOT);
    expect(s.evictions).toBeGreaterThan(4000);
    // Walks used in turn, each once between two uses of every other (switch-est's connections): none given up.
    const t = new ConnStore(32768);
    for (let n = 0; n < 3000; n++) {
      if (has(t, n)) lost++;
      put(t, n);
    }
    for (let round = 0; round < 3; round++) for (let n = 0; n < 3000; n++) if (!has(t, n)) lost++;
    expect(lost).toBe(0);
    expect(t.evictions).toBe(0);
  });

  it('puts every slot CONN_PAD integers past a multiple of CONN_SLOT (a 64-byte line\'s start in mmap\'d memory), through growth and reuse', () => {
    // glibc's mmap'd chunks start 16 bytes past a page: 16 + 4 × CONN_PAD bytes is a cache line's start, and a slot is
    // a whole number of lines.
    expect((16 + 4 * CONN_PAD) % 64).toBe(0);
    expect((4 * CONN_SLOT) % 64).toBe(0);
    const s = new ConnStore(32768);
    const bases: number[] = [];
    for (let n = 0; n < 3000; n++) bases.push(put(s, n));
    s.remove(bases[10]!);
    bases.push(put(s, 9000));
    for (const b of bases) expect((b - CONN_PAD) % CONN_SLOT).toBe(0);
    for (let n = 0; n < 3000; n++) if (n !== 10) expect(s.find(key(n).h, key(n).k)).toBe(bases[n]);
    // Nothing is written before the first slot.
    for (let i = 0; i < CONN_PAD; i++) expect(s.data[i]).toBe(0);
  });

  it('a full store of two slots: the walk left unused gives way, the one in use stays', () => {
    const s = new ConnStore(2);
    put(s, 1);
    put(s, 2);
    // Key 2 is not looked up for more than twice the store's size of lookups: dead.
    for (let i = 0; i < 5; i++) expect(has(s, 1)).toBe(true);
    expect(s.admit()).toBe(true);
    put(s, 3);
    expect(has(s, 1)).toBe(true);
    expect(has(s, 3)).toBe(true);
    expect(has(s, 2)).toBe(false);
    expect(s.evictions).toBe(1);
  });

  it('keeps a bucket\'s ways in use first as walks leave it, and re-buckets every walk when the index grows', () => {
    // 4 096 slots, 1 024 first: 256 buckets, then 512 at the first growth, then 1 024 (twice as many ways as slots).
    // Keys 0–7 share bucket 7 (and the upper hash bits of pairs of them), and split between buckets 7 and 263 at the
    // first growth.
    const s = new ConnStore(4096);
    const same = Array.from({ length: CONN_WAYS }, (_, i) => {
      const k = new Int32Array(CONN_KEY_WORDS).fill(100 + i);
      return { k, h: ((i >> 1) << 20) | ((i & 1) << 8) | 7 };
    });
    const at = same.map(({ k, h }) => {
      const b = s.add(h);
      s.data.set(k, b);
      return b;
    });
    // A way left in the middle of the bucket: the ways after it are still found (a lookup stops at an empty way).
    s.remove(at[2]!);
    s.remove(at[5]!);
    for (let i = 0; i < CONN_WAYS; i++) expect(s.find(same[i]!.h, same[i]!.k)).toBe(i === 2 || i === 5 ? -1 : at[i]);
    // The freed ways are taken again by new keys of the bucket.
    const again = [0, 1].map((i) => ({ k: new Int32Array(CONN_KEY_WORDS).fill(200 + i), h: ((8 + i) << 20) | 7 }));
    for (const { k, h } of again) s.data.set(k, s.add(h));
    expect(s.evictions).toBe(0);
    // Two growths (keys spread evenly over the other buckets: none overflows), then every walk held found where it was.
    const bases = new Map<number, number>();
    for (let n = 0; bases.size < 3000; n++) if ((n & 255) !== 7) bases.set(n, put(s, n));
    expect(s.evictions).toBe(0);
    for (let i = 0; i < CONN_WAYS; i++) if (i !== 2 && i !== 5) expect(s.find(same[i]!.h, same[i]!.k)).toBe(at[i]);
    for (const { k, h } of again) expect(s.find(h, k)).toBeGreaterThanOrEqual(0);
    for (const [n, b] of bases) expect(s.find(key(n).h, key(n).k)).toBe(b);
    expect(s.size).toBe(CONN_WAYS + 3000);
  });

  it('a full bucket gives its least recently used way', () => {
    // 64 slots: 16 buckets of CONN_WAYS ways. CONN_WAYS + 1 keys of one bucket (hashes equal in the low bits): the
    // last takes the way of the one used longest ago (key 1: the others are looked up after it was added).
    const s = new ConnStore(64);
    const keys = Array.from({ length: CONN_WAYS + 1 }, (_, i) => {
      const k = new Int32Array(CONN_KEY_WORDS).fill(i + 1);
      return { k, h: (i << 16) | 5 };
    });
    for (let i = 0; i < CONN_WAYS; i++) s.data.set(keys[i]!.k, s.add(keys[i]!.h));
    for (let i = 0; i < CONN_WAYS; i++) if (i !== 1) expect(s.find(keys[i]!.h, keys[i]!.k)).toBeGreaterThanOrEqual(0);
    s.data.set(keys[CONN_WAYS]!.k, s.add(keys[CONN_WAYS]!.h));
    expect(s.find(keys[1]!.h, keys[1]!.k)).toBe(-1);
    for (let i = 0; i <= CONN_WAYS; i++) if (i !== 1) expect(s.find(keys[i]!.h, keys[i]!.k)).toBeGreaterThanOrEqual(0);
    expect(s.evictions).toBe(1);
  });

  // connLookup's lookup (executor.ts), mirrored: the first way with the hash's tag compared, find only when that way
  // held another key, else `missed` — against find alone, on two stores given the same operations. Hashes from a few
  // buckets and tags, keys several to a hash: ways of one tag with other keys, full buckets, removals in between.
  it('a lookup by candidate, find only after a way of the tag, answers and counts as find', () => {
    const lookup = (s: ConnStore, h: number, k: Int32Array): number => {
      let base = s.candidate(h);
      let sameTag = false;
      if (base >= 0) {
        let eq = true;
        for (let i = 0; i < CONN_KEY_WORDS; i++) if (s.data[base + i] !== k[i]) eq = false;
        if (eq) s.touch(base);
        else {
          base = -1;
          sameTag = true;
        }
      }
      if (base < 0) base = sameTag ? s.find(h, k) : s.missed();
      return base;
    };
    const op = fc.record({ kind: fc.integer({ min: 0, max: 3 }), bucket: fc.integer({ min: 0, max: 3 }), tag: fc.integer({ min: 0, max: 3 }), key: fc.integer({ min: 0, max: 2 }) });
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 300, size: 'max' }), (ops) => {
        // 64 slots: 16 buckets of CONN_WAYS ways; the tag is above the slot's bits.
        const a = new ConnStore(64);
        const b = new ConnStore(64);
        const held: number[] = [];
        for (const o of ops) {
          const h = (o.tag << 20) | o.bucket;
          const k = new Int32Array(CONN_KEY_WORDS).fill(h ^ (o.key * 7919));
          if (o.kind === 0) {
            const x = a.add(h);
            const y = b.add(h);
            expect(y).toBe(x);
            a.data.set(k, x);
            b.data.set(k, y);
            // A slot taken back from another walk (an eviction) is held once, as the new walk's.
            const again = held.indexOf(x);
            if (again >= 0) held.splice(again, 1);
            held.push(x);
          } else if (o.kind === 1 && held.length > 0) {
            const x = held.splice((o.key * 131 + o.tag) % held.length, 1)[0]!;
            a.remove(x);
            b.remove(x);
          } else expect(lookup(b, h, k)).toBe(a.find(h, k));
        }
        expect(b.evictions).toBe(a.evictions);
        expect(b.size).toBe(a.size);
        expect(Array.from(b.index)).toEqual(Array.from(a.index));
        expect(Array.from(b.data)).toEqual(Array.from(a.data));
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});


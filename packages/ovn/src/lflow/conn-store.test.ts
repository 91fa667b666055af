import { describe, expect, it } from 'vitest';
import { CONN_ADMIT, CONN_KEY_WORDS, ConnStore } from './megaflow.js';

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

  it('a full bucket gives its least recently used way', () => {
    // 64 slots: 32 buckets of 4 ways. Five keys of one bucket (hashes equal in the low bits): the fifth takes the
    // way of the one used longest ago.
    const s = new ConnStore(64);
    const keys = [0, 1, 2, 3, 4].map((i) => {
      const k = new Int32Array(CONN_KEY_WORDS).fill(i + 1);
      return { k, h: (i << 16) | 5 };
    });
    for (let i = 0; i < 4; i++) s.data.set(keys[i]!.k, s.add(keys[i]!.h));
    for (const i of [0, 2, 3]) expect(s.find(keys[i]!.h, keys[i]!.k)).toBeGreaterThanOrEqual(0);
    s.data.set(keys[4]!.k, s.add(keys[4]!.h));
    expect(s.find(keys[1]!.h, keys[1]!.k)).toBe(-1);
    for (const i of [0, 2, 3, 4]) expect(s.find(keys[i]!.h, keys[i]!.k)).toBeGreaterThanOrEqual(0);
    expect(s.evictions).toBe(1);
  });
});

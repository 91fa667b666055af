import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashIntKey, IntKeyIndex, NO_SLOT } from './int-key-index.js';

describe('IntKeyIndex', () => {
  it('finds every key inserted and none removed, through growth and backward shifts (property against a Map)', () => {
    // Keys from a small pool (many land on one home when the index is small), either half of 48 bits differing.
    const key = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }).map((x) => x * 2 ** 32), fc.integer({ min: 0, max: 2 ** 48 - 1 }));
    const op = fc.record({ kind: fc.constantFrom('insert', 'insert', 'remove', 'grow'), key });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        let slots = 4;
        let keys = new Float64Array(slots);
        const index = new IntKeyIndex(slots);
        const model = new Map<number, number>();
        const free: number[] = [0, 1, 2, 3];
        const rebuild = (): void => {
          index.resize(slots);
          for (const [k, s] of model) index.insert(s, k);
        };
        for (const o of ops) {
          if (o.kind === 'grow' || (o.kind === 'insert' && free.length === 0 && !model.has(o.key))) {
            const more = new Float64Array(slots * 2);
            more.set(keys);
            for (let s = slots; s < slots * 2; s++) free.push(s);
            keys = more;
            slots *= 2;
            rebuild();
            if (o.kind === 'grow') continue;
          }
          if (o.kind === 'insert') {
            if (model.has(o.key)) continue;
            const s = free.pop()!;
            keys[s] = o.key;
            index.insert(s, o.key);
            model.set(o.key, s);
          } else if (o.kind === 'remove') {
            const i = index.find(o.key, keys);
            expect(i >= 0).toBe(model.has(o.key));
            if (i < 0) continue;
            expect(index.slot(i)).toBe(model.get(o.key));
            index.remove(i);
            free.push(model.get(o.key)!);
            model.delete(o.key);
          }
          for (const [k, s] of model) expect(index.slot(index.find(k, keys))).toBe(s);
        }
        index.clear();
        for (const k of model.keys()) expect(index.find(k, keys)).toBe(-1);
      }),
      { numRuns: 300, seed: 20261202 },
    );
    expect(NO_SLOT).toBe(-1);
  });

  it('a removal before the end of the positions keeps the entries that wrapped around to the start findable', () => {
    // 8 slots → 16 positions: keys whose home is the last position (15) or the first (0), found by scanning.
    const index = new IntKeyIndex(8);
    const homes = (home: number, n: number): number[] => {
      const out: number[] = [];
      for (let k = 1; out.length < n; k++) if ((hashIntKey(k) & 15) === home) out.push(k);
      return out;
    };
    const keys = new Float64Array(8);
    // Three keys of home 15 fill 15, 0, 1; a key of home 0 goes to 2; one of home 1 to 3.
    const order = [...homes(15, 3), homes(0, 1)[0]!, homes(1, 1)[0]!];
    order.forEach((k, s) => {
      keys[s] = k;
      index.insert(s, k);
    });
    // Removing the entry at 15 must move the wrapped home-15 entries back, and leave the home-0/1 entries findable.
    index.remove(index.find(order[0]!, keys));
    expect(index.find(order[0]!, keys)).toBe(-1);
    order.slice(1).forEach((k) => expect(index.slot(index.find(k, keys))).toBe(order.indexOf(k)));
    // And from the wrapped middle: remove the entry at position 0.
    index.remove(index.find(order[1]!, keys));
    order.slice(2).forEach((k) => expect(index.slot(index.find(k, keys))).toBe(order.indexOf(k)));

    // An entry at its own home past the wrap stays where it is: two keys of home 14 (at 14, 15), one of home 0 (at 0);
    // removing the first moves the second back to 14 and must leave the home-0 key at 0.
    const again = new IntKeyIndex(8);
    const layout = [...homes(14, 2), homes(0, 1)[0]!];
    const keys2 = new Float64Array(8);
    layout.forEach((k, s) => {
      keys2[s] = k;
      again.insert(s, k);
    });
    again.remove(again.find(layout[0]!, keys2));
    expect(again.slot(again.find(layout[1]!, keys2))).toBe(1);
    expect(again.slot(again.find(layout[2]!, keys2))).toBe(2);
  });
});


/**
 * MACs for the two-word form: 0, ff:ff:ff:ff:ff:ff, low words with the top bit set (negative as an int32), pairs that
 * differ in the high 16 bits alone or the low 32 alone, and any 48-bit number.
 */
const MAC_SPECIALS = [0, 0xffffffffffff, 0x525400cc0001, 0x5a5400cc0001, 0x525480cc0001, 0x5a5480cc0001, 0x525400cc0002, 0x0000ffffffff, 0xffff00000000, 0x000080000000, 0x000100000000, 0xfffe80000000];

describe('IntKeyIndex.findHalves', () => {
  const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
  it(`finds what find finds for the key as its high 16 bits and its low 32 as an int32 or unsigned (generated MACs; seed ${seed})`, () => {
    console.log(`int-key-index halves: seed ${seed} (VIPPATH_PROPERTY_SEED)`);
    const any = fc.integer({ min: 0, max: 2 ** 48 - 1 });
    // A MAC, and MACs like it in one half: the neighbours a half compared or hashed wrongly would confuse with it.
    const mac = fc.oneof(fc.constantFrom(...MAC_SPECIALS), any);
    const near = fc.tuple(mac, fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 1, max: 2 ** 32 - 1 }), fc.constantFrom('hi', 'lo', 'same')).map(([m, dh, dl, which]) => {
      const hi = Math.floor(m / 2 ** 32);
      const lo = m % 2 ** 32;
      return which === 'hi' ? ((hi ^ dh) >>> 0) * 2 ** 32 + lo : which === 'lo' ? hi * 2 ** 32 + ((lo ^ dl) >>> 0) : m;
    });
    fc.assert(
      fc.property(fc.uniqueArray(mac, { maxLength: 40 }), fc.array(near, { maxLength: 60 }), fc.constantFrom(4, 8, 64), (stored, asked, slots) => {
        const index = new IntKeyIndex(Math.max(slots, stored.length));
        const keys = new Float64Array(Math.max(slots, stored.length));
        stored.forEach((k, s) => {
          keys[s] = k;
          index.insert(s, k);
        });
        // Each stored key's neighbours in one half too: the high 16 bits' lowest flipped, the low word's top bit.
        const flipped = stored.flatMap((k) => [(Math.floor(k / 2 ** 32) ^ 1) * 2 ** 32 + (k % 2 ** 32), Math.floor(k / 2 ** 32) * 2 ** 32 + (((k % 2 ** 32) ^ 0x80000000) >>> 0)]);
        for (const k of [...stored, ...asked, ...flipped]) {
          const hi = Math.floor(k / 2 ** 32);
          const at = index.find(k, keys);
          expect(index.findHalves(hi, k | 0, keys)).toBe(at);
          expect(index.findHalves(hi, k % 2 ** 32, keys)).toBe(at);
          expect(at >= 0).toBe(stored.includes(k));
        }
      }),
      { seed, numRuns: 300 },
    );
  });
});

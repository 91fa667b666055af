import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MacTable } from './mac-table.js';

// Keys: MACs as 48-bit numbers from a small pool (so sets, deletes and re-learnings of the same MAC meet), some
// sharing their low 32 bits, some their high 16 (the two halves the hash mixes), plus arbitrary ones.
const pool = [0, 1, 0x525400b50001, 0x525400b50002, 0x525400cc0001, 0x535400b50001, 0xffffffffffff, 0x100000000, 0xffffffff, 0x0000aabbccdd, 0x525480b50001, 0x535480b50001];
const mac = fc.oneof(fc.constantFrom(...pool), fc.integer({ min: 0, max: 63 }).map((i) => 0x525400b50000 + i), fc.integer({ min: 0, max: 2 ** 48 - 1 }));
const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), mac, port: fc.integer({ min: -1, max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), mac }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('get' as const), mac }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
);

describe('MacTable: a Map of MAC numbers to entries, without a Map', () => {
  it('answers every get, has, size and iteration as a Map does, through growth, deletions and clears', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 400 }), (ops) => {
        const t = new MacTable();
        const m = new Map<number, { port: number; seen: number }>();
        ops.forEach((o, i) => {
          if (o.kind === 'set') {
            const v = { port: o.port, seen: i };
            t.set(o.mac, v);
            m.set(o.mac, v);
          } else if (o.kind === 'delete') expect(t.delete(o.mac)).toBe(m.delete(o.mac));
          else if (o.kind === 'clear') {
            t.clear();
            m.clear();
          } else {
            expect(t.get(o.mac)).toBe(m.get(o.mac));
            // The MAC as a frame's key holds it: its high 16 bits, its low 32 as an int32 (negative with the top bit set).
            expect(t.getHalves(Math.floor(o.mac / 2 ** 32), o.mac | 0)).toBe(m.get(o.mac));
            expect(t.has(o.mac)).toBe(m.has(o.mac));
          }
          expect(t.size).toBe(m.size);
        });
        // Every key still findable (a deletion that breaks a probe chain loses the ones after it), and the order.
        for (const k of m.keys()) {
          expect(t.get(k)).toBe(m.get(k));
          expect(t.getHalves(Math.floor(k / 2 ** 32), k | 0)).toBe(m.get(k));
        }
        for (const k of pool) expect(t.has(k)).toBe(m.has(k));
        expect([...t.entries()]).toEqual([...m.entries()]);
        expect([...t.values()]).toEqual([...m.values()]);
        expect([...t]).toEqual([...m]);
      }),
      { numRuns: 300, seed: 20261202 },
    );
  });

  it('oldestSlot is the first of the entries seen longest ago, in learning order, through sets, re-sets and deletions', () => {
    // Few distinct times, so ties are common: the first learned among equals must win (the bridge's eviction).
    const timed = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), mac, seen: fc.integer({ min: 0, max: 4 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), mac }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('touch' as const), mac, seen: fc.integer({ min: 0, max: 4 }) }) },
    );
    fc.assert(
      fc.property(fc.array(timed, { minLength: 1, maxLength: 200 }), (ops) => {
        const t = new MacTable();
        for (const o of ops) {
          if (o.kind === 'set') t.set(o.mac, { port: 1, seen: o.seen });
          else if (o.kind === 'delete') t.delete(o.mac);
          else {
            const e = t.get(o.mac);
            if (e) e.seen = o.seen;
          }
          let first: [number, { port: number; seen: number }] | undefined;
          for (const [k, v] of t.entries()) if (first === undefined || v.seen < first[1].seen) first = [k, v];
          const s = t.oldestSlot();
          if (first === undefined) expect(s).toBe(-1);
          else {
            expect(t.keyAt(s)).toBe(first[0]);
            expect(t.valueAt(s)).toBe(first[1]);
          }
        }
      }),
      { numRuns: 300, seed: 20261202 },
    );
  });

  it('keeps thousands of new clients findable, in the order learned, after some are forgotten', () => {
    const t = new MacTable();
    const m = new Map<number, { port: number; seen: number }>();
    for (let i = 0; i < 5000; i++) {
      const k = 0x525400000000 + i * 0x10001;
      const v = { port: i % 3, seen: i };
      t.set(k, v);
      m.set(k, v);
      if (i % 7 === 3) {
        const gone = 0x525400000000 + (i >> 1) * 0x10001;
        expect(t.delete(gone)).toBe(m.delete(gone));
      }
    }
    expect(t.size).toBe(m.size);
    for (const [k, v] of m) expect(t.get(k)).toBe(v);
    expect([...t.entries()].map(([k]) => k)).toEqual([...m.keys()]);
  });
});

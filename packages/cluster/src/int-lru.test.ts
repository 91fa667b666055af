import fc from 'fast-check';
import { expect, it } from 'vitest';
import { IntLruTable } from './int-lru.js';
import { LruTable } from './lru.js';

// Keys as the callers make them (48-bit MACs, IPv4 × 65 536 + port): a few distinct ones, some colliding in the
// index's low bits, so probing, backward-shift deletion and growth are all exercised.
const KEYS = [0, 1, 2, 7, 8, 0xffff, 0x10000, 0x525400cc0001, 0x525400cc0002, 0x525400bb0003, 0xffffffffffff, 2 ** 32, 2 ** 32 + 1, 0x0ab50001 * 65536 + 32768, 2 ** 53 - 1];

type Op = ['set' | 'delete' | 'touch' | 'deleteWhere' | 'clear', number, number];

const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);

/** One generated operation on both tables, their answers, sizes and evictions compared. */
function apply(a: IntLruTable<number>, b: LruTable<number, number>, [kind, key, v]: Op): void {
  if (kind === 'set') {
    a.set(key, v);
    b.set(key, v);
  } else if (kind === 'delete') {
    a.delete(key);
    b.delete(key);
  } else if (kind === 'touch') {
    // touchIf(k, v) is touch when k holds v: what the learning switch does before writing.
    if (v === 0) expect(a.touch(key)).toBe(b.touch(key));
    else expect(a.touchIf(key, v)).toBe(b.get(key) === v && b.touch(key));
  } else if (kind === 'deleteWhere') expect(a.deleteWhere((x) => x === v)).toBe(b.deleteWhere((x) => x === v));
  else {
    a.clear();
    b.clear();
  }
  expect(a.size).toBe(b.size);
  expect(a.evictions).toBe(b.evictions);
}

it(`does what LruTable does, operation for operation (keys below 2^53, limits from 0 up across its growth; seed ${seed})`, () => {
  console.log(`int-lru properties: seed ${seed} (VIPPATH_PROPERTY_SEED)`);
  const op = fc.tuple(fc.constantFrom<Op[0]>('set', 'set', 'set', 'delete', 'touch', 'deleteWhere', 'clear'), fc.constantFrom(...KEYS), fc.integer({ min: 0, max: 3 }));
  fc.assert(
    fc.property(fc.constantFrom(0, 1, 2, 3, 5, 8, 13, 1500), fc.array(op, { maxLength: 300 }), (limit, ops) => {
      const a = new IntLruTable<number>(limit);
      const b = new LruTable<number, number>(limit);
      for (const o of ops) apply(a, b, o);
      for (const k of KEYS) {
        expect(a.get(k)).toBe(b.get(k));
        expect(a.has(k)).toBe(b.has(k));
      }
    }),
    { seed, numRuns: 400 },
  );
});

it('keeps 65 536 entries of turning-over keys, forgetting exactly the least recently written', () => {
  const t = new IntLruTable<number>(65536);
  const model = new LruTable<number, number>(65536);
  const key = (i: number): number => ((0x0ab50000 | (i & 0xffff)) >>> 0) * 65536 + 1024 + Math.floor(i / 65536);
  for (let i = 0; i < 200_000; i++) {
    t.set(key(i), i);
    model.set(key(i), i);
    // Key 3 written again now and then stays; everything else older than 65 536 writes goes.
    if (i % 1000 === 0) {
      t.set(key(3), -1);
      model.set(key(3), -1);
    }
  }
  expect(t.size).toBe(65536);
  expect(t.get(key(3))).toBe(-1);
  expect(t.get(key(200_000 - 1))).toBe(199_999);
  expect(t.get(key(200_000 - 65_000))).toBe(200_000 - 65_000);
  expect(t.has(key(100_000))).toBe(false);
  expect(t.evictions).toBe(model.evictions);
  for (let i = 0; i < 200_000; i += 7) expect(t.get(key(i))).toBe(model.get(key(i)));
});

it(`keeps LruTable order through two keys touched in turn, a third now and then (the two newest exchanged lazily; seed ${seed})`, () => {
  // A wire's table: two MACs touched alternately, writes and touches of others between, limits small enough that the
  // order decides every eviction — and deletions and sweeps while the newest two stand exchanged.
  const few = [0x525400cc0001, 0x525400cc0002, 0x525400bb0003, 7];
  const op = fc.tuple(fc.constantFrom<Op[0]>('touch', 'touch', 'touch', 'touch', 'set', 'set', 'delete', 'deleteWhere', 'deleteWhere'), fc.constantFrom(...few), fc.integer({ min: 0, max: 2 }));
  fc.assert(
    fc.property(fc.constantFrom(1, 2, 3, 4), fc.array(op, { maxLength: 200 }), (limit, ops) => {
      const a = new IntLruTable<number>(limit);
      const b = new LruTable<number, number>(limit);
      for (const o of ops) {
        // A sweep ('deleteWhere') takes one key: whichever the two newest are, exchanged or not.
        apply(a, b, o);
        for (const k of few) expect(a.get(k)).toBe(b.get(k));
      }
      // The order itself: a write of a fresh key each in turn evicts the rest oldest first, as the model does.
      for (let i = 0; i < limit + 1; i++) {
        a.set(1000 + i, 9);
        b.set(1000 + i, 9);
        for (const k of few) expect(a.has(k)).toBe(b.has(k));
      }
    }),
    { seed, numRuns: 1500 },
  );
});

it(`getHalves and touchHalves do what get and touch do for the key as its high 16 bits and its low 32 as an int32 (generated MACs; seed ${seed})`, () => {
  // MACs and their neighbours in one half (the high 16 bits alone or the low 32 alone differing: a half compared or
  // hashed wrongly confuses them), 0, ff:ff:ff:ff:ff:ff, low words with the top bit set; limits small enough that the
  // order the touches make decides the evictions.
  const base = [0, 0xffffffffffff, 0x525400cc0001, 0x5a5400cc0001, 0x525480cc0001, 0x5a5480cc0001, 0x525400cc0002, 0x0000ffffffff, 0xffff00000000, 0x000080000000];
  // Keys by index into the list and a few any 48-bit ones, so that touches and gets mostly find their key.
  const op = fc.tuple(fc.constantFrom<'set' | 'delete' | 'touch' | 'get'>('set', 'touch', 'touch', 'get', 'get', 'delete'), fc.nat(), fc.integer({ min: 0, max: 3 }));
  fc.assert(
    fc.property(fc.constantFrom(1, 2, 3, 5, 2000), fc.array(fc.integer({ min: 0, max: 2 ** 48 - 1 }), { maxLength: 4 }), fc.array(op, { minLength: 10, maxLength: 200 }), (limit, more, ops) => {
      const a = new IntLruTable<number>(limit);
      const b = new LruTable<number, number>(limit);
      const keys = [...base, ...more];
      for (const [kind, n, v] of ops) {
        const key = keys[n % keys.length]!;
        const hi = Math.floor(key / 2 ** 32);
        const lo = key | 0;
        if (kind === 'set' || kind === 'delete') apply(a, b, [kind, key, v]);
        else {
          if (kind === 'touch') expect(a.touchHalves(hi, lo)).toBe(b.touch(key));
          else expect(a.getHalves(hi, lo)).toBe(b.get(key));
          expect(a.size).toBe(b.size);
          expect(a.evictions).toBe(b.evictions);
        }
      }
      for (const k of keys) {
        expect(a.getHalves(Math.floor(k / 2 ** 32), k | 0)).toBe(b.get(k));
        expect(a.get(k)).toBe(b.get(k));
      }
    }),
    { seed, numRuns: 400 },
  );
});

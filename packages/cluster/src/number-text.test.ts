import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countText } from './number-text.js';

const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.VIPPATH_PROPERTY_RUNS ?? 2000);

describe('countText is toLocaleString("en")', () => {
  it('at the edges: group boundaries, signs, zero, 2^53, fractions and the non-finite', () => {
    const edges = [0, -0, 1, 9, 10, 99, 100, 999, 1000, 1001, 9999, 10000, 99999, 100000, 999999, 1000000, 1234567, -1, -999, -1000, -1234567, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 53 + 2, 1e21, 0.5, 2.5, 1234.5678, -0.0004, NaN, Infinity, -Infinity];
    for (const n of edges) expect(countText(n), String(n)).toBe(n.toLocaleString('en'));
  });

  it(`on any number (${runs} runs, seed ${seed})`, () => {
    console.log(`countText property: ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.integer({ min: -99999, max: 99999 }), fc.double()), (n) => countText(n) === n.toLocaleString('en')),
      { seed, numRuns: runs },
    );
  });
});

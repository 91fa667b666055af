/**
 * The Internet checksum's word sum (RFC 1071) against a plain word-by-word reference: any length (odd tails, lengths
 * not a multiple of the unrolled step, jumbo and 64 KiB buffers whose sums need folding), any offset and initial
 * value. The folded sum is what callers read (foldSum, internetChecksum): it must be the reference's exactly.
 * Seeds: fast-check prints the seed and the shrunk input of a failure; VIPPATH_WIRE_CSUM_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldSum, internetChecksum, sumWords } from './checksum.js';

const SEED = process.env.VIPPATH_WIRE_CSUM_SEED ? Number(process.env.VIPPATH_WIRE_CSUM_SEED) : undefined;

function reference(buf: Uint8Array, offset: number, length: number, initial: number): number {
  let sum = initial;
  for (let i = 0; i < length; i += 2) {
    sum += buf[offset + i]! * 256 + (i + 1 < length ? buf[offset + i + 1]! : 0);
    sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  }
  return sum;
}

const fold = (s: number): number => {
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
};

describe('sumWords', () => {
  it('folds to the word-by-word reference for any range and initial value', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.nat(),
        fc.nat(),
        fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0x4fffe }), fc.integer({ min: 0, max: 0x3fffffff })),
        (bytes, a, b, initial) => {
          const offset = bytes.length ? a % (bytes.length + 1) : 0;
          const length = bytes.length - offset ? b % (bytes.length - offset + 1) : 0;
          const got = sumWords(bytes, offset, length, initial);
          expect(Number.isInteger(got) && got >= 0).toBe(true);
          expect(foldSum(got)).toBe(fold(reference(bytes, offset, length, initial)));
        },
      ),
      { numRuns: 2000, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });

  it('stays exact over 64 KiB of 0xff (the largest sums) and with a large initial value', () => {
    for (const length of [65535, 65536, 65529, 9001]) {
      const buf = new Uint8Array(length + 3).fill(0xff);
      for (const initial of [0, 0x4fffe, 0x3fffffff]) {
        expect(foldSum(sumWords(buf, 3, length, initial))).toBe(fold(reference(buf, 3, length, initial)));
      }
    }
    // An all-zero range sums to 0 (not 0xffff): the checksum of nothing but zeros is 0xffff.
    expect(internetChecksum(new Uint8Array(40), 0, 40)).toBe(0xffff);
  });
});

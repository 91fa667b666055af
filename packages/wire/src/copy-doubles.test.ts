/**
 * copyRoundedLe (a frame by doubles, rounded up) against TypedArray.prototype.set: sources at any offset of a buffer
 * with little or much room after the frame, destinations with garbage in them and little or much room. Where it
 * copies, the frame's bytes must be the source's and nothing past its last double may move; where it declines, nothing
 * may move, and it may decline only where a buffer lacks the rounded bytes.
 * Seed: VIPPATH_PROPERTY_SEED (default: the clock, printed); runs: VIPPATH_PROPERTY_RUNS (default 200).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyRoundedLe, DOUBLES_EXACT, HOST_LE } from './copy-doubles.js';

const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.VIPPATH_PROPERTY_RUNS ?? 200);

describe.runIf(HOST_LE && DOUBLES_EXACT)('copyRoundedLe', () => {
  it(`copies what set copies, rounded up where both buffers hold it (${runs} runs, seed ${seed})`, () => {
    console.log(`copy-doubles property: ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
    let copied = 0;
    let declined = 0;
    fc.assert(
      fc.property(
        fc.nat(40),
        fc.integer({ min: 0, max: 160 }),
        fc.constantFrom(0, 1, 3, 7, 8, 30),
        fc.integer({ min: 0, max: 24 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (offset, length, srcRoom, dstDoubles, fill) => {
          const src = new Uint8Array(offset + length + srcRoom);
          for (let i = 0; i < src.length; i++) src[i] = fill[i % fill.length]! ^ (i * 29);
          const frame = src.subarray(offset, offset + length);
          const dst64 = new Float64Array(((length + 7) >> 3) + dstDoubles - 12 > 0 ? ((length + 7) >> 3) + dstDoubles - 12 : 0);
          const dst = new Uint8Array(dst64.buffer);
          for (let i = 0; i < dst.length; i++) dst[i] = (i * 151 + 7) & 0xff;
          const before = Uint8Array.from(dst);
          const ok = copyRoundedLe(new DataView(src.buffer), frame.byteOffset, length, dst64);
          const n = (length + 7) & ~7;
          const room = offset + n <= src.length && n <= dst.length;
          expect(ok).toBe(room);
          if (ok) {
            copied++;
            const slow = Uint8Array.from(before);
            slow.set(frame);
            expect(Buffer.from(dst.subarray(0, length)).equals(Buffer.from(slow.subarray(0, length)))).toBe(true);
            expect(Buffer.from(dst.subarray(n)).equals(Buffer.from(before.subarray(n)))).toBe(true);
          } else {
            declined++;
            expect(Buffer.from(dst).equals(Buffer.from(before))).toBe(true);
          }
        },
      ),
      { seed, numRuns: runs },
    );
    // Both ways were met.
    expect(copied).toBeGreaterThan(0);
    expect(declined).toBeGreaterThan(0);
  });
});

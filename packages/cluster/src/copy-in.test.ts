/**
 * PathCaches' copyIn has a copy for little-endian hosts and one for the others: both are run here (this machine is
 * little-endian) on random frames at random offsets of a chunk, and must leave the same bytes as the chunk's.
 * Seed: VIPPATH_PROPERTY_SEED (default: the clock, printed); runs: VIPPATH_PROPERTY_RUNS (default 200).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyWordsLe, copyWordsView, HOST_LE, wordBytes } from './copy-in.js';

const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.VIPPATH_PROPERTY_RUNS ?? 200);

describe('copyIn word copies', () => {
  it(`give the chunk's bytes on either host order (${runs} runs, seed ${seed})`, () => {
    console.log(`copy-in property: ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
    expect(HOST_LE).toBe(true);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1600, size: 'max' }), fc.nat(40), fc.nat(40), (frame, before, after) => {
        // The frame inside a chunk (other bytes around it), as a capture's reader hands it over.
        const chunk = new Uint8Array(before + frame.length + after).fill(0xa5);
        chunk.set(frame, before);
        const src = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        // Scratch as the hop has it: whole words (an Int32Array of it), longer than the frame.
        // Filled with a byte no copy writes: what lies past the frame must stay so.
        const le = new Uint8Array(((frame.length + 3) & ~3) + 64).fill(0x5a);
        const view = new Uint8Array(le.length).fill(0x5a);
        const n = copyWordsLe(src, before, frame.length, new Int32Array(le.buffer));
        const m = copyWordsView(src, before, frame.length, new DataView(view.buffer));
        expect(n).toBe(m);
        expect(n).toBe(frame.length & ~3);
        // The caller's tail, as copyIn copies it.
        for (let i = n; i < frame.length; i++) le[i] = view[i] = chunk[before + i]!;
        // Buffers compared, not expect's deep equality of typed arrays (seconds over 200 runs of up to 1 600 bytes).
        const want = Buffer.alloc(le.length, 0x5a);
        want.set(frame);
        expect(Buffer.from(le.buffer).equals(want)).toBe(true);
        expect(Buffer.from(view.buffer).equals(want)).toBe(true);
        // copyIn's length: the frame rounded up to whole words where the chunk has the bytes after it, and the tail
        // as before. The frame's bytes are the chunk's; past them, only the chunk's bytes of the last word are written.
        const whole = (frame.length + 3) & ~3;
        const w = wordBytes(before, frame.length, chunk.length);
        expect(w).toBe(before + whole <= chunk.length ? whole : frame.length & ~3);
        const le2 = new Uint8Array(le.length).fill(0x5a);
        const view2 = new Uint8Array(le.length).fill(0x5a);
        const n2 = copyWordsLe(src, before, w, new Int32Array(le2.buffer));
        expect(copyWordsView(src, before, w, new DataView(view2.buffer))).toBe(n2);
        expect(n2).toBe(w);
        for (let i = n2; i < frame.length; i++) le2[i] = view2[i] = chunk[before + i]!;
        const want2 = Buffer.from(want);
        for (let i = frame.length; i < n2; i++) want2[i] = chunk[before + i]!;
        expect(Buffer.from(le2.buffer).equals(want2)).toBe(true);
        expect(Buffer.from(view2.buffer).equals(want2)).toBe(true);
      }),
      { seed, numRuns: runs },
    );
  });
});

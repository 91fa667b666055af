/**
 * PathCaches' copyIn has a copy for little-endian hosts and one for the others: both are run here (this machine is
 * little-endian) on random frames at random offsets of a chunk, and must leave the same bytes as the chunk's. The
 * little-endian copy goes eight bytes at a time as float64s (copyDoublesLe): frames made mostly of NaN patterns (the
 * exponent's bits all set, any payload, signalling ones among them) must come through bit for bit, before and after
 * V8 optimizes the copy. untagWords (a new client's ARP request untagged for the switch's runs) must give what the
 * byte loop gives.
 * Seed: VIPPATH_PROPERTY_SEED (default: the clock, printed); runs: VIPPATH_PROPERTY_RUNS (default 200).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyInLe, copyWordsView, DOUBLES_EXACT, HOST_LE, untagWords, wordBytes } from './copy-in.js';

const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.VIPPATH_PROPERTY_RUNS ?? 200);

describe('copyIn word copies', () => {
  it(`give the chunk's bytes on either host order (${runs} runs, seed ${seed})`, () => {
    console.log(`copy-in property: ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
    expect(HOST_LE).toBe(true);
    // The load-time check agrees with what the tests below see (a false here would leave copyIn on the word copy).
    expect(DOUBLES_EXACT).toBe(true);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1600, size: 'max' }), fc.nat(40), fc.nat(40), (frame, before, after) => {
        // The frame inside a chunk (other bytes around it), as a capture's reader hands it over.
        const chunk = new Uint8Array(before + frame.length + after).fill(0xa5);
        chunk.set(frame, before);
        const src = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        // Scratch as the hop has it: whole doubles (a Float64Array and an Int32Array of it), longer than the frame.
        // Filled with a byte no copy writes: what lies past the frame must stay so.
        const le = new Uint8Array(((frame.length + 7) & ~7) + 64).fill(0x5a);
        const view = new Uint8Array(le.length).fill(0x5a);
        const n = copyInLe(src, before, frame.length & ~3, new Float64Array(le.buffer), new Int32Array(le.buffer));
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
        const n2 = copyInLe(src, before, w, new Float64Array(le2.buffer), new Int32Array(le2.buffer));
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

  /** copyIn's little-endian copy into `dst`. */
  const copyLe = (src: DataView, offset: number, words: number, dst: ArrayBuffer): number => copyInLe(src, offset, words, new Float64Array(dst), new Int32Array(dst));
  // A byte of a NaN's high word: 0x7f or 0xff, then 0xf0–0xff (the exponent's bits all set; the quiet bit either way).
  const nanish = fc.array(fc.tuple(fc.constantFrom(0x7f, 0xff), fc.integer({ min: 0xf0, max: 0xff }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 })), { maxLength: 200, size: 'max' });
  it(`copies eight bytes at a time as doubles bit for bit, NaN patterns too, cold and optimized (${runs} runs, seed ${seed})`, () => {
    let units = 0;
    let nans = 0;
    let signalling = 0;
    fc.assert(
      fc.property(nanish, fc.nat(7), fc.nat(40), fc.nat(7), (doubles, before, after, cut) => {
        // Each generated double little-endian (its high bytes last), at any byte alignment in the chunk, the frame cut
        // short by up to seven bytes (a tail that is no whole double).
        const bytes: number[] = [];
        for (const [hi, next, low] of doubles) {
          bytes.push(...low, next, hi);
          units++;
          if ((next & 0xf) !== 0 || low.some((b) => b !== 0)) {
            nans++;
            if ((next & 0x8) === 0) signalling++;
          }
        }
        const frame = Uint8Array.from(bytes.slice(0, Math.max(0, bytes.length - cut)));
        const chunk = new Uint8Array(before + frame.length + after).fill(0xa5);
        chunk.set(frame, before);
        const src = new DataView(chunk.buffer);
        const w = wordBytes(before, frame.length, chunk.length);
        const out = new Uint8Array(((frame.length + 7) & ~7) + 64).fill(0x5a);
        const n = copyLe(src, before, w, out.buffer);
        expect(n).toBe(w);
        // The general form: each byte of the chunk, as the view copy gives it.
        const want = new Uint8Array(out.length).fill(0x5a);
        expect(copyWordsView(src, before, w, new DataView(want.buffer))).toBe(w);
        expect(Buffer.from(out.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      }),
      { seed, numRuns: runs },
    );
    console.log(`copy-in doubles: ${units} doubles, ${nans} NaNs (${signalling} signalling)`);
    expect(signalling).toBeGreaterThan(0);
  });

  it('copies every NaN pattern of a chunk bit for bit once the copy is optimized (thousands of calls)', () => {
    // Random payloads under both signs, quiet and signalling, through one copy called often enough for V8 to optimize
    // it (counted: the rounds until no byte differs is all of them).
    const count = 4096;
    const chunk = new Uint8Array(count * 8 + 4);
    const v = new DataView(chunk.buffer);
    let x = 0x12345678;
    const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) | 0) >>> 0;
    for (let i = 0; i < count; i++) {
      const hi = ((i & 1 ? 0x80000000 : 0) | 0x7ff00000 | (next() & 0xfffff)) >>> 0;
      v.setUint32(4 + i * 8, next(), true);
      v.setUint32(4 + i * 8 + 4, i & 2 ? hi & ~0x80000 : hi, true);
    }
    const out = new ArrayBuffer(count * 8 + 64);
    const bytes = new Uint8Array(out);
    let bad = 0;
    for (let round = 0; round < 3000; round++) {
      bytes.fill(0);
      // A frame at offset 4 (no 8-byte alignment) of 8·count bytes.
      copyLe(v, 4, count * 8, out);
      if (round % 500 === 499 || round === 0) for (let i = 0; i < count * 8; i++) if (bytes[i] !== chunk[4 + i]) bad++;
    }
    expect(bad).toBe(0);
  });

  it(`untag a frame as words as the byte loop does (${runs} runs, seed ${seed})`, () => {
    console.log(`untagWords property: ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 200 }), fc.nat(12), fc.uint8Array({ minLength: 4, maxLength: 4 }), (frame, spare, junk) => {
        // The scratch buffer as serve leaves it: the frame from byte 0, other bytes after it; the work buffer filled
        // with a byte nobody writes.
        const words = (frame.length + 3) >> 2;
        const src = new Uint8Array(4 * (words + spare));
        for (let i = 0; i < src.length; i++) src[i] = junk[i & 3]!;
        src.set(frame);
        const fast = new Uint8Array(4 * (words + spare)).fill(0x5a);
        untagWords(new Int32Array(src.buffer), new Int32Array(fast.buffer), frame.length);
        const slow = new Uint8Array(fast.length).fill(0x5a);
        for (let i = 0; i < 12; i++) slow[i] = frame[i]!;
        for (let i = 16; i < frame.length; i++) slow[i - 4] = frame[i]!;
        const n = frame.length - 4;
        expect(Buffer.from(fast.subarray(0, n)).equals(Buffer.from(slow.subarray(0, n)))).toBe(true);
        // Past the untagged frame only its last word's bytes may be written (the source's, after the frame).
        const from = 4 * ((n + 3) >> 2);
        for (let i = n; i < from; i++) expect(fast[i]).toBe(src[i + 4]);
        expect(Buffer.from(fast.subarray(from)).equals(Buffer.from(slow.subarray(from)))).toBe(true);
      }),
      { seed, numRuns: runs },
    );
  });
});

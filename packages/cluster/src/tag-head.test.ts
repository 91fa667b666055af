/**
 * TagHeadWriter (the way-back cache's MACs and tag as words through kept views) against tagHead (byte by byte): runs
 * of writes with one writer, over a few sources and outputs met again and again (aligned or not, long enough or not,
 * their bytes changed between writes) and VLAN ids that change, must leave every buffer as the general form does.
 * Seed: VIPPATH_PROPERTY_SEED (default: the clock, printed); runs: VIPPATH_PROPERTY_RUNS (default 200).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DOUBLES_EXACT, HOST_LE } from './copy-in.js';
import { tagHead, TagHeadWriter, tagTailLe } from './tag-head.js';

const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.VIPPATH_PROPERTY_RUNS ?? 200);

/** A source: a view at `offset` of `length` bytes into a buffer with room around it. */
const sourceArb = fc.record({ offset: fc.nat(9), length: fc.integer({ min: 0, max: 80 }), room: fc.nat(8) });
/** An output as the recorder's pool hands it out: a view from byte 0 of a buffer, its words from byte 0 too. */
const outArb = fc.record({ size: fc.integer({ min: 4, max: 96 }) });
const stepArb = fc.record({
  src: fc.nat(3),
  out: fc.nat(3),
  outLength: fc.integer({ min: 0, max: 96 }),
  vlan: fc.constantFrom(0, 1, 341, 0xfff, 0x1234, 0xffff),
  fill: fc.uint8Array({ minLength: 16, maxLength: 16 }),
});

describe('TagHeadWriter', () => {
  it(`writes what tagHead writes (${runs} runs, seed ${seed})`, () => {
    console.log(`tag-head property: ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
    fc.assert(
      fc.property(fc.array(sourceArb, { minLength: 4, maxLength: 4 }), fc.array(outArb, { minLength: 4, maxLength: 4 }), fc.array(stepArb, { minLength: 1, maxLength: 40 }), (srcs, outs, steps) => {
        const sources = srcs.map(({ offset, length, room }) => {
          const buf = new Uint8Array(offset + length + room);
          for (let i = 0; i < buf.length; i++) buf[i] = (i * 37 + length) & 0xff;
          return buf.subarray(offset, offset + length);
        });
        // Both sides' outputs: the writer's and the general form's, the same bytes before each step.
        const fast = outs.map(({ size }) => new Uint8Array(size).fill(0x5a));
        const slow = outs.map(({ size }) => new Uint8Array(size).fill(0x5a));
        const words = fast.map((b) => new Int32Array(b.buffer, 0, b.length >> 2));
        const w = new TagHeadWriter();
        for (const st of steps) {
          const frame = sources[st.src]!;
          // The source's bytes change between writes (the switch's buffer holds each answer in turn).
          frame.set(st.fill.subarray(0, Math.min(16, frame.length)));
          const n = Math.min(st.outLength, fast[st.out]!.length);
          w.write(fast[st.out]!.subarray(0, n), words[st.out]!, frame, st.vlan);
          tagHead(slow[st.out]!.subarray(0, n), frame, st.vlan);
          for (let k = 0; k < fast.length; k++) expect(Buffer.from(fast[k]!).equals(Buffer.from(slow[k]!))).toBe(true);
        }
      }),
      { seed, numRuns: runs },
    );
  });

  it('writes the tag in wire order', () => {
    const frame = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
    const out = new Uint8Array(32);
    new TagHeadWriter().write(out.subarray(0, 24), new Int32Array(out.buffer), frame, 341);
    expect([...out.subarray(0, 16)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0, 341 >> 8, 341 & 0xff]);
  });

  // The way back's tagged copy as backReplay makes it on a little-endian host (caches.ts): the head's words and
  // tagTailLe's doubles where the writer has met the source, else the general form's set and write — against the
  // general form alone (a fresh array, set four bytes on, tagHead), over sources met again with new bytes, frames
  // shorter than their source or not, pool buffers with garbage and little room after the frame.
  it.runIf(HOST_LE && DOUBLES_EXACT)(`tags a frame's copy as the general form does, by doubles (${runs} runs, seed ${seed})`, () => {
    const srcArb = fc.record({ offset: fc.nat(3).map((k) => k * 4), length: fc.integer({ min: 12, max: 200 }), room: fc.nat(3) });
    const copyStep = fc.record({
      src: fc.nat(2),
      cut: fc.nat(200),
      room: fc.constantFrom(0, 1, 3, 7, 8, 64),
      vlan: fc.constantFrom(0, 341, 0xfff, 0xffff),
      fill: fc.uint8Array({ minLength: 1, maxLength: 200 }),
    });
    let taken = 0;
    fc.assert(
      fc.property(fc.array(srcArb, { minLength: 3, maxLength: 3 }), fc.array(copyStep, { minLength: 1, maxLength: 30 }), (srcs, steps) => {
        const sources = srcs.map(({ offset, length, room }) => new Uint8Array(offset + length + room).subarray(offset, offset + length));
        const w = new TagHeadWriter();
        for (const st of steps) {
          const frame = sources[st.src]!;
          for (let i = 0; i < frame.length; i++) frame[i] = st.fill[i % st.fill.length]! ^ i;
          const len = 12 + (st.cut % (frame.length - 11));
          // A pool buffer: its own, garbage in it, `room` bytes after the copy (the pool's are 2 KiB at least).
          const size = (len + 4 + st.room + 3) & ~3;
          const buf = Uint8Array.from({ length: size }, (_, i) => (i * 151 + 7) & 0xff);
          const before = Uint8Array.from(buf);
          const words = new Int32Array(buf.buffer, 0, size >> 2);
          const d16 = new Float64Array(buf.buffer, 16, (size - 16) >> 3);
          const wired = buf.subarray(0, len + 4);
          if (frame === w.src && st.vlan === w.vlan && tagTailLe(w.srcView, len, d16)) {
            const f = w.src32;
            words[0] = f[0]!;
            words[1] = f[1]!;
            words[2] = f[2]!;
            words[3] = w.tagWord;
            taken++;
          } else {
            wired.set(frame.subarray(0, len), 4);
            w.write(wired, words, frame, st.vlan);
          }
          const slow = new Uint8Array(len + 4);
          slow.set(frame.subarray(0, len), 4);
          tagHead(slow, frame, st.vlan);
          expect(Buffer.from(wired).equals(Buffer.from(slow))).toBe(true);
          // Past the copy only its last double's bytes may move.
          expect(Buffer.from(buf.subarray(len + 4 + 8)).equals(Buffer.from(before.subarray(len + 4 + 8)))).toBe(true);
        }
      }),
      { seed, numRuns: runs },
    );
    // The doubles were the way taken, not only the general form's.
    expect(taken).toBeGreaterThan(0);
  });

  it.runIf(HOST_LE && DOUBLES_EXACT)('takes the doubles where both buffers hold the rounded copy', () => {
    const frame = Uint8Array.from({ length: 100 }, (_, i) => i);
    const w = new TagHeadWriter();
    w.write(new Uint8Array(16), new Int32Array(4), frame, 341);
    // 80 bytes: 68 after the head, 72 rounded — the source holds them, a buffer with room 72 / 8 doubles does.
    expect(tagTailLe(w.srcView, 80, new Float64Array(9))).toBe(true);
    expect(tagTailLe(w.srcView, 80, new Float64Array(8))).toBe(false);
    const short = frame.subarray(0, 80);
    w.write(new Uint8Array(16), new Int32Array(4), short, 341);
    expect(tagTailLe(w.srcView, 80, new Float64Array(9))).toBe(false);
    expect(tagTailLe(w.srcView, 76, new Float64Array(9))).toBe(true);
    const out = new Float64Array(9);
    tagTailLe(w.srcView, 76, out);
    expect([...new Uint8Array(out.buffer).subarray(0, 64)]).toEqual([...frame.subarray(12, 76)]);
  });
});

/**
 * TagHeadWriter (the way-back cache's MACs and tag as words through kept views) against tagHead (byte by byte): runs
 * of writes with one writer, over a few sources and outputs met again and again (aligned or not, long enough or not,
 * their bytes changed between writes) and VLAN ids that change, must leave every buffer as the general form does.
 * Seed: VIPPATH_PROPERTY_SEED (default: the clock, printed); runs: VIPPATH_PROPERTY_RUNS (default 200).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tagHead, TagHeadWriter } from './tag-head.js';

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
});

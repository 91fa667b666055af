/**
 * A hint's check as the op holding it chose it (megaflow.ts `MfInstr.nextCheck`): the residual of the segment's
 * probe for that op's known bits, chosen when the hint is set, not at every check. These tests fail when a
 * residual is rewritten in place for another via (the op's chosen array would then compare the other via's
 * triples), or when a residual holds where the whole probe does not for words that carry the via's known bits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LflowExecutor } from './executor.js';
import { MfSegment } from './megaflow.js';
import { W } from './fields.js';
import { residualOf } from './hints.test-helpers.js';
import { localnet, oneSwitch, rowsOf } from './switch.test-helpers.js';

type Resid = { nextResid(seg: MfSegment, o: object, known: Int32Array): void };
type Holds = { hintHolds(n: MfSegment, ws: Uint32Array, p: Int32Array): boolean };

/** Triples `[word, mask, value]` by ascending word, values within their masks, a few distinct words. */
const triples = (words: number[]): fc.Arbitrary<Int32Array> =>
  fc.uniqueArray(fc.constantFrom(...words), { minLength: 1, maxLength: words.length }).chain((ws) =>
    fc.tuple(...ws.sort((a, b) => a - b).map((w) => fc.tuple(fc.constant(w), fc.constantFrom(-1, 0xffff, 0xff00, 0x10, 0x7), fc.integer()))).map((ts) => Int32Array.from(ts.flatMap(([w, m, v]) => [w, m | 0, v & m]))),
  );

/** A probe as MfShape.probeOf makes it: the triples padded with `[0, 0, 0]` to a multiple of four. */
const padded = (t: Int32Array): Int32Array => {
  const p = new Int32Array(((t.length / 3 + 3) & ~3) * 3);
  p.set(t);
  return p;
};

const holds = (p: Int32Array, ws: Int32Array): boolean => {
  for (let i = 0; i < p.length; i += 3) if ((ws[p[i]!]! & p[i + 1]!) !== p[i + 2]) return false;
  return true;
};

const WORDS = [W.INPORT, W.FLAGS, W.CT_STATE, W.ETH_DST, W.IPV4_DST, W.TP_DST];

describe("a ct op's hint check chosen when the hint is set", () => {
  it('keeps each via its own residual when a third via takes the second slot, and a residual holds where the probe does', () => {
    const ex = new LflowExecutor(oneSwitch(rowsOf([[0, 0, '1', 'drop;']]), [localnet()]), 'ls', { megaflows: true }) as unknown as Resid;
    fc.assert(
      fc.property(triples(WORDS), triples(WORDS), triples(WORDS), triples(WORDS), fc.array(fc.integer(), { minLength: W.SIZE, maxLength: W.SIZE }), (t, kA, kB, kC, raw) => {
        const probe = padded(t);
        const seg = new MfSegment(probe, new Int32Array(0), 0, [], 0, 0, 0);
        const [a, b, c] = [{}, {}, {}];
        ex.nextResid(seg, a, kA);
        const rA = seg.resid;
        ex.nextResid(seg, b, kB);
        const rB = seg.resid2;
        ex.nextResid(seg, c, kC);
        expect(seg.via2).toBe(c);
        // What ops a and b chose when their hints were set is still their residual.
        expect([...rA]).toEqual(residualOf(probe, kA));
        expect([...rB]).toEqual(residualOf(probe, kB));
        expect([...seg.resid2]).toEqual(residualOf(probe, kC));
        // Words that carry a via's known bits: its residual holds exactly where the whole probe does.
        for (const [k, r] of [[kA, rA], [kB, rB], [kC, seg.resid2]] as const) {
          const ws = Int32Array.from(raw);
          for (let j = 0; j < k.length; j += 3) ws[k[j]!] = (ws[k[j]!]! & ~k[j + 1]!) | k[j + 2]!;
          expect(holds(r, ws)).toBe(holds(probe, ws));
          // And where the probe holds by construction (its own values written in).
          for (let i = 0; i < probe.length; i += 3) ws[probe[i]!] = (ws[probe[i]!]! & ~probe[i + 1]!) | probe[i + 2]!;
          if (holds(probe, ws)) expect(holds(r, ws)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("holds on the walk's own words (unsigned, as the pool's slots hold them) exactly where every triple holds on their signed values", () => {
    // hintHolds compares the words the walk runs on, not a signed view of them: `&` gives the same int32 from either,
    // and the probe's values are int32 (high bits set for most addresses). A compare of the unsigned word, or of an
    // unsigned result, would make a hint or a shape's last hit fail where it holds — no output changes (a lookup
    // answers then), so only a test of the check itself sees it.
    const ex = new LflowExecutor(oneSwitch(rowsOf([[0, 0, '1', 'drop;']]), [localnet()]), 'ls', { megaflows: true }) as unknown as Holds;
    const all = Array.from({ length: W.SIZE }, (_, i) => i);
    let held = 0;
    let high = 0;
    fc.assert(
      fc.property(triples(WORDS), triples(all.filter((i) => i % 5 === 0)), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: W.SIZE, maxLength: W.SIZE }), fc.integer({ min: 0, max: 3 }), (a, b, raw, how) => {
        const t = how === 3 ? b : a;
        const probe = padded(t);
        const seg = new MfSegment(probe, new Int32Array(0), 0, [], 0, 0, 0);
        const ws = Uint32Array.from(raw);
        // Most cases with the probe's own values written in (it holds), some with one triple's bit flipped back.
        if (how !== 0) for (let i = 0; i < t.length; i += 3) ws[t[i]!] = ((ws[t[i]!]! & ~t[i + 1]!) | t[i + 2]!) >>> 0;
        if (how === 2) ws[t[0]!] = (ws[t[0]!]! ^ (t[1]! & -t[1]!)) >>> 0;
        const want = holds(probe, new Int32Array(ws.buffer));
        if (want) held++;
        for (let i = 0; i < t.length; i += 3) if (t[i + 2]! < 0) high++;
        expect(ex.hintHolds(seg, ws, probe)).toBe(want);
      }),
      { numRuns: 500 },
    );
    // Both answers reached, and probes whose values have the high bit set.
    expect(held).toBeGreaterThan(100);
    expect(held).toBeLessThan(450);
    expect(high).toBeGreaterThan(50);
  });
});

/**
 * Checksum verification through a 16-bit view of a reused buffer (engine.ts sumBytes) against the byte-wise sum
 * (wire's sumWords) the engine uses for a buffer it sees once. Two engines run the same packets: one on one reused
 * buffer — at an even or odd offset into its ArrayBuffer, so both the view and the byte-wise fallback are taken —,
 * the other on a fresh copy per call (never viewed). IPv4 TCP and UDP with odd and even payloads, bytes flipped
 * anywhere in the IP header or the segment (or none), checksum fields set to what a byte-swapped sum would give.
 * Every call's verdict, the counters and the table must be equal, and equal to wire's own check of the frame.
 * Seeds: fast-check prints the seed and the shrunk case; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodedFrame, FrameDecoder, read16, write16 } from '@vippath/wire';
import { CtRequest, CtResult, CtState } from '../lflow/ct-api.js';
import { OvsConntrack } from './engine.js';
import { checksumsOk, ctView, F, frame } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const RUNS = Number(process.env.VIPPATH_CT_CSUM_RUNS ?? 300);

interface Pkt {
  udp: boolean;
  payload: number;
  sport: number;
  /** -1: none; else a byte (from the IP header on) whose value is xored with `mask`. */
  flip: number;
  mask: number;
  /** Write the byte-swapped checksum into the L4 checksum field (valid only when the swap is a no-op). */
  swapL4: boolean;
}

const pkt: fc.Arbitrary<Pkt> = fc.record({
  udp: fc.boolean(),
  payload: fc.integer({ min: 0, max: 41 }),
  sport: fc.integer({ min: 1, max: 65535 }),
  flip: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 80 })),
  mask: fc.integer({ min: 1, max: 255 }),
  swapL4: fc.constantFrom(false, false, false, true),
});

describe('OvsConntrack: checksum verification over a reused buffer', () => {
  it('gives the byte-wise verdict for every packet', () => {
    let bad = 0;
    let calls = 0;
    const decoder = new FrameDecoder();
    fc.assert(
      fc.property(fc.boolean(), fc.array(pkt, { minLength: 1, maxLength: 30 }), (odd, pkts) => {
        const viewed = new OvsConntrack({ sweepIntervalMs: 0 });
        const fresh = new OvsConntrack({ sweepIntervalMs: 0 });
        const store = new Uint8Array(512);
        const buf = store.subarray(odd ? 1 : 2, 300);
        const d = new DecodedFrame();
        const req = new CtRequest();
        const a = new CtResult();
        const b = new CtResult();
        for (const [i, p] of pkts.entries()) {
          const f = frame({ src: '10.0.0.1', dst: '10.96.0.10', proto: p.udp ? 'udp' : 'tcp', sport: p.sport, dport: 80, flags: F.SYN, payload: p.payload });
          const at = 14 + 20 + (p.udp ? 6 : 16);
          if (p.swapL4) {
            const c = read16(f, at);
            write16(f, at, ((c & 0xff) << 8) | (c >>> 8));
          }
          if (p.flip >= 0 && 14 + p.flip < f.length) f[14 + p.flip] = f[14 + p.flip]! ^ p.mask;
          buf.set(f);
          decoder.decode(buf, d, f.length);
          req.reset();
          req.zone = 1;
          req.commit = true;
          a.reset();
          viewed.execute(buf, f.length, d, req, a, 0);
          const copy = f.slice();
          const dc = new DecodedFrame();
          decoder.decode(copy, dc, copy.length);
          b.reset();
          fresh.execute(copy, copy.length, dc, req, b, 0);
          calls++;
          expect(ctView(a), `packet ${i}`).toEqual(ctView(b));
          expect([...viewed.counters], `packet ${i}`).toEqual([...fresh.counters]);
          // Either engine's verdict is wire's: an invalid packet here is one whose checksums do not verify (the
          // decode accepted it, so its lengths are sane), or whose port is 0.
          const invalid = (a.state & CtState.INV) !== 0;
          if (dc.status === 0) expect(invalid, `packet ${i}`).toBe(!checksumsOk(f) || p.sport === 0);
          if (invalid) bad++;
        }
        expect(viewed.formatDump(0)).toEqual(fresh.formatDump(0));
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    // Both verdicts were common.
    expect(bad).toBeGreaterThan(calls / 5);
    expect(bad).toBeLessThan((calls * 4) / 5);
    console.log(`engine-checksum: ${calls} packets, ${bad} invalid`);
  });
});

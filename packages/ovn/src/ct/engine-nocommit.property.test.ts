/**
 * finishOne's inline conn_not_found for a ct() without commit on a TCP packet (valid_new, then +new) against the
 * call it stands for: the same requests, one runner's `commit` false (the inline test), the other's 0 — a falsy
 * value that is not false, which goes connNotFound's way and answers there as false does.
 * Seeds: fast-check prints the seed and the shrunk counterexample of any failure; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldSum, sumWords, write16 } from '@vippath/wire';
import { type CtCall, frame, Runner } from './packets.test-helpers.js';

/** An IPv4 ICMP frame's bytes where a TCP header's flags would be (its payload's 5th and 6th) set, its sum made again. */
function icmpFlags(f: Uint8Array, flags: number): void {
  const l4 = 14 + 20;
  write16(f, l4 + 12, flags);
  write16(f, l4 + 2, 0);
  write16(f, l4 + 2, ~foldSum(sumWords(f, l4, f.length - l4)) & 0xffff);
}

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, ...(SEED !== undefined ? { seed: SEED } : {}) });

/** `commit` as the general path's runner gives it: true, or 0 for false. */
const viaCall = (c: CtCall): CtCall => ({ ...c, commit: c.commit === true ? true : (0 as unknown as boolean) });

const packet = fc.record({
  proto: fc.constantFrom<'tcp' | 'udp' | 'icmp'>('tcp', 'tcp', 'tcp', 'udp', 'icmp'),
  // Every combination of the nine flag bits OVS reads (FIN … CWR, NS): valid and invalid new packets alike.
  flags: fc.integer({ min: 0, max: 0x1ff }),
  client: fc.integer({ min: 1, max: 3 }),
  sport: fc.integer({ min: 1000, max: 1003 }),
  // ICMP: a request starts a connection, a reply does not (its bytes where TCP's flags are: the payload's).
  icmpType: fc.constantFrom(0, 8),
  payload: fc.integer({ min: 8, max: 12 }),
  calls: fc.array(
    fc.record({
      zone: fc.integer({ min: 1, max: 2 }),
      commit: fc.boolean(),
      nat: fc.constantFrom<'none' | 'apply' | 'dnat'>('none', 'apply', 'dnat'),
    }),
    { minLength: 1, maxLength: 4 },
  ),
});

describe('a ct() without commit on a new packet', () => {
  it('leaves what connNotFound leaves: states, packets and counters', () => {
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 25 }), fc.boolean(), (packets, words) => {
        const inline = new Runner({}, words);
        const general = new Runner({}, words);
        for (const p of packets) {
          const spec = { src: `10.0.0.${p.client}`, dst: '10.0.0.100', proto: p.proto, sport: p.sport, dport: 80, flags: p.flags, icmpType: p.icmpType, icmpId: p.sport, payload: p.payload };
          const a = frame(spec);
          const b = frame(spec);
          if (p.proto === 'icmp') {
            icmpFlags(a, p.flags);
            icmpFlags(b, p.flags);
          }
          const calls: CtCall[] = p.calls.map((c) => ({
            zone: c.zone,
            commit: c.commit,
            ...(c.nat === 'apply' ? { nat: 'apply' as const } : c.nat === 'dnat' ? { dnat: '10.0.1.7:8080' } : {}),
          }));
          inline.res.reset();
          general.res.reset();
          for (const c of calls) {
            expect(general.call(b, viaCall(c))).toBe(inline.call(a, c));
            expect(b).toEqual(a);
          }
        }
        expect(Array.from(general.ct.counters)).toEqual(Array.from(inline.ct.counters));
        expect(general.ct.size).toBe(inline.ct.size);
      }),
      params(300),
    );
  });
});

/**
 * processOne's +new answer for a ct() without commit on a TCP packet whose lookup missed (conn_not_found's valid_new,
 * then +new, without the connNotFound call) against the call it stands for: the same packets and requests on two
 * runners, one's `commit` false (the inline test), the other's 0 — a falsy value that is not false, which goes
 * connNotFound's way and answers there as false does. After every call both must hold the same state, result fields,
 * frame bytes and every own field of the engine (tables, tracker words, scratch and kept keys, hints, memo, counters).
 * Generated: every one of the twelve flag bits OVS reads from the TCP header (FIN … CWR, NS, the three reserved ones:
 * valid and invalid new packets alike), UDP, ICMP echo requests and replies carrying the same bits where TCP's flags
 * would be, IPv4 and IPv6, up to four calls a packet in two zones with and without commit, NAT (apply, DNAT) and
 * force, time passing between a packet's calls, both entries (execute, executeWords).
 * Seeds: fast-check prints the seed of any failure; VIPPATH_CT_PROP_SEED replays; VIPPATH_CT_PROP_RUNS sets the runs.
 */
import fc from 'fast-check';
import { foldSum, sumWords, write16 } from '@vippath/wire';
import { describe, expect, it } from 'vitest';
import { type CtCall, engineSnapshot, F, frame, Runner } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const RUNS = process.env.VIPPATH_CT_PROP_RUNS ? Number(process.env.VIPPATH_CT_PROP_RUNS) : 150;
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, ...(SEED !== undefined ? { seed: SEED } : {}) });

/** An ICMP frame's bytes where a TCP header's flags would be (its payload's 5th and 6th) set, its sum made again. */
function icmpFlags(f: Uint8Array, flags: number, v6: boolean): void {
  if (v6) return; // ICMPv6's sum covers a pseudo-header: left as the helper made it (the flags then are the payload's).
  const l4 = 14 + 20;
  write16(f, l4 + 12, flags);
  write16(f, l4 + 2, 0);
  write16(f, l4 + 2, ~foldSum(sumWords(f, l4, f.length - l4)) & 0xffff);
}

const SMALL = { initialCapacity: 4, reservedCapacity: 64 };

/** `commit` as the general path's runner gives it: true, or 0 for false. */
const viaCall = (c: CtCall): CtCall => ({ ...c, commit: c.commit === true ? true : (0 as unknown as boolean) });

/** The result's own numbers, booleans and byte arrays. */
function resultOf(r: Runner): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.res as unknown as Record<string, unknown>)) {
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (ArrayBuffer.isView(v)) out[k] = Array.from(v as unknown as ArrayLike<number>);
  }
  return out;
}

const packet = fc.record({
  proto: fc.constantFrom<'tcp' | 'udp' | 'icmp'>('tcp', 'tcp', 'tcp', 'tcp', 'udp', 'icmp'),
  v6: fc.constantFrom(false, false, false, true),
  // The twelve bits connNotFound reads (read16 at offset 12, & 0xfff): mostly a SYN, any combination besides.
  flags: fc.oneof({ weight: 2, arbitrary: fc.constant<number>(F.SYN) }, { weight: 1, arbitrary: fc.constant<number>(F.SYN | F.ACK) }, { weight: 4, arbitrary: fc.integer({ min: 0, max: 0xfff }) }),
  client: fc.integer({ min: 1, max: 3 }),
  sport: fc.integer({ min: 1000, max: 1003 }),
  // ICMP: a request starts a connection, a reply does not (its bytes where TCP's flags are: the payload's).
  icmpType: fc.constantFrom(0, 8),
  payload: fc.integer({ min: 8, max: 12 }),
  wait: fc.constantFrom(0, 1, 31_000),
  calls: fc.array(
    fc.record({
      zone: fc.integer({ min: 1, max: 2 }),
      commit: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      force: fc.constantFrom(false, false, false, true),
      nat: fc.constantFrom<'none' | 'apply' | 'dnat'>('none', 'apply', 'apply', 'dnat'),
      // Time between a packet's calls: past the first packet's timeout, a NATed packet's reverse lookup misses.
      wait: fc.constantFrom(0, 0, 0, 31_000),
    }),
    { minLength: 1, maxLength: 4 },
  ),
});

describe('a ct() without commit on a new packet', () => {
  for (const words of [true, false]) {
    it(`leaves what connNotFound leaves: states, results, packets, the engine's fields (${words ? 'executeWords' : 'execute'})`, () => {
      let inlineAnswers = 0;
      fc.assert(
        fc.property(fc.array(packet, { minLength: 1, maxLength: 25 }), (packets) => {
          // A small pool that grows (and rehashes) in the runs; the reservation small, as the snapshots copy every array.
          const inline = new Runner(SMALL, words);
          const general = new Runner(SMALL, words);
          for (const p of packets) {
            const src = p.v6 ? `fd00::${p.client}` : `10.0.0.${p.client}`;
            const dst = p.v6 ? 'fd00::100' : '10.0.0.100';
            const spec = { src, dst, proto: p.proto, sport: p.sport, dport: 80, flags: p.flags, icmpType: p.v6 ? (p.icmpType === 8 ? 128 : 129) : p.icmpType, icmpId: p.sport, payload: p.payload };
            const a = frame(spec);
            const b = frame(spec);
            if (p.proto === 'icmp') {
              icmpFlags(a, p.flags, p.v6);
              icmpFlags(b, p.flags, p.v6);
            }
            inline.now += p.wait;
            general.now += p.wait;
            inline.res.reset();
            general.res.reset();
            for (const c of p.calls) {
              inline.now += c.wait;
              general.now += c.wait;
              // force without commit too (OVS refuses it; the engine takes it: a found reply expired, then a lookup).
              const call: CtCall = {
                zone: c.zone,
                commit: c.commit,
                force: c.force,
                ...(c.nat === 'apply' ? { nat: 'apply' as const } : c.nat === 'dnat' ? { dnat: p.v6 ? '[fd00::7]:8080' : '10.0.1.7:8080' } : {}),
              };
              const before = inline.ct.counters.slice();
              const s = inline.call(a, call);
              expect(general.call(b, viaCall(call))).toBe(s);
              expect(resultOf(general)).toEqual(resultOf(inline));
              expect(b).toEqual(a);
              expect(engineSnapshot(general.ct, { gens: true })).toEqual(engineSnapshot(inline.ct, { gens: true }));
              // A +new answer without commit that counted nothing and committed nothing: the kind the inline test takes.
              if (p.proto === 'tcp' && call.commit === false && s === 0x21 && inline.ct.counters.every((v, i) => v === before[i])) inlineAnswers++;
            }
          }
        }),
        params(RUNS),
      );
      // The runs reach the inline answer (a TCP +new|trk without commit), not only the declines around it.
      expect(inlineAnswers).toBeGreaterThan(50);
    });
  }

  it('answers a SYN +new and a SYN|ACK +inv without commit, as OVS (fixed example)', () => {
    for (const words of [true, false]) {
      const r = new Runner({}, words);
      const syn = frame({ src: '10.0.0.1', dst: '10.0.0.100', proto: 'tcp', sport: 1000, dport: 80, flags: F.SYN });
      expect(r.run(syn, { zone: 1, commit: false, nat: 'apply' }, { zone: 2, commit: false })).toBe(0x21);
      const synAck = frame({ src: '10.0.0.1', dst: '10.0.0.100', proto: 'tcp', sport: 1001, dport: 80, flags: F.SYN | F.ACK });
      expect(r.run(synAck, { zone: 1, commit: false })).toBe(0x30);
      expect(r.ct.size).toBe(0);
    }
  });
});

/**
 * lookupCk's miss memo (engine.ts `MK`, one module-level key shared by the engines, answered from only by the engine
 * that wrote it last — MK_OWNER — with that engine's insert count, time and hash of the miss) acts as each engine's own:
 * two engines' calls interleaved answer as each engine's calls run on their own. An engine answering from another's
 * memo would call new a key it holds (its own memo's version unchanged since its miss of another key), committing a
 * second connection for it, or leave a DNAT packet unrewritten (`handoff` below). Fails with the owner test dropped.
 * Generated: IPv4 and IPv6 TCP, UDP and ICMP echo packets from a few clients, each given to engine 0 or 1, committed in
 * two zones without NAT, with DNAT or SNAT, replies, lookups without commit; the same operations run on two other
 * engines, each engine's own in order without the other's in between (the first engine's all, then the second's).
 * Both through execute or both through executeWords (the executor's entry). Every call's ct_state, original tuple and the frame after it must agree.
 * Seeds: fast-check prints the seed and the shrunk operations of a failure; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientOpBackend, clientOpFrame, Runner, type ClientOp, type CtCall } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;

interface Op extends ClientOp {
  engine: number;
  zone: number;
  nat: 'none' | 'dnat' | 'snat' | 'nocommit';
}

// A small key space (two clients, two ports, mostly IPv4 TCP in zone 1), so that one engine's key is often the other's.
const op: fc.Arbitrary<Op> = fc.record({
  engine: fc.integer({ min: 0, max: 1 }),
  v6: fc.constantFrom(false, false, false, false, false, true),
  proto: fc.constantFrom<Op['proto']>('tcp', 'tcp', 'tcp', 'tcp', 'tcp', 'udp', 'icmp'),
  client: fc.integer({ min: 0, max: 1 }),
  sport: fc.constantFrom(1000, 1000, 1000, 1001),
  zone: fc.constantFrom(1, 1, 1, 1, 1, 4),
  nat: fc.constantFrom<Op['nat']>('none', 'dnat', 'dnat', 'snat', 'nocommit', 'nocommit', 'nocommit'),
  reply: fc.constantFrom(false, false, false, true),
});

function runOp(r: Runner, o: Op): string {
  const backend = clientOpBackend(o.v6);
  const f = clientOpFrame(o);
  const call: CtCall = { zone: o.zone, commit: !o.reply && o.nat !== 'nocommit' };
  if (!o.reply && o.nat === 'snat') call.snat = o.v6 ? `[${backend}]` : backend;
  else if (!o.reply && o.nat === 'dnat') call.dnat = o.v6 ? `[${backend}]:8080` : `${backend}:8080`;
  if (o.reply || o.nat === 'nocommit') call.nat = 'apply';
  // Two calls on the packet (ct_lb's pattern: the second looks the same key up again, the memo's first use).
  const s1 = r.run(f, call);
  const s2 = r.call(f, call);
  const res = r.res;
  const orig = res.hasOriginal ? `${res.originalIpv6} ${Array.from(res.originalSrc).join('.')}>${Array.from(res.originalDst).join('.')} ${res.originalProto} ${res.originalSrcPort} ${res.originalDstPort}` : '-';
  return `${s1} ${s2} ${orig} ${Buffer.from(f).toString('hex')}`;
}

/** Engine 0 commits a key (DNAT), then misses another; engine 1 misses the first; engine 0 asks for the first again. */
const handoff: Op[] = [
  { engine: 0, v6: false, proto: 'tcp', client: 0, sport: 1000, zone: 1, nat: 'dnat', reply: false },
  { engine: 0, v6: false, proto: 'tcp', client: 1, sport: 1000, zone: 1, nat: 'nocommit', reply: false },
  { engine: 1, v6: false, proto: 'tcp', client: 0, sport: 1000, zone: 1, nat: 'nocommit', reply: false },
  { engine: 0, v6: false, proto: 'tcp', client: 0, sport: 1000, zone: 1, nat: 'nocommit', reply: false },
];

describe('OvsConntrack miss memo', () => {
  it("two engines' calls interleaved answer as each engine's own alone", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.boolean(), (ops, words) => {
        const both = [new Runner({}, words), new Runner({}, words)];
        const alone = [new Runner({}, words), new Runner({}, words)];
        const got: string[][] = [[], []];
        for (const o of ops) {
          got[o.engine]!.push(runOp(both[o.engine]!, o));
          both[o.engine]!.now += 1;
        }
        for (const e of [0, 1]) {
          const want: string[] = [];
          for (const o of ops) {
            if (o.engine !== e) continue;
            want.push(runOp(alone[e]!, o));
            alone[e]!.now += 1;
          }
          expect(got[e], `engine ${e}`).toEqual(want);
        }
      }),
      { numRuns: 1000, examples: [[handoff, false], [handoff, true]], ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });
});

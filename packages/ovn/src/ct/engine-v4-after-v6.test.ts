/**
 * The engine's scratch keys are 11 words, of which an IPv4 key uses the first five; nothing zeroes the other six
 * for an IPv4 packet (engine.ts CT_KEY_WORDS: the hash, the compares, the miss memo, the NAT pick and the stores
 * read them only for IPv6 keys). So an IPv4 packet must get the same answer whatever IPv6 packets the engine saw
 * before it. Two engines: one runs a random mix of IPv4 and IPv6 conversations (load-balanced DNAT, SNAT to a port
 * range — whose pick hashes the key —, plain commits, ICMP errors about either family), the other only the IPv4
 * packets of the same sequence. Every IPv4 call's outcome and bytes, and the IPv4 connections, must be equal.
 * Seeds: fast-check prints the seed and the shrunk case; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatConnection } from './engine.js';
import { ctView, F, frame, icmpError, Runner, type CtCall } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const RUNS = Number(process.env.VIPPATH_CT_V6_RUNS ?? 200);

// IPv6 addresses with every word non-zero, so that an IPv6 key leaves non-zero words behind in the scratch keys.
const FAMILY = {
  4: { clients: ['10.0.0.1', '10.0.0.2'], vip: '10.96.0.10', backends: ['10.1.0.5', '10.1.0.6'], snat: '10.96.0.10:1024-1030' },
  6: {
    clients: ['fd00:1:2:3:4:5:6:7', 'fd00:1:2:3:4:5:6:8'],
    vip: 'fd10:a:b:c:d:e:f:10',
    backends: ['fd20:9:8:7:6:5:4:3', 'fd20:9:8:7:6:5:4:4'],
    snat: '[fd10:a:b:c:d:e:f:10]:1024-1030',
  },
} as const;

type Pattern = 'lb' | 'snat' | 'plain' | 'apply';
interface Step {
  fam: 4 | 6;
  client: number;
  backend: number;
  toVip: boolean;
  reply: boolean;
  udp: boolean;
  sport: number;
  flags: number;
  pattern: Pattern;
  zone: number;
  /** An ICMP error about the packet, from its destination, instead of the packet itself. */
  error: boolean;
  ms: number;
}

const step: fc.Arbitrary<Step> = fc.record({
  fam: fc.constantFrom<4 | 6>(4, 6, 6),
  client: fc.integer({ min: 0, max: 1 }),
  backend: fc.integer({ min: 0, max: 1 }),
  toVip: fc.boolean(),
  reply: fc.constantFrom(false, false, true),
  udp: fc.constantFrom(false, false, true),
  sport: fc.constantFrom(40000, 40001, 1024),
  flags: fc.constantFrom(F.SYN, F.SYN, F.SYN | F.ACK, F.ACK, F.ACK, F.FIN | F.ACK, F.RST),
  pattern: fc.constantFrom<Pattern>('lb', 'lb', 'snat', 'plain', 'apply'),
  zone: fc.constantFrom(1, 2),
  error: fc.constantFrom(false, false, false, false, true),
  ms: fc.constantFrom(0, 0, 10, 40_000),
});

function calls(s: Step): CtCall[] {
  const fam = FAMILY[s.fam];
  const backend = s.fam === 4 ? `${fam.backends[s.backend]}:8080` : `[${fam.backends[s.backend]}]:8080`;
  switch (s.pattern) {
    case 'lb':
      return [{ zone: s.zone, nat: 'apply' }, { zone: s.zone, commit: true, dnat: backend }, { zone: s.zone + 10, commit: true }];
    case 'snat':
      return [{ zone: s.zone, commit: true, snat: fam.snat }];
    case 'plain':
      return [{ zone: s.zone }, { zone: s.zone, commit: true }];
    default:
      return [{ zone: s.zone, nat: 'apply' }];
  }
}

function packet(s: Step): Uint8Array {
  const fam = FAMILY[s.fam];
  const client = fam.clients[s.client]!;
  const server = s.toVip ? fam.vip : fam.backends[s.backend]!;
  const f = frame({
    src: s.reply ? server : client,
    dst: s.reply ? client : server,
    proto: s.udp ? 'udp' : 'tcp',
    sport: s.reply ? (s.toVip ? 80 : 8080) : s.sport,
    dport: s.reply ? s.sport : s.toVip ? 80 : 8080,
    flags: s.flags,
    seq: 1000,
    ack: s.flags & F.ACK ? 5001 : 0,
  });
  return s.error ? icmpError(f, s.reply ? client : server) : f;
}

const v4Dump = (r: Runner, now: number): string[] =>
  r.ct
    .connections(now)
    .filter((c) => !c.ipv6)
    .map((c) => formatConnection(c, true))
    .sort();

describe('OvsConntrack: IPv4 keys after IPv6 ones', () => {
  it('an IPv4 packet gets the same answer whatever IPv6 packets came before', () => {
    let v4Calls = 0;
    let afterV6 = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 40 }), (steps) => {
        const mixed = new Runner();
        const only4 = new Runner();
        let now = 0;
        let last = 4;
        for (const [i, s] of steps.entries()) {
          now += s.ms;
          mixed.now = now;
          only4.now = now;
          const cs = calls(s);
          if (s.fam === 6) {
            mixed.run(packet(s), ...cs);
            last = 6;
            continue;
          }
          const a = packet(s);
          const b = a.slice();
          mixed.res.reset();
          only4.res.reset();
          for (const [j, c] of cs.entries()) {
            mixed.call(a, c);
            only4.call(b, c);
            v4Calls++;
            if (last === 6 && j === 0) afterV6++;
            expect(ctView(mixed.res), `step ${i}, call ${j}`).toEqual(ctView(only4.res));
            expect([...a], `step ${i}, call ${j}`).toEqual([...b]);
          }
          last = 4;
          expect(v4Dump(mixed, now), `step ${i}`).toEqual(v4Dump(only4, now));
        }
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    // Many IPv4 packets came right after an IPv6 one (whose words were left in the scratch keys).
    expect(afterV6).toBeGreaterThan(RUNS * 3);
    console.log(`engine-v4-after-v6: ${v4Calls} IPv4 calls, ${afterV6} packets right after an IPv6 one`);
  });
});

/**
 * frame-sync.ts `loadIpv4Fresh` (the executor's load of a frame's words at the start of a walk, runFrame) against
 * what it replaced: the words cleared (`fill(0)`), packet.ts's `loadFrame`, and the shadow's header words copied from
 * them. Random frames — IPv4 carrying TCP, UDP, SCTP, ICMP, protocol 58, another protocol, first and later
 * fragments, protocol 6 over bytes too short for a TCP header, with and without a VLAN tag; IPv6, ARP and another EtherType —
 * are decoded into one DecodedFrame reused from frame to frame (as the executor's is: a field one decode does not
 * write keeps the last frame's), by FrameDecoder and, where the layout fits, by decodePlainTcp4 as runFrame does,
 * and loaded into the executors' first pool slot and shadow, holding random words (a walk's leftovers). Every word and the shadow's header
 * must be the reference's, the shadow's other words untouched; a frame it declines leaves both untouched.
 *
 * Seed: 20261205 unless VIPPATH_LOADFRESH_SEED gives one (`random`: a new one, printed); VIPPATH_LOADFRESH_RUNS
 * (default 400).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerFields, port } from './frame-arbitraries.test-helpers.js';
import { buildFrame, decodePlainTcp4, DecodedFrame, FrameDecoder, L3, type FrameSpec } from '@vippath/wire';
import { W } from './fields.js';
import { FIRST_WORDS, FRAME_SHADOW, loadIpv4Fresh } from './frame-sync.js';
import { loadFrame } from './packet.js';

const SEED_ENV = process.env.VIPPATH_LOADFRESH_SEED;
const SEED = SEED_ENV === 'random' ? (Math.random() * 2 ** 31) | 0 : SEED_ENV ? Number(SEED_ENV) : 20261205;
const RUNS = Number(process.env.VIPPATH_LOADFRESH_RUNS ?? 400);

const payload = fc.uint8Array({ minLength: 0, maxLength: 40 });

type Kind = 'tcp' | 'rawTcp' | 'udp' | 'sctp' | 'icmp' | 'proto58' | 'other' | 'ipv6' | 'arp' | 'ether';
const KINDS: Kind[] = ['tcp', 'rawTcp', 'udp', 'sctp', 'icmp', 'proto58', 'other', 'ipv6', 'arp', 'ether'];

const frameSpec = fc.record({
  kind: fc.constantFrom(...KINDS),
  ...headerFields,
  // 0: not a fragment; 1: a first fragment (MF); 2: a later one (offset ≠ 0: no L4 header decoded).
  frag: fc.constantFrom(0, 0, 0, 1, 2),
  sport: port,
  dport: port,
  flags: fc.integer({ min: 0, max: 0x1ff }),
  proto: fc.integer({ min: 0, max: 255 }),
  payload,
});

type Spec = typeof frameSpec extends fc.Arbitrary<infer T> ? T : never;

function build(s: Spec): Uint8Array {
  const base: FrameSpec = { dst: s.dst, src: s.src, ...(s.vlan !== undefined ? { vlans: [s.vlan] } : {}) };
  const frag = { moreFragments: s.frag === 1, dontFragment: s.frag === 0, fragmentOffset: s.frag === 2 ? 8 : 0 };
  const v4 = (protocol?: number): FrameSpec['ipv4'] => ({ src: s.ipSrc, dst: s.ipDst, ttl: s.ttl, tos: s.tos, ...frag, ...(protocol !== undefined ? { protocol } : {}) });
  switch (s.kind) {
    case 'tcp':
      return buildFrame({ ...base, ipv4: v4(), tcp: { srcPort: s.sport, dstPort: s.dport, flags: s.flags, payload: s.payload } });
    case 'rawTcp':
      // Protocol 6 over raw bytes: often too short for a TCP header (a malformed decode).
      return buildFrame({ ...base, ipv4: v4(6), payload: s.payload });
    case 'udp':
      return buildFrame({ ...base, ipv4: v4(), udp: { srcPort: s.sport, dstPort: s.dport, payload: s.payload } });
    case 'sctp':
      return buildFrame({ ...base, ipv4: v4(132), payload: s.payload });
    case 'icmp':
      return buildFrame({ ...base, ipv4: v4(), icmp: { type: s.sport & 0xff, code: s.dport & 0xff, body: s.payload } as unknown as FrameSpec['icmp'] });
    case 'proto58':
      return buildFrame({ ...base, ipv4: v4(58), payload: s.payload });
    case 'other':
      return buildFrame({ ...base, ipv4: v4([6, 17, 1, 58, 132].includes(s.proto) ? 47 : s.proto), payload: s.payload });
    case 'ipv6':
      return buildFrame({ ...base, ipv6: { src: '2001:db8::1', dst: '2001:db8::2', hopLimit: s.ttl }, tcp: { srcPort: s.sport, dstPort: s.dport } });
    case 'arp':
      return buildFrame({ ...base, arp: { op: 1 + (s.flags & 1), senderMac: s.src, senderIp: s.ipSrc, targetMac: s.dst, targetIp: s.ipDst } as unknown as FrameSpec['arp'] });
    case 'ether':
      return buildFrame({ ...base, ethertype: 0x88b5, payload: s.payload });
  }
}

describe('loadIpv4Fresh', () => {
  it('leaves the words and the shadow as fill(0), loadFrame and the header copy do', () => {
    console.log(`loadIpv4Fresh property: ${RUNS} runs, seed ${SEED} (VIPPATH_LOADFRESH_SEED / VIPPATH_LOADFRESH_RUNS)`);
    const d = new DecodedFrame();
    const decoder = new FrameDecoder();
    // The executors' first pool slot, which loadIpv4Fresh writes.
    const words = FIRST_WORDS;
    // The executors' one shadow, which loadIpv4Fresh writes.
    const shadow = FRAME_SHADOW;
    const ref = new Uint32Array(W.SIZE);
    const count = { loaded: 0, declined: 0, plain: 0, tcp: 0, udp: 0, sctp: 0, icmp: 0, other: 0, laterFragment: 0, tagged: 0, malformed: 0 };
    fc.assert(
      fc.property(frameSpec, fc.uint32Array({ minLength: W.SIZE, maxLength: W.SIZE }), fc.boolean(), (s, junk, plain) => {
        const frame = build(s);
        // runFrame's decode: decodePlainTcp4 where the layout fits, else the full decoder.
        const usedPlain = plain && decodePlainTcp4(frame, frame.length, d);
        if (!usedPlain) decoder.decode(frame, d, frame.length);
        ref.fill(0);
        loadFrame(frame, d, ref, true);
        words.set(junk);
        shadow.set(junk.map((x) => x ^ 0x5a5a5a5a));
        const shadowBefore = shadow.slice();
        const loaded = loadIpv4Fresh(frame, d);
        expect(loaded).toBe(d.l3 === L3.IPV4 && d.ipProto !== 58);
        if (!loaded) {
          count.declined++;
          expect(words).toEqual(junk);
          expect(shadow).toEqual(shadowBefore);
          return;
        }
        count.loaded++;
        expect(words).toEqual(ref);
        for (let i = 0; i < W.SIZE; i++) {
          const header = i >= W.ETH_SRC && i <= W.ARP_OP;
          expect(shadow[i], `shadow word ${i}`).toBe(header ? ref[i] : shadowBefore[i]);
        }
        if (usedPlain) count.plain++;
        if (d.status !== 0) count.malformed++;
        if (s.vlan !== undefined) count.tagged++;
        if (s.frag === 2) count.laterFragment++;
        if (d.ipProto === 6) count.tcp++;
        else if (d.ipProto === 17) count.udp++;
        else if (d.ipProto === 132) count.sctp++;
        else if (d.ipProto === 1) count.icmp++;
        else count.other++;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`loadIpv4Fresh property: ${JSON.stringify(count)}`);
    for (const [k, v] of Object.entries(count)) expect(v, k).toBeGreaterThan(0);
  });
});

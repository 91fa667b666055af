/**
 * packet.ts `storeFrame` (the executor's write of changed header words into the frame before a ct() call and at an
 * output) against a fresh decode of the bytes it wrote. Random IPv4 TCP and UDP frames (with and without a VLAN tag,
 * first fragments or none) are loaded into words and a shadow (loadFrame); a random subset of the words an action
 * can assign — eth.src, eth.dst, ip4.src, ip4.dst, ip.ttl, ip.dscp, ip.ecn, the L4 ports — is given new values; after
 * storeFrame the frame, decoded again and loaded into new words, must give every header word the walk's words hold,
 * the shadow must be that image, and the IPv4 header and L4 checksums must verify. No other test reads these bytes
 * without the same storeFrame on both sides (the sync-skip and megaflow properties compare two executors), so a
 * word written from or to the wrong index is seen here.
 *
 * Seed: 20261205 unless VIPPATH_STOREFRAME_SEED gives one (`random`: a new one, printed); VIPPATH_STOREFRAME_RUNS
 * (default 400).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerFields, port } from './frame-arbitraries.test-helpers.js';
import { buildFrame, DecodedFrame, FrameDecoder, l4ChecksumStatus, type FrameSpec } from '@vippath/wire';
import { W } from './fields.js';
import { loadFrame, storeFrame } from './packet.js';

const SEED_ENV = process.env.VIPPATH_STOREFRAME_SEED;
const SEED = SEED_ENV === 'random' ? (Math.random() * 2 ** 31) | 0 : SEED_ENV ? Number(SEED_ENV) : 20261205;
const RUNS = Number(process.env.VIPPATH_STOREFRAME_RUNS ?? 400);


/** The words an action may assign that storeFrame writes into an IPv4 TCP/UDP frame, each with its value's width. */
const WRITABLE: readonly [name: string, word: number, bits: number][] = [
  ['eth.dst low', W.ETH_DST, 32],
  ['eth.dst high', W.ETH_DST + 1, 16],
  ['eth.src low', W.ETH_SRC, 32],
  ['eth.src high', W.ETH_SRC + 1, 16],
  ['ip4.src', W.IPV4_SRC, 32],
  ['ip4.dst', W.IPV4_DST, 32],
  ['ip.ttl', W.IP_TTL, 8],
  ['ip.dscp', W.IP_DSCP, 6],
  ['ip.ecn', W.IP_ECN, 2],
  ['tp.src', W.TP_SRC, 16],
  ['tp.dst', W.TP_DST, 16],
];

const spec = fc.record({
  udp: fc.boolean(),
  ...headerFields,
  firstFragment: fc.boolean(),
  sport: port,
  dport: port,
  payload: fc.uint8Array({ minLength: 0, maxLength: 40 }),
  // Per writable word: written or not, and the value's bits.
  writes: fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 0xffffffff })), { minLength: WRITABLE.length, maxLength: WRITABLE.length }),
});

describe('storeFrame', () => {
  it('writes the walk’s header words into the frame as a fresh decode reads them back, checksums kept', () => {
    console.log(`storeFrame property: ${RUNS} runs, seed ${SEED} (VIPPATH_STOREFRAME_SEED / VIPPATH_STOREFRAME_RUNS)`);
    const decoder = new FrameDecoder();
    const d = new DecodedFrame();
    const again = new DecodedFrame();
    const words = new Uint32Array(W.SIZE);
    const shadow = new Uint32Array(W.SIZE);
    const ref = new Uint32Array(W.SIZE);
    const scratch = new Uint8Array(16);
    const written = new Array<number>(WRITABLE.length).fill(0);
    let tagged = 0;
    let udp = 0;
    fc.assert(
      fc.property(spec, (s) => {
        const base: FrameSpec = { dst: s.dst, src: s.src, ...(s.vlan !== undefined ? { vlans: [s.vlan] } : {}) };
        const ipv4 = { src: s.ipSrc, dst: s.ipDst, ttl: s.ttl, tos: s.tos, moreFragments: s.firstFragment, dontFragment: !s.firstFragment };
        const frame = s.udp
          ? buildFrame({ ...base, ipv4, udp: { srcPort: s.sport, dstPort: s.dport, payload: s.payload } })
          : buildFrame({ ...base, ipv4, tcp: { srcPort: s.sport, dstPort: s.dport, flags: 0x18, payload: s.payload } });
        decoder.decode(frame, d, frame.length);
        words.fill(0);
        loadFrame(frame, d, words, true);
        shadow.set(words);
        let any = false;
        WRITABLE.forEach(([, word, bits], i) => {
          const [on, v] = s.writes[i]!;
          if (!on) return;
          words[word] = bits === 32 ? v >>> 0 : v & ((1 << bits) - 1);
          written[i]!++;
          any = true;
        });
        storeFrame(frame, d, words, shadow, scratch);
        decoder.decode(frame, again, frame.length);
        ref.fill(0);
        loadFrame(frame, again, ref, true);
        for (let i = W.ETH_SRC; i <= W.ARP_OP; i++) {
          expect(ref[i], `frame's word ${i}`).toBe(words[i]);
          expect(shadow[i], `shadow word ${i}`).toBe(ref[i]);
        }
        // The IPv4 header's checksum (the header at the decode's l3Offset, 20 bytes: no options built).
        let sum = 0;
        for (let k = again.l3Offset; k < again.l3Offset + 20; k += 2) sum += (frame[k]! << 8) | frame[k + 1]!;
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        expect(sum, 'IPv4 header checksum').toBe(0xffff);
        const l4 = l4ChecksumStatus(frame, again);
        expect(['ok', 'none']).toContain(l4);
        if (any && s.vlan !== undefined) tagged++;
        if (s.udp) udp++;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`storeFrame property: written ${JSON.stringify(Object.fromEntries(WRITABLE.map(([n], i) => [n, written[i]])))}, tagged ${tagged}, udp ${udp}`);
    for (const [i, n] of written.entries()) expect(n, WRITABLE[i]![0]).toBeGreaterThan(0);
    expect(tagged).toBeGreaterThan(0);
    expect(udp).toBeGreaterThan(0);
  });
});

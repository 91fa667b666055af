/** fast-check arbitraries for wire representations, shared by this package's tests. */
import fc from 'fast-check';
import { formatIPv4, formatIPv6, formatMac } from './addresses.js';
import type { ArpRepr } from './arp.js';
import type { VlanTag } from './ethernet.js';
import type { Ipv4Repr } from './ipv4.js';
import type { Ipv6ExtensionRepr } from './ipv6.js';
import type { NdpOption, NdpRepr } from './ndp.js';
import type { TcpRepr } from './tcp.js';
import type { FrameSpec } from './frame.js';

export const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => formatMac(b));
export const ipv4Arb = fc.integer({ min: 0, max: 0xffffffff }).map(formatIPv4);
export const ipv6BytesArb = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  // Addresses with zero runs exercise the :: compression rules.
  fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xfe80), { minLength: 8, maxLength: 8 }).map((words) => {
    const b = new Uint8Array(16);
    words.forEach((w, i) => {
      b[2 * i] = w >> 8;
      b[2 * i + 1] = w & 0xff;
    });
    return b;
  }),
);
export const ipv6Arb = ipv6BytesArb.map((b) => formatIPv6(b));
export const portArb = fc.integer({ min: 0, max: 0xffff });
export const u32Arb = fc.integer({ min: 0, max: 0xffffffff });

export const vlanTagArb: fc.Arbitrary<VlanTag> = fc.record({
  tpid: fc.constantFrom(0x8100, 0x88a8, 0x9100),
  pcp: fc.integer({ min: 0, max: 7 }),
  dei: fc.integer({ min: 0, max: 1 }),
  vid: fc.integer({ min: 0, max: 4095 }),
});

export const arpArb: fc.Arbitrary<ArpRepr> = fc.record({
  op: fc.integer({ min: 0, max: 0xffff }),
  senderMac: macArb,
  senderIp: ipv4Arb,
  targetMac: macArb,
  targetIp: ipv4Arb,
});

/** Options padded to a multiple of 4 (as IPv4/TCP need), up to 40 bytes. */
export const optionsArb = fc.integer({ min: 0, max: 10 }).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 }));

export const ipv4Arb_: fc.Arbitrary<Ipv4Repr> = fc.record({
  tos: fc.integer({ min: 0, max: 255 }),
  ident: portArb,
  dontFragment: fc.boolean(),
  moreFragments: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
  ttl: fc.integer({ min: 0, max: 255 }),
  protocol: fc.integer({ min: 0, max: 255 }),
  src: ipv4Arb,
  dst: ipv4Arb,
  options: optionsArb,
  payloadLength: fc.integer({ min: 0, max: 200 }),
});

export const ipv6ExtArb: fc.Arbitrary<Ipv6ExtensionRepr> = fc.oneof(
  fc.record({ type: fc.constantFrom(0, 43, 60), units: fc.integer({ min: 0, max: 3 }), fill: fc.uint8Array({ minLength: 32, maxLength: 32 }) }).map(({ type, units, fill }) => {
    const data = fill.slice(0, (units + 1) * 8);
    data[1] = units;
    return { type, data };
  }),
  // A first fragment (offset 0), so the upper-layer header follows.
  fc.record({ more: fc.boolean(), id: u32Arb }).map(({ more, id }) => {
    const data = new Uint8Array(8);
    data[3] = more ? 1 : 0;
    data[4] = id >>> 24;
    data[5] = (id >>> 16) & 0xff;
    data[6] = (id >>> 8) & 0xff;
    data[7] = id & 0xff;
    return { type: 44, data };
  }),
);

export const tcpArb: fc.Arbitrary<TcpRepr> = fc.record({
  srcPort: portArb,
  dstPort: portArb,
  seq: u32Arb,
  ack: u32Arb,
  flags: fc.integer({ min: 0, max: 0x1ff }),
  window: portArb,
  urgent: portArb,
  options: optionsArb,
  payload: fc.uint8Array({ maxLength: 64 }),
});

export const ndpOptionArb: fc.Arbitrary<NdpOption> = fc.oneof(
  fc.record({ type: fc.constantFrom(1, 2), data: fc.uint8Array({ minLength: 6, maxLength: 6 }) }),
  // Unknown options are kept raw; lengths that fill whole 8-byte units round-trip exactly.
  fc.record({ type: fc.integer({ min: 3, max: 255 }), units: fc.integer({ min: 1, max: 3 }) }).chain(({ type, units }) =>
    fc.uint8Array({ minLength: units * 8 - 2, maxLength: units * 8 - 2 }).map((data) => ({ type, data })),
  ),
);

export const ndpArb: fc.Arbitrary<NdpRepr> = fc.record({
  type: fc.constantFrom(135 as const, 136 as const),
  router: fc.boolean(),
  solicited: fc.boolean(),
  override: fc.boolean(),
  target: ipv6Arb,
  options: fc.array(ndpOptionArb, { maxLength: 3 }),
}).map((r) => (r.type === 135 ? { ...r, router: false, solicited: false, override: false } : r));

/** Whole frames of every kind the data path meets. */
export const frameSpecArb: fc.Arbitrary<FrameSpec> = fc
  .record({
    dst: macArb,
    src: macArb,
    vlans: fc.array(fc.oneof(fc.integer({ min: 0, max: 4095 }), vlanTagArb), { maxLength: 2 }),
    kind: fc.constantFrom('arp', 'tcp4', 'udp4', 'icmp4', 'tcp6', 'udp6', 'ndp', 'icmp6'),
    arp: arpArb,
    ip4src: ipv4Arb,
    ip4dst: ipv4Arb,
    ip6src: ipv6Arb,
    ip6dst: ipv6Arb,
    tcp: tcpArb,
    udpSrc: portArb,
    udpDst: portArb,
    payload: fc.uint8Array({ maxLength: 48 }),
    ndp: ndpArb,
    icmpType: fc.integer({ min: 0, max: 127 }),
    padTo: fc.constantFrom(0, 60),
  })
  .map((r): FrameSpec => {
    const base: FrameSpec = { dst: r.dst, src: r.src, vlans: r.vlans, padTo: r.padTo };
    const v4 = { src: r.ip4src, dst: r.ip4dst };
    const v6 = { src: r.ip6src, dst: r.ip6dst };
    switch (r.kind) {
      case 'arp':
        return { ...base, arp: r.arp };
      case 'tcp4':
        return { ...base, ipv4: v4, tcp: r.tcp };
      case 'udp4':
        return { ...base, ipv4: v4, udp: { srcPort: r.udpSrc, dstPort: r.udpDst, payload: r.payload } };
      case 'icmp4':
        return { ...base, ipv4: v4, icmp: { type: r.icmpType, code: 0, body: r.payload } };
      case 'tcp6':
        return { ...base, ipv6: v6, tcp: r.tcp };
      case 'udp6':
        return { ...base, ipv6: v6, udp: { srcPort: r.udpSrc, dstPort: r.udpDst, payload: r.payload } };
      case 'ndp':
        return { ...base, ipv6: { ...v6, hopLimit: 255 }, ndp: r.ndp };
      default:
        return { ...base, ipv6: v6, icmp: { type: 128 + (r.icmpType % 5), code: 0, body: r.payload } };
    }
  });

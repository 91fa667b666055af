/**
 * fast-check arbitraries for frames: every protocol the data path meets, valid (built with correct lengths
 * and checksums) or deliberately malformed (truncated, bytes overwritten). They shrink towards small,
 * readable frames: untagged, first choices of addresses and ports.
 */
import fc from 'fast-check';
import { buildFrame, type FrameSpec } from '@vippath/wire';

/** Choices a frame arbitrary draws from; small sets make counterexamples readable and collisions likely. */
export interface FrameChoices {
  macs?: string[];
  ipv4?: string[];
  ipv6?: string[];
  ports?: number[];
  /** VLAN stacks to choose from (outermost first); `[]` is untagged. */
  vlans?: number[][];
  kinds?: FrameKind[];
}

export type FrameKind = 'arp' | 'tcp4' | 'udp4' | 'icmp4' | 'tcp6' | 'udp6' | 'icmp6' | 'ndp';

/** A generated frame: what it was built from, and its bytes. */
export interface GeneratedFrame {
  spec: FrameSpec;
  bytes: Uint8Array;
}

const DEFAULTS: Required<FrameChoices> = {
  macs: ['52:54:00:aa:00:64', '52:54:00:bb:00:01', '52:54:00:bb:00:03', 'ff:ff:ff:ff:ff:ff', '00:00:00:01:00:01'],
  ipv4: ['10.180.204.100', '10.180.204.252', '10.180.204.11', '10.180.204.1'],
  ipv6: ['fd00:10:180:204::100', 'fd00:10:180:204::252', 'fe80::1'],
  ports: [80, 40000, 53, 443],
  vlans: [[], [341], [100, 341]],
  kinds: ['arp', 'tcp4', 'udp4', 'icmp4', 'tcp6', 'udp6', 'icmp6', 'ndp'],
};

/** Valid frames. */
export function frameArb(choices: FrameChoices = {}): fc.Arbitrary<GeneratedFrame> {
  const c = { ...DEFAULTS, ...choices };
  return fc
    .record({
      kind: fc.constantFrom(...c.kinds),
      vlans: fc.constantFrom(...c.vlans),
      dst: fc.constantFrom(...c.macs),
      src: fc.constantFrom(...c.macs.filter((m) => !m.startsWith('ff:'))),
      ip4src: fc.constantFrom(...c.ipv4),
      ip4dst: fc.constantFrom(...c.ipv4),
      ip6src: fc.constantFrom(...c.ipv6),
      ip6dst: fc.constantFrom(...c.ipv6),
      sport: fc.constantFrom(...c.ports),
      dport: fc.constantFrom(...c.ports),
      tcpFlags: fc.constantFrom(0x02, 0x12, 0x10, 0x18, 0x11, 0x04),
      arpOp: fc.constantFrom(1, 2),
      ttl: fc.constantFrom(64, 1),
      payload: fc.uint8Array({ maxLength: 16 }),
    })
    .map((r): GeneratedFrame => {
      const base: FrameSpec = { dst: r.dst, src: r.src, vlans: r.vlans };
      const v4 = { src: r.ip4src, dst: r.ip4dst, ttl: r.ttl };
      const v6 = { src: r.ip6src, dst: r.ip6dst, hopLimit: r.kind === 'ndp' ? 255 : r.ttl };
      let spec: FrameSpec;
      switch (r.kind) {
        case 'arp':
          spec = { ...base, arp: { op: r.arpOp, senderMac: r.src, senderIp: r.ip4src, targetMac: r.arpOp === 1 ? '00:00:00:00:00:00' : r.dst, targetIp: r.ip4dst } };
          break;
        case 'tcp4':
          spec = { ...base, ipv4: v4, tcp: { srcPort: r.sport, dstPort: r.dport, flags: r.tcpFlags, payload: r.payload } };
          break;
        case 'udp4':
          spec = { ...base, ipv4: v4, udp: { srcPort: r.sport, dstPort: r.dport, payload: r.payload } };
          break;
        case 'icmp4':
          spec = { ...base, ipv4: v4, icmp: { type: 8, code: 0, body: new Uint8Array(4) } };
          break;
        case 'tcp6':
          spec = { ...base, ipv6: v6, tcp: { srcPort: r.sport, dstPort: r.dport, flags: r.tcpFlags } };
          break;
        case 'udp6':
          spec = { ...base, ipv6: v6, udp: { srcPort: r.sport, dstPort: r.dport, payload: r.payload } };
          break;
        case 'icmp6':
          spec = { ...base, ipv6: v6, icmp: { type: 128, code: 0, body: new Uint8Array(4) } };
          break;
        case 'ndp':
          spec = { ...base, ipv6: v6, ndp: { type: 135, router: false, solicited: false, override: false, target: r.ip6dst, options: [{ type: 1, data: Uint8Array.from(r.src.split(':').map((h) => parseInt(h, 16))) }] } };
          break;
      }
      return { spec, bytes: buildFrame(spec) };
    });
}

/** Malformed frames: a valid frame cut short and/or with bytes overwritten (for robustness properties). */
export function malformedFrameArb(choices: FrameChoices = {}): fc.Arbitrary<Uint8Array> {
  return fc.tuple(frameArb(choices), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([f, cut, flips]) => {
    const b = f.bytes.slice(0, cut % (f.bytes.length + 1));
    for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
    return b;
  });
}

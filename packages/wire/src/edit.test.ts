import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv4, parseIPv4, parseIPv6 } from './addresses.js';
import { checksumAdjust16, checksumAdjust32, foldSum, internetChecksum, pseudoHeaderSumV4, pseudoHeaderSumV6 } from './checksum.js';
import { DecodedFrame, FrameDecoder, L3 } from './decoder.js';
import { completeOffloadChecksum, decrementTtl, FrameEditError, l4ChecksumStatus, popVlan, pushVlan, rewriteIpTtlTos, rewriteIpv4Address, rewriteIpv6Address, rewriteIpv6FlowLabel, rewriteMac, rewritePort } from './edit.js';
import { buildFrame, parseFrame } from './frame.js';
import * as A from './arbitraries.test-helpers.js';

const decoder = new FrameDecoder();
const out = new DecodedFrame();

function rebuilt(frame: Uint8Array): Uint8Array {
  // Full recomputation: build the same frame again from its decoded representation.
  const p = parseFrame(frame);
  return buildFrame({
    dst: p.eth.dst,
    src: p.eth.src,
    vlans: p.eth.vlans,
    ...(p.ipv4 ? { ipv4: p.ipv4 } : {}),
    ...(p.ipv6 ? { ipv6: p.ipv6 } : {}),
    ...(p.tcp ? { tcp: p.tcp } : {}),
    ...(p.udp ? { udp: p.udp } : {}),
    ...(p.icmp ? { icmp: p.icmp } : {}),
    ...(p.ndp ? { ndp: p.ndp } : {}),
  });
}

describe('RFC 1624 incremental update equals full recomputation', () => {
  it('for 16- and 32-bit field changes over random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 64 }).filter((b) => b.length % 2 === 0), fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), (data, pos, value) => {
        const at = (pos % (data.length / 2 - 1)) * 2;
        const before = internetChecksum(data, 0, data.length);
        const old32 = ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
        const copy = data.slice();
        copy[at] = value >>> 24;
        copy[at + 1] = (value >>> 16) & 0xff;
        copy[at + 2] = (value >>> 8) & 0xff;
        copy[at + 3] = value & 0xff;
        const full = internetChecksum(copy, 0, copy.length);
        // Equal as ones' complement numbers (0 and 0xffff name the same value).
        const inc = checksumAdjust32(before, old32, value >>> 0);
        expect(inc === full || (inc ^ full) === 0xffff).toBe(true);
        const old16 = (data[at]! << 8) | data[at + 1]!;
        const c16 = data.slice();
        c16[at] = value >>> 8 & 0xff;
        c16[at + 1] = value & 0xff;
        const inc16 = checksumAdjust16(before, old16, value & 0xffff);
        const full16 = internetChecksum(c16, 0, c16.length);
        expect(inc16 === full16 || (inc16 ^ full16) === 0xffff).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('for IPv4 address and port rewrites of TCP/UDP frames (UDP checksum 0 stays 0)', () => {
    const kinds = A.frameSpecArb.filter((s) => !!s.ipv4 && !!(s.tcp || s.udp));
    fc.assert(
      fc.property(kinds, A.u32Arb, A.u32Arb, A.portArb, A.portArb, fc.boolean(), (spec, src, dst, sport, dport, zeroUdp) => {
        const frame = buildFrame({ ...spec, padTo: 0 });
        decoder.decode(frame, out);
        const noUdpSum = zeroUdp && !!spec.udp;
        if (noUdpSum) {
          frame[out.l4Offset + 6] = 0;
          frame[out.l4Offset + 7] = 0;
        }
        rewriteIpv4Address(frame, out, 12, src);
        rewriteIpv4Address(frame, out, 16, dst);
        rewritePort(frame, out, 0, sport);
        rewritePort(frame, out, 2, dport);
        const p = parseFrame(frame);
        expect(p.ipv4!.src).toBe(formatIPv4(src));
        expect((p.tcp ?? p.udp)!.dstPort).toBe(dport);
        if (noUdpSum) {
          expect(p.checksum).toBe('none');
        } else {
          expect(p.checksum).toBe('ok');
          expect(Array.from(frame)).toEqual(Array.from(rebuilt(frame)));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('for IPv6 address rewrites (TCP, UDP, ICMPv6)', () => {
    const kinds = A.frameSpecArb.filter((s) => !!s.ipv6 && !s.ndp);
    fc.assert(
      fc.property(kinds, A.ipv6BytesArb, A.ipv6BytesArb, (spec, src, dst) => {
        const frame = buildFrame({ ...spec, padTo: 0 });
        decoder.decode(frame, out);
        rewriteIpv6Address(frame, out, 8, src);
        rewriteIpv6Address(frame, out, 24, dst);
        expect(parseFrame(frame).checksum).toBe('ok');
      }),
      { numRuns: 300 },
    );
  });
});

describe('in-place edits', () => {
  const base = { dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', ipv4: { src: '10.180.204.100', dst: '10.180.204.252' }, tcp: { srcPort: 40000, dstPort: 80 } };

  it('push then pop a tag restores the frame; pushed frame carries the VID', () => {
    fc.assert(
      fc.property(A.frameSpecArb, fc.integer({ min: 0, max: 4095 }), fc.constantFrom(0x8100, 0x88a8), (spec, vid, tpid) => {
        const frame = buildFrame(spec);
        const buf = new Uint8Array(frame.length + 4);
        buf.set(frame);
        const len = pushVlan(buf, frame.length, vid, tpid);
        expect(len).toBe(frame.length + 4);
        const p = parseFrame(buf.subarray(0, len));
        expect(p.eth.vlans[0]).toEqual({ tpid, pcp: 0, dei: 0, vid });
        expect(p.eth.vlans.length).toBe((spec.vlans ?? []).length + 1);
        const back = popVlan(buf, len);
        expect(Array.from(buf.subarray(0, back))).toEqual(Array.from(frame));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to push without room or pop an untagged frame', () => {
    const frame = buildFrame(base);
    expect(() => pushVlan(frame, frame.length, 341)).toThrow(FrameEditError);
    expect(() => popVlan(frame, frame.length)).toThrow(/no VLAN tag/);
  });

  it('decrements TTL with a valid header checksum, and refuses at 1', () => {
    const frame = buildFrame({ ...base, ipv4: { ...base.ipv4, ttl: 2 } });
    decoder.decode(frame, out);
    expect(decrementTtl(frame, out)).toBe(1);
    const p = parseFrame(frame);
    expect(p.ipv4!.ttl).toBe(1);
    expect(Array.from(frame)).toEqual(Array.from(rebuilt(frame)));
    expect(decrementTtl(frame, out)).toBe(-1);
    expect(frame[14 + 8]).toBe(1);
  });

  it('sets TTL and TOS with a valid header checksum (IPv4), hop limit, traffic class and flow label (IPv6)', () => {
    // Against a full rebuild of the frame: every TTL/TOS pair at the edges and random ones, over TCP and UDP.
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.option(fc.integer({ min: 0, max: 0xfffff }), { nil: undefined }), (v6, udp, ttl0, tos0, ttl, tos, label) => {
        const l4 = udp ? { udp: { srcPort: 1000, dstPort: 53, payload: new Uint8Array(5) } } : { tcp: { srcPort: 1000, dstPort: 80, flags: 0x18, payload: new Uint8Array(7) } };
        const eth = { dst: base.dst, src: base.src };
        const frame = v6
          ? buildFrame({ ...eth, ipv6: { src: 'fd00::1', dst: 'fd00::2', hopLimit: ttl0, trafficClass: tos0, flowLabel: 0x12345 }, ...l4 })
          : buildFrame({ ...eth, ipv4: { ...base.ipv4, ttl: ttl0, tos: tos0 }, ...l4 });
        decoder.decode(frame, out);
        rewriteIpTtlTos(frame, out, ttl, tos);
        // Without a label written, the class's write keeps the label's top bits (they share a byte).
        if (v6 && label !== undefined) rewriteIpv6FlowLabel(frame, out, label);
        const p = parseFrame(frame);
        if (v6) expect([p.ipv6!.hopLimit, p.ipv6!.trafficClass, p.ipv6!.flowLabel]).toEqual([ttl, tos, label ?? 0x12345]);
        else expect([p.ipv4!.ttl, p.ipv4!.tos]).toEqual([ttl, tos]);
        expect([out.ipTtl, out.ipTos]).toEqual([ttl, tos]);
        expect(Array.from(frame)).toEqual(Array.from(rebuilt(frame)));
      }),
    );
    const other = buildFrame({ dst: base.dst, src: base.src, ethertype: 0x88b5 });
    decoder.decode(other, out);
    expect(() => rewriteIpTtlTos(other, out, 1, 0)).toThrow(FrameEditError);
    expect(() => rewriteIpv6FlowLabel(other, out, 1)).toThrow(/not an IPv6 frame/);
  });

  it('rewrites MACs in place', () => {
    const frame = buildFrame(base);
    rewriteMac(frame, 0, Uint8Array.from([0, 0, 0, 1, 0, 1]));
    expect(parseFrame(frame).eth.dst).toBe('00:00:00:01:00:01');
  });

  it('DNAT of the VIP to a pod and back is the identity on the bytes', () => {
    const frame = buildFrame({ ...base, vlans: [341] });
    const orig = frame.slice();
    decoder.decode(frame, out);
    rewriteIpv4Address(frame, out, 16, parseIPv4('10.180.204.13'));
    rewritePort(frame, out, 2, 8080);
    expect(parseFrame(frame).checksum).toBe('ok');
    rewriteIpv4Address(frame, out, 16, parseIPv4('10.180.204.252'));
    rewritePort(frame, out, 2, 80);
    expect(Array.from(frame)).toEqual(Array.from(orig));
  });

  it('refuses edits on the wrong layer', () => {
    const arp = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '52:54:00:aa:00:64', arp: { op: 1, senderMac: '52:54:00:aa:00:64', senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.2' } });
    decoder.decode(arp, out);
    expect(() => rewriteIpv4Address(arp, out, 16, 1)).toThrow(/not an IPv4 frame/);
    expect(() => rewritePort(arp, out, 2, 1)).toThrow(FrameEditError);
    expect(() => rewriteIpv6Address(arp, out, 8, parseIPv6('::1'))).toThrow(/not an IPv6/);
  });
});

describe('offload-partial checksums', () => {
  it('are completed exactly when l4ChecksumStatus says partial, whatever the stored value', () => {
    const kinds = A.frameSpecArb.filter((s) => !!(s.tcp || s.udp || s.icmp) && !!(s.ipv4 || s.ipv6));
    // The stored value: the correct one, the folded pseudo-header sum, 0, 0xffff, or anything.
    fc.assert(
      fc.property(kinds, fc.constantFrom('good', 'pseudo', 'zero', 'ones', 'any'), fc.integer({ min: 0, max: 0xffff }), (spec, pick, any) => {
        const frame = buildFrame({ ...spec, padTo: 0 });
        decoder.decode(frame, out);
        if (out.status !== 0 || out.l4Offset < 0) return;
        const at = out.l4Offset + (out.ipProto === 6 ? 16 : out.ipProto === 17 ? 6 : 2);
        const pseudo = out.ipProto === 1 ? 0 : out.l3 === L3.IPV4
          ? pseudoHeaderSumV4(out.ipSrc, out.ipDst, out.ipProto, out.l4Length)
          : pseudoHeaderSumV6(frame, out.l3Offset + 8, out.l3Offset + 24, out.ipProto, out.l4Length);
        const v = pick === 'good' ? -1 : pick === 'pseudo' ? foldSum(pseudo) : pick === 'zero' ? 0 : pick === 'ones' ? 0xffff : any;
        if (v >= 0) {
          frame[at] = v >> 8;
          frame[at + 1] = v & 0xff;
        }
        const before = frame.slice();
        const partial = l4ChecksumStatus(frame, out) === 'partial';
        expect(completeOffloadChecksum(frame, out)).toBe(partial);
        if (!partial) expect(Array.from(frame)).toEqual(Array.from(before));
        else expect(l4ChecksumStatus(frame, out)).toBe('ok');
      }),
      { numRuns: 1000 },
    );
  });

  it('a pseudo-header sum that folds to 0xffff is stored as 0 and completed', () => {
    // The source address chosen so the pseudo-header sum folds to 0xffff: the one case where a partial checksum
    // is stored as the other zero.
    const spec = (src: string) => ({ dst: '52:54:00:aa:00:01', src: '52:54:00:aa:00:02', ipv4: { src, dst: '10.180.204.252' }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x10, seq: 1, ack: 1 } });
    const base = buildFrame(spec('0.0.0.0'));
    decoder.decode(base, out);
    const x = 0xffff - foldSum(pseudoHeaderSumV4(0, out.ipDst, 6, out.l4Length));
    const frame = buildFrame(spec(`0.0.${x >> 8}.${x & 0xff}`));
    decoder.decode(frame, out);
    expect(foldSum(pseudoHeaderSumV4(out.ipSrc, out.ipDst, 6, out.l4Length))).toBe(0xffff);
    const good = frame.slice();
    frame[out.l4Offset + 16] = 0;
    frame[out.l4Offset + 17] = 0;
    expect(l4ChecksumStatus(frame, out)).toBe('partial');
    expect(completeOffloadChecksum(frame, out)).toBe(true);
    expect(Array.from(frame)).toEqual(Array.from(good));
  });

  it('are completed as the NIC would, after which rewrites keep them valid', () => {
    const kinds = A.frameSpecArb.filter((s) => !!(s.tcp || s.udp) && !!(s.ipv4 || s.ipv6));
    fc.assert(
      fc.property(kinds, A.u32Arb, (spec, dst) => {
        const frame = buildFrame({ ...spec, padTo: 0 });
        decoder.decode(frame, out);
        expect(l4ChecksumStatus(frame, out)).toBe('ok');
        expect(completeOffloadChecksum(frame, out)).toBe(false);
        const good = frame.slice();
        // Make it partial: the folded pseudo-header sum, as Linux leaves it for the NIC.
        const at = out.l4Offset + (out.ipProto === 6 ? 16 : 6);
        const pseudo = out.l3 === L3.IPV4
          ? pseudoHeaderSumV4(out.ipSrc, out.ipDst, out.ipProto, out.l4Length)
          : pseudoHeaderSumV6(frame, out.l3Offset + 8, out.l3Offset + 24, out.ipProto, out.l4Length);
        const partial = foldSum(pseudo);
        frame[at] = partial >> 8;
        frame[at + 1] = partial & 0xff;
        expect(l4ChecksumStatus(frame, out)).toBe('partial');
        expect(completeOffloadChecksum(frame, out)).toBe(true);
        expect(Array.from(frame)).toEqual(Array.from(good));
        if (out.l3 === L3.IPV4) {
          rewriteIpv4Address(frame, out, 16, dst);
          expect(l4ChecksumStatus(frame, out)).toBe('ok');
        }
      }),
      { numRuns: 300 },
    );
  });
});

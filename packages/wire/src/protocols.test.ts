import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArpView, emitArp, parseArp } from './arp.js';
import { emitEthernet, EthernetView, parseEthernet, ethernetHeaderLength } from './ethernet.js';
import { emitIcmp, IcmpView, parseIcmp } from './icmp.js';
import { emitIpv4, Ipv4View, parseIpv4, ipv4HeaderLength } from './ipv4.js';
import { emitIpv6, Ipv6View, parseIpv6, ipv6HeaderLength } from './ipv6.js';
import { emitNdp, ndpLength, parseNdp } from './ndp.js';
import { emitTcp, parseTcp, tcpLength, TcpView } from './tcp.js';
import { emitUdp, parseUdp, UdpView } from './udp.js';
import { buildFrame, parseFrame } from './frame.js';
import { MalformedFrameError } from './errors.js';
import { verifyL4Checksum } from './checksum.js';
import * as A from './arbitraries.test-helpers.js';

const runs = { numRuns: 300 };

describe('parse(emit(x)) = x for every protocol', () => {
  it('Ethernet with tag stacks', () => {
    fc.assert(
      fc.property(A.macArb, A.macArb, fc.array(A.vlanTagArb, { maxLength: 4 }), fc.integer({ min: 0x600, max: 0xffff }).filter((t) => t !== 0x8100 && t !== 0x88a8 && t !== 0x9100), (dst, src, vlans, ethertype) => {
        const repr = { dst, src, vlans, ethertype };
        const buf = new Uint8Array(ethernetHeaderLength(repr));
        emitEthernet(repr, buf);
        expect(parseEthernet(EthernetView.checked(buf))).toEqual(repr);
      }),
      runs,
    );
  });

  it('ARP', () => {
    fc.assert(
      fc.property(A.arpArb, (repr) => {
        const buf = new Uint8Array(28);
        emitArp(repr, buf, 0);
        expect(parseArp(ArpView.checked(buf, 0))).toEqual(repr);
      }),
      runs,
    );
  });

  it('IPv4 with options, and its header checksum verifies', () => {
    fc.assert(
      fc.property(A.ipv4Arb_, (repr) => {
        const buf = new Uint8Array(ipv4HeaderLength(repr) + repr.payloadLength);
        emitIpv4(repr, buf, 0);
        const view = Ipv4View.checked(buf, 0);
        expect(view.checksumValid).toBe(true);
        expect(parseIpv4(view)).toEqual(repr);
      }),
      runs,
    );
  });

  it('IPv6 with extension headers', () => {
    fc.assert(
      fc.property(A.ipv6Arb, A.ipv6Arb, fc.array(A.ipv6ExtArb, { maxLength: 4 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xfffff }), fc.integer({ min: 0, max: 100 }), (src, dst, extensions, tc, flow, payloadLength) => {
        // Only the last extension may be a fragment header of offset 0; any is allowed. Protocol 59: no next header.
        const repr = { trafficClass: tc, flowLabel: flow, hopLimit: 64, src, dst, extensions, protocol: 59, payloadLength };
        const buf = new Uint8Array(ipv6HeaderLength(repr) + payloadLength);
        emitIpv6(repr, buf, 0);
        const parsed = parseIpv6(Ipv6View.checked(buf, 0));
        // emit rewrites each extension's next-header byte to chain; compare with that applied.
        const chained = extensions.map((e, i) => {
          const data = e.data.slice();
          data[0] = i + 1 < extensions.length ? extensions[i + 1]!.type : 59;
          return { type: e.type, data };
        });
        expect(parsed).toEqual({ ...repr, extensions: chained });
      }),
      runs,
    );
  });

  it('TCP with options and payload, checksum over the pseudo-header', () => {
    fc.assert(
      fc.property(A.tcpArb, fc.integer({ min: 0, max: 0x3ffff }), (repr, pseudo) => {
        const buf = new Uint8Array(tcpLength(repr));
        emitTcp(repr, buf, 0, pseudo);
        expect(parseTcp(TcpView.checked(buf, 0, buf.length))).toEqual(repr);
        expect(verifyL4Checksum(buf, 0, buf.length, 16, pseudo)).toBe('ok');
      }),
      runs,
    );
  });

  it('UDP', () => {
    fc.assert(
      fc.property(A.portArb, A.portArb, fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 0x3ffff }), (srcPort, dstPort, payload, pseudo) => {
        const repr = { srcPort, dstPort, payload };
        const buf = new Uint8Array(8 + payload.length);
        emitUdp(repr, buf, 0, pseudo);
        expect(parseUdp(UdpView.checked(buf, 0, buf.length))).toEqual(repr);
        expect(verifyL4Checksum(buf, 0, buf.length, 6, pseudo)).toBe('ok');
      }),
      runs,
    );
  });

  it('ICMP', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 64 }), (type, code, body) => {
        const buf = new Uint8Array(4 + body.length);
        emitIcmp({ type, code, body }, buf, 0);
        expect(parseIcmp(IcmpView.checked(buf, 0, buf.length))).toEqual({ type, code, body });
        expect(verifyL4Checksum(buf, 0, buf.length, 2, 0)).toBe('ok');
      }),
      runs,
    );
  });

  it('NDP NS/NA with options', () => {
    fc.assert(
      fc.property(A.ndpArb, (repr) => {
        const buf = new Uint8Array(ndpLength(repr));
        emitNdp(repr, buf, 0);
        expect(parseNdp(buf, 0, buf.length)).toEqual(repr);
      }),
      runs,
    );
  });

  it('whole frames: parseFrame(buildFrame(spec)) carries every layer and checksums verify', () => {
    fc.assert(
      fc.property(A.frameSpecArb, (spec) => {
        const frame = buildFrame(spec);
        const parsed = parseFrame(frame);
        expect(parsed.eth.dst).toBe(spec.dst);
        expect(parsed.eth.vlans.map((v) => v.vid)).toEqual((spec.vlans ?? []).map((v) => (typeof v === 'number' ? v : v.vid)));
        if (spec.arp) expect(parsed.arp).toEqual(spec.arp);
        if (spec.ipv4) expect(parsed.ipv4).toMatchObject(spec.ipv4);
        if (spec.ipv6) expect(parsed.ipv6).toMatchObject({ src: spec.ipv6.src, dst: spec.ipv6.dst });
        if (spec.tcp) expect(parsed.tcp).toEqual(spec.tcp);
        if (spec.udp) expect(parsed.udp).toEqual(spec.udp);
        if (spec.icmp) expect(parsed.icmp).toEqual(spec.icmp);
        if (spec.ndp) expect(parsed.ndp).toEqual(spec.ndp);
        if (!spec.arp) expect(parsed.checksum).toBe('ok');
        expect(frame.length).toBeGreaterThanOrEqual(spec.padTo ?? 0);
      }),
      runs,
    );
  });
});

describe('malformed input', () => {
  it('every truncation of a valid frame either parses or throws MalformedFrameError — nothing else', () => {
    fc.assert(
      fc.property(A.frameSpecArb, fc.nat(), (spec, cut) => {
        const frame = buildFrame({ ...spec, padTo: 0 });
        const short = frame.subarray(0, cut % (frame.length + 1));
        try {
          parseFrame(short);
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedFrameError);
          const err = e as MalformedFrameError;
          expect(err.offset).toBeGreaterThanOrEqual(0);
          expect(err.offset).toBeLessThanOrEqual(frame.length);
          expect(err.code).toBe('MALFORMED_FRAME');
        }
      }),
      runs,
    );
  });

  it('a truncated frame never parses as a complete one (no silently wrong values)', () => {
    fc.assert(
      fc.property(A.frameSpecArb.filter((s) => !s.arp), (spec) => {
        const frame = buildFrame({ ...spec, padTo: 0 });
        expect(() => parseFrame(frame.subarray(0, frame.length - 1))).toThrow(MalformedFrameError);
      }),
      runs,
    );
  });

  it('names layer, offset and reason', () => {
    const frame = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { srcPort: 1, dstPort: 2 } });
    frame[18] = 0x44; // IHL 4 words: below the minimum
    const err = (() => {
      try {
        parseFrame(frame);
      } catch (e) {
        return e as MalformedFrameError;
      }
      throw new Error('expected a MalformedFrameError');
    })();
    expect(err.layer).toBe('ipv4');
    expect(err.offset).toBe(18);
    expect(err.message).toMatch(/header length 16 below 20/);
  });

  it('zero-length NDP option is rejected as RFC 4861 requires', () => {
    const body = new Uint8Array(32);
    body[0] = 135;
    body[24] = 1;
    body[25] = 0;
    expect(() => parseNdp(body, 0, 32)).toThrow(/option length 0/);
  });

  it('Ethernet padding after the IP datagram is not read as payload', () => {
    const frame = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { srcPort: 1, dstPort: 2 }, padTo: 80 });
    const parsed = parseFrame(frame);
    expect(parsed.tcp!.payload.length).toBe(0);
    expect(parsed.trailerLength).toBe(80 - 54);
  });
});

/**
 * Properties of the conntrack engine over generated addresses, ports, conversations and times.
 * Seeds: fast-check prints the seed and the shrunk counterexample of any failure; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodedFrame, FrameDecoder, foldSum, formatIPv4, parseIPv4, read16, rewriteIpv4Address, rewritePort, write16 } from '@vippath/wire';
import { CtState } from '../lflow/ct-api.js';
import { CtReason } from './constants.js';
import { OvsConntrack } from './engine.js';
import { checksumsOk, F, frame, icmpError, innerTupleOf, Runner, tupleOf, tupleView } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, ...(SEED !== undefined ? { seed: SEED } : {}) });

const ip4 = fc.integer({ min: 0x0a000001, max: 0x0affffff }).map(formatIPv4);
const port = fc.integer({ min: 1, max: 65535 });
const proto = fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp');

/** `f` rewritten as OVS's NAT does, field by field (wire's RFC 1624 rewrites): addresses, then ports. */
function byFields(f: Uint8Array, src: string, dst: string, sport: number, dport: number): Uint8Array {
  const g = f.slice();
  const dd = new DecodedFrame();
  new FrameDecoder().decode(g, dd);
  rewriteIpv4Address(g, dd, 12, parseIPv4(src));
  rewriteIpv4Address(g, dd, 16, parseIPv4(dst));
  rewritePort(g, dd, 0, sport);
  rewritePort(g, dd, 2, dport);
  return g;
}

describe('OvsConntrack properties', () => {
  it('a reply to a committed DNAT connection is un-NATed to the original destination (and checksums hold)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(ip4, { minLength: 3, maxLength: 3 }), port, port, port, proto, fc.integer({ min: 0, max: 65535 }), (addrs, cport, vport, bport, p, zone) => {
        const [c, v, b] = addrs as [string, string, string];
        const r = new Runner();
        const f = frame({ src: c, dst: v, proto: p, sport: cport, dport: vport, flags: F.SYN });
        expect(r.run(f, { zone, commit: true, dnat: `${b}:${bport}` }) & CtState.DNAT).toBe(CtState.DNAT);
        const fwd = tupleOf(f);
        expect(fwd.dst).toBe(b);
        expect(fwd.dport).toBe(bport);
        const reply = frame({ src: b, dst: c, proto: p, sport: bport, dport: fwd.sport, flags: F.SYN | F.ACK, seq: 77, ack: 1001 });
        const st = r.run(reply, { zone, nat: 'apply' });
        expect(st & (CtState.EST | CtState.RPL)).toBe(CtState.EST | CtState.RPL);
        expect(tupleOf(reply)).toEqual({ src: v, dst: c, sport: vport, dport: cport });
        expect(checksumsOk(f) && checksumsOk(reply)).toBe(true);
      }),
      params(300),
    );
  });

  // The engine rewrites an IPv4 TCP packet of a NATed connection with checksum adjustments summed once at commit
  // (engine.ts natTcp4); these must be the bytes OVS's field-by-field updates give (packet_set_ipv4_addr, then
  // packet_set_tcp_port: RFC 1624 per field, a field left alone untouched) — here wire's rewrites, field by field.
  // Backends whose address is the VIP's with its 16-bit halves swapped make the address's adjustment a ones'
  // complement zero (0xffff), which the reply's negated sum cannot carry: the engine must fall back there (visible
  // only for a checksum field that arrives as 0xffff: the next property).
  it('NATed TCP packets, both directions, are the field-by-field RFC 1624 rewrite byte for byte', () => {
    const addr = fc.integer({ min: 1, max: 0xfffffffe });
    fc.assert(
      fc.property(
        addr,
        addr,
        addr,
        fc.boolean(),
        port,
        port,
        port,
        fc.constantFrom<'dnat' | 'snat'>('dnat', 'snat'),
        fc.constantFrom(0, 1, 16),
        fc.integer({ min: 0, max: 0xffffffff }),
        (ca, va, ba, swapped, cport, vport, bport, kind, range, seq) => {
          const bn = swapped ? ((va << 16) | (va >>> 16)) >>> 0 : ba;
          const [c, v, b] = [formatIPv4(ca), formatIPv4(va), formatIPv4(bn)];
          if (c === v || v === b || c === b) return;
          const r = new Runner();
          const target = `${b}:${bport}${range ? `-${Math.min(65535, bport + range)}` : ''}`;
          const syn = frame({ src: c, dst: v, proto: 'tcp', sport: cport, dport: vport, flags: F.SYN, seq });
          const sent = syn.slice();
          expect(r.run(syn, { zone: 3, commit: true, [kind]: target }) & (CtState.DNAT | CtState.SNAT)).not.toBe(0);
          const [conn] = r.ct.connections(0);
          const rep = conn!.reply;
          // Original direction: the reply tuple read backwards.
          expect(syn).toEqual(byFields(sent, rep.dst, rep.src, rep.dport, rep.sport));
          const ack = frame({ src: c, dst: v, proto: 'tcp', sport: cport, dport: vport, flags: F.ACK, seq: (seq + 1) >>> 0, ack: 5001, payload: 7 });
          const ackSent = ack.slice();
          expect(r.run(ack, { zone: 3, nat: 'apply' }) & CtState.INV).toBe(0);
          expect(ack).toEqual(byFields(ackSent, rep.dst, rep.src, rep.dport, rep.sport));
          // Reply direction: back to the original tuple, reversed.
          const back = frame({ src: rep.src, dst: rep.dst, proto: 'tcp', sport: rep.sport, dport: rep.dport, flags: F.SYN | F.ACK, seq: 5000, ack: (seq + 1) >>> 0 });
          const backSent = back.slice();
          expect(r.run(back, { zone: 3, nat: 'apply' }) & CtState.RPL).toBe(CtState.RPL);
          expect(back).toEqual(byFields(backSent, v, c, vport, cport));
          expect(checksumsOk(syn) && checksumsOk(ack) && checksumsOk(back)).toBe(true);
        },
      ),
      params(400),
    );
  });

  // The reply's negated sums differ from the field-by-field rewrite only in which zero a checksum ends as, and only
  // for a reply whose checksum field arrives as 0xffff — the other zero, which verifies as well as 0 but which no
  // RFC 1071 computation or RFC 1624 update makes (a sender's choice). natTcp4 must refuse a reply whose IP sum is
  // 0 (NAT keeps the address: a port-only rule) or 0xffff (the new address is the old with its halves swapped), and
  // whose TCP sum is 0xffff (the port change cancels the address's); a TCP sum of 0 implies an IP sum of 0.
  // Both ways: execute's (handleNat → natTcp4) and the hinted IPv4 TCP path's, which has natTcp4's steps written out
  // (engine.ts hintedTcp4): the reply there through a hint naming its node.
  it('a reply whose checksum fields are 0xffff is the field-by-field rewrite byte for byte, whichever sums are ±0', () => {
    const proto = OvsConntrack.prototype as unknown as { hintedTcp4(...a: unknown[]): boolean };
    const inner = proto.hintedTcp4;
    let hintedTaken = 0;
    proto.hintedTcp4 = function (this: OvsConntrack, ...a: unknown[]): boolean {
      const r = inner.apply(this, a);
      if (r) hintedTaken++;
      return r;
    };
    // The checksum at `at` made 0xffff: the 16-bit field `adj` it covers (the IP ID, the TCP urgent pointer without
    // URG) moved so that the computed checksum is 0, then the other zero stored.
    const otherZero = (f: Uint8Array, at: number, adj: number): void => {
      write16(f, adj, foldSum(read16(f, adj) + read16(f, at)));
      write16(f, at, 0xffff);
    };
    const addr = fc.integer({ min: 0x0a000001, max: 0xfffffffe });
    fc.assert(
      fc.property(
        addr,
        addr,
        addr,
        port,
        port,
        port,
        fc.constantFrom<'dnat' | 'snat'>('dnat', 'snat'),
        fc.constantFrom<'keep' | 'swap' | 'cancel' | 'any'>('keep', 'swap', 'cancel', 'any'),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (ca, va, ta, cport, vport, tport, kind, shape, ipZero, tcpZero, hinted) => {
          // The address and port NAT replaces: DNAT the VIP's, SNAT the client's.
          const [oa, op] = kind === 'dnat' ? [va, vport] : [ca, cport];
          const na = shape === 'keep' ? oa : shape === 'swap' ? ((oa << 16) | (oa >>> 16)) >>> 0 : ta;
          let np = tport;
          if (shape === 'cancel') {
            // The port whose change cancels the address's in the TCP sum (ones' complement: ≡ 0 mod 0xffff).
            const a = na === oa ? 0 : (~(oa >>> 16) & 0xffff) + (~oa & 0xffff) + (na >>> 16) + (na & 0xffff);
            np = 0xffff - (foldSum(a + (~op & 0xffff)) % 0xffff) || 0xffff;
          }
          const [c, v, t] = [formatIPv4(ca), formatIPv4(va), formatIPv4(na)];
          if (ca === va || (kind === 'dnat' ? na === ca : na === va)) return;
          const r = new Runner();
          const syn = frame({ src: c, dst: v, proto: 'tcp', sport: cport, dport: vport, flags: F.SYN, seq: 1000 });
          expect(r.run(syn, { zone: 3, commit: true, [kind]: `${t}:${np}` }) & (CtState.DNAT | CtState.SNAT)).not.toBe(0);
          const [conn] = r.ct.connections(0);
          const rep = conn!.reply;
          const back = frame({ src: rep.src, dst: rep.dst, proto: 'tcp', sport: rep.sport, dport: rep.dport, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
          if (ipZero) otherZero(back, 14 + 10, 14 + 4);
          if (tcpZero) otherZero(back, 34 + 16, 34 + 18);
          expect(checksumsOk(back)).toBe(true);
          const sent = back.slice();
          expect(r.run(back, { zone: 3, nat: 'apply' }) & (CtState.RPL | CtState.INV)).toBe(CtState.RPL);
          expect(back).toEqual(byFields(sent, v, c, vport, cport));
          if (hinted) {
            // The server's next segment, its checksum fields made the same way, through the hinted path: the hint is
            // the reply node the SYN|ACK's lookup found.
            r.hint = [r.ct.foundNode, r.ct.foundGen, r.ct.epoch];
            r.hintTuple = tupleView(r.res);
            r.fresh = true;
            const next = frame({ src: rep.src, dst: rep.dst, proto: 'tcp', sport: rep.sport, dport: rep.dport, flags: F.ACK, seq: 5001, ack: 1001 });
            if (ipZero) otherZero(next, 14 + 10, 14 + 4);
            if (tcpZero) otherZero(next, 34 + 16, 34 + 18);
            const sentNext = next.slice();
            expect(r.run(next, { zone: 3, nat: 'apply' }) & (CtState.RPL | CtState.INV)).toBe(CtState.RPL);
            expect(next).toEqual(byFields(sentNext, v, c, vport, cport));
          }
        },
      ),
      params(600),
    );
    proto.hintedTcp4 = inner;
    expect(hintedTaken).toBeGreaterThan(150);
  });

  // OVS forgets the connection a packet remembers from its previous ct() (`pkt->md.conn`, which process_one_fast
  // answers from) when an action changes its addresses or ports (lib/packets.c packet_set_ipv4_addr,
  // packet_set_tcp_port, …: pkt_metadata_init_conn; engine.ts sameTuple) — test/ct-ovs.test.ts ("a rewrite between
  // two ct() of one zone") runs it against ovs-vswitchd 3.1. So a caller's checksum-correct rewrite between a
  // packet's ct() and its ct(nat) in one zone makes the second call look the rewritten packet up; with one field of
  // a connection's tuple changed it is no connection's: not established, not translated, left as it is. (This test
  // once accepted the engine's answer from the remembered connection, a NAT of the rewritten packet; OVS gives none.)
  // A rewrite to the field's own value changes nothing: the connection answers, its NAT the field-by-field rewrite
  // (each field from its present value to the key's: the address NAT translates, SNAT's source or DNAT's
  // destination, and both ports).
  it("a caller's rewrite between a ct() and a ct(nat) in its zone: the rewritten packet is looked up, an unchanged one NATed", () => {
    const decoder = new FrameDecoder();
    const dd = new DecodedFrame();
    const get = (f: Uint8Array, field: number): number => {
      decoder.decode(f, dd);
      return field === 0 ? dd.ipSrc : field === 1 ? dd.ipDst : field === 2 ? dd.srcPort : dd.dstPort;
    };
    const set = (f: Uint8Array, field: number, v: number): void => {
      decoder.decode(f, dd);
      if (field < 2) rewriteIpv4Address(f, dd, field === 0 ? 12 : 16, v);
      else rewritePort(f, dd, field === 2 ? 0 : 2, v & 0xffff || 1);
    };
    let changed = 0;
    let unchanged = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(ip4, { minLength: 3, maxLength: 3 }),
        port,
        port,
        port,
        fc.constantFrom<'dnat' | 'snat'>('dnat', 'snat'),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        fc.oneof(fc.constant<'same'>('same'), fc.integer({ min: 1, max: 0xffffffff })),
        (addrs, cport, vport, bport, kind, replyDir, field, value) => {
          const [c, v, b] = addrs as [string, string, string];
          const r = new Runner();
          const syn = frame({ src: c, dst: v, proto: 'tcp', sport: cport, dport: vport, flags: F.SYN, seq: 1000 });
          r.run(syn, { zone: 3, commit: true, [kind]: `${b}:${bport}` });
          const [conn] = r.ct.connections(0);
          const { orig: org, reply: rep } = conn!;
          // A second packet in either direction, as it arrives (untranslated).
          const pkt = replyDir
            ? frame({ src: rep.src, dst: rep.dst, proto: 'tcp', sport: rep.sport, dport: rep.dport, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 })
            : frame({ src: org.src, dst: org.dst, proto: 'tcp', sport: org.sport, dport: org.dport, flags: F.ACK, seq: 1001, ack: 5001, payload: 5 });
          r.res.reset();
          expect(r.call(pkt, { zone: 3 }) & (CtState.EST | CtState.INV)).toBe(CtState.EST);
          const sent = pkt.slice();
          set(pkt, field, value === 'same' ? get(pkt, field) : value);
          const before = pkt.slice();
          const st = r.call(pkt, { zone: 3, nat: 'apply' });
          if (JSON.stringify(tupleOf(before)) !== JSON.stringify(tupleOf(sent))) {
            changed++;
            expect(st & (CtState.EST | CtState.RPL | CtState.SNAT | CtState.DNAT)).toBe(0);
            expect(r.res.rewritten).toBe(false);
            expect(pkt).toEqual(before);
          } else {
            unchanged++;
            // The translated tuple: the other direction's key read backwards; NAT writes the one address it
            // translates and both ports (lib/conntrack.c nat_packet, pat_packet).
            expect(r.res.rewritten).toBe(true);
            const to = replyDir ? org : rep;
            const srcNat = (kind === 'snat') !== replyDir;
            const want = before.slice();
            decoder.decode(want, dd);
            if (srcNat) rewriteIpv4Address(want, dd, 12, parseIPv4(to.dst));
            else rewriteIpv4Address(want, dd, 16, parseIPv4(to.src));
            rewritePort(want, dd, 0, to.dport);
            rewritePort(want, dd, 2, to.sport);
            expect(pkt).toEqual(want);
          }
          expect(checksumsOk(pkt)).toBe(true);
        },
      ),
      params(400),
    );
    // Both kinds drawn (a count of 0 would make the property say nothing of one).
    expect(changed).toBeGreaterThan(0);
    expect(unchanged).toBeGreaterThan(0);
  });

  it('est only after both directions were seen (UDP/ICMP, any order of packets)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }), fc.constantFrom<'udp' | 'icmp'>('udp', 'icmp'), (dirs, p) => {
        const r = new Runner();
        const out = frame({ src: '10.0.0.1', dst: '10.0.0.2', proto: p, sport: 1000, dport: 2000, icmpType: 8 });
        const back = frame({ src: '10.0.0.2', dst: '10.0.0.1', proto: p, sport: 2000, dport: 1000, icmpType: 0 });
        r.run(out.slice(), { commit: true });
        let replied = false;
        for (const isReply of dirs) {
          const st = r.run((isReply ? back : out).slice(), {});
          if (isReply) replied = true;
          expect((st & CtState.EST) !== 0).toBe(replied);
          expect((st & CtState.RPL) !== 0).toBe(isReply);
          expect((st & CtState.NEW) !== 0).toBe(!replied);
        }
      }),
      params(300),
    );
  });

  it('related ICMP errors round-trip through DNAT: the client sees its own packet inside', () => {
    fc.assert(
      fc.property(fc.uniqueArray(ip4, { minLength: 3, maxLength: 3 }), port, port, port, proto, fc.constantFrom(8, 20, 1000), (addrs, cport, vport, bport, p, embed) => {
        const [c, v, b] = addrs as [string, string, string];
        const r = new Runner();
        const f = frame({ src: c, dst: v, proto: p, sport: cport, dport: vport, flags: F.SYN, payload: 12 });
        r.run(f, { commit: true, dnat: `${b}:${bport}` });
        const err = icmpError(f, b, { embed });
        const st = r.run(err, { nat: 'apply' });
        expect(st & (CtState.REL | CtState.RPL | CtState.INV)).toBe(CtState.REL | CtState.RPL);
        expect(tupleOf(err)).toMatchObject({ src: v, dst: c });
        expect(innerTupleOf(err)).toEqual({ src: c, dst: v, sport: cport, dport: vport });
        expect(checksumsOk(err)).toBe(true);
      }),
      params(300),
    );
  });

  it('the table never exceeds its limit, nor a zone its limit; refusals are counted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 8 }),
        fc.array(fc.record({ zone: fc.integer({ min: 1, max: 4 }), sport: port, time: fc.integer({ min: 0, max: 200_000 }) }), { maxLength: 60 }),
        (max, zoneLimit, commits) => {
          const r = new Runner({ maxConnections: max, initialCapacity: 1, zoneLimits: { 2: zoneLimit }, sweepIntervalMs: 20_000 });
          let now = 0;
          let refused = 0;
          for (const c of commits) {
            now += c.time;
            r.now = now;
            const before = r.ct.counters[CtReason.TABLE_FULL]! + r.ct.counters[CtReason.ZONE_FULL]!;
            r.run(frame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', sport: c.sport, dport: 53 }), { zone: c.zone, commit: true });
            refused += r.ct.counters[CtReason.TABLE_FULL]! + r.ct.counters[CtReason.ZONE_FULL]! - before;
            expect(r.ct.size).toBeLessThanOrEqual(max);
            expect(r.ct.poolCapacity).toBeLessThanOrEqual(max);
            expect(r.ct.zoneSize(2)).toBeLessThanOrEqual(zoneLimit);
          }
          expect(refused).toBe(r.ct.counters[CtReason.TABLE_FULL]! + r.ct.counters[CtReason.ZONE_FULL]!);
        },
      ),
      params(200),
    );
  });

  it('expiry: a connection is found exactly while now < last refresh + its timeout', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 90_000 }), { minLength: 1, maxLength: 10 }), (gaps) => {
        const r = new Runner();
        const out = frame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', sport: 7, dport: 9 });
        r.run(out.slice(), { commit: true });
        // UDP (conntrack-other): 60 s after the first packet, 60 s while only the originator sends.
        let expires = 60_000;
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          r.now = now;
          const alive = now < expires;
          expect(r.ct.connections(now).length).toBe(alive ? 1 : 0);
          r.run(out.slice(), { commit: !alive });
          // Either refreshed (alive) or committed anew: 60 s from now.
          expires = now + 60_000;
        }
      }),
      params(300),
    );
  });
});

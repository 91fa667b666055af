// Growing the pool rebuilds the hash chains. Which connection a lookup finds when two live nodes hold the same key
// depends on the chain order, so a rebuild must keep it: the answers may not depend on `initialCapacity`.
import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { CtState } from '../lflow/ct-api.js';
import { CtReason } from './constants.js';
import { F, frame, Runner, tupleOf } from './packets.test-helpers.js';

const { EST, RPL, TRK, SNAT } = CtState;
const C = '10.0.0.1';
const V = '10.96.0.10';
const B = '10.1.0.5';

/**
 * A client's SYN to the VIP DNATed to B:8080, then the same client port straight to B:8080 (not NATed, so its
 * reply key B:8080→C:40000 equals the first connection's), then `fill` unrelated connections, then B's SYN-ACK.
 */
function duplicateReplyKey(initialCapacity: number, fill: number): { state: number; tuple: ReturnType<typeof tupleOf>; slots: number } {
  const r = new Runner({ initialCapacity });
  r.run(frame({ src: C, dst: V, proto: 'tcp', sport: 40000, dport: 80, flags: F.SYN, seq: 1000 }), { zone: 1, commit: true, dnat: `${B}:8080` });
  r.run(frame({ src: C, dst: B, proto: 'tcp', sport: 40000, dport: 8080, flags: F.SYN, seq: 1000 }), { zone: 1, commit: true });
  for (let i = 0; i < fill; i++) r.run(frame({ src: '10.0.9.9', dst: V, proto: 'tcp', sport: 1024 + i, dport: 80, flags: F.SYN, seq: 7 }), { zone: 1, commit: true });
  const synack = frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
  const state = r.run(synack, { zone: 1, nat: 'apply' });
  return { state, tuple: tupleOf(synack), slots: r.ct.poolCapacity };
}

describe('OvsConntrack: pool growth', () => {
  it('keeps the chain order: a key two connections share finds the same one with or without a grow', () => {
    for (const fill of [1, 3, 7, 40]) {
      const grown = duplicateReplyKey(2, fill);
      const roomy = duplicateReplyKey(1024, fill);
      expect(grown.slots).toBeGreaterThan(2);
      expect(roomy.slots).toBe(1024);
      expect(grown).toEqual({ ...roomy, slots: grown.slots });
    }
    // The newer connection (not NATed: no un-DNAT of the reply, which would read SNAT) answers, as before any grow.
    expect(duplicateReplyKey(1024, 1)).toMatchObject({ state: EST | RPL | TRK, tuple: { src: B, sport: 8080 } });
    expect(duplicateReplyKey(1024, 1).state & SNAT).toBe(0);
  });

  it('finds every connection after several grows', () => {
    const r = new Runner({ initialCapacity: 1 });
    const n = 300;
    for (let i = 0; i < n; i++) r.run(frame({ src: C, dst: V, proto: 'tcp', sport: 1024 + i, dport: 80, flags: F.SYN, seq: 1 }), { zone: 1, commit: true, dnat: `${B}:8080` });
    expect(r.ct.size).toBe(n);
    expect(r.ct.poolCapacity).toBe(512);
    for (let i = 0; i < n; i++) {
      const synack = frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 1024 + i, flags: F.SYN | F.ACK, seq: 9, ack: 2 });
      expect(r.run(synack, { zone: 1, nat: 'apply' })).toBe(EST | RPL | TRK | SNAT);
      expect(tupleOf(synack)).toEqual({ src: V, dst: C, sport: 80, dport: 1024 + i });
    }
  });

  // The rebuild walks the live list from its oldest connection: removing the oldest, the newest or ones between
  // (a zone flushed, entries expired and swept) must leave that walk every connection still live, and only them.
  it('finds every connection after removals at either end of the live list and a grow', () => {
    const syn = (i: number) => frame({ src: C, dst: V, proto: 'tcp', sport: 1024 + i, dport: 80, flags: F.SYN, seq: 1 });
    const found = (r: Runner, i: number): number => r.run(frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 1024 + i, flags: F.SYN | F.ACK, seq: 9, ack: 2 }), { zone: 1 + (i % 3), nat: 'apply' });
    for (const first of ['oldest', 'newest', 'zone', 'expired'] as const) {
      const r = new Runner({ initialCapacity: 8 });
      // Zone 1 + i % 3; the first four at time 0 (they expire first), the rest later.
      for (let i = 0; i < 8; i++) {
        r.now = i < 4 ? 0 : 20_000;
        r.run(syn(i), { zone: 1 + (i % 3), commit: true, dnat: `${B}:8080` });
      }
      const gone = new Set<number>();
      // Zones: 1 holds 0, 3, 6 (the oldest), 2 holds 1, 4, 7 (the newest), 3 holds 2, 5 (neither end).
      const zone = first === 'oldest' ? 1 : first === 'newest' ? 2 : 3;
      if (first === 'expired') {
        // TCP_FIRST_PACKET is 30 s: at 35 s the first four have expired, the later ones not.
        r.now = 35_000;
        expect(r.ct.sweep(r.now)).toBe(4);
        for (let i = 0; i < 4; i++) gone.add(i);
      } else {
        r.now = 25_000;
        r.ct.flush(zone);
        for (let i = 0; i < 8; i++) if (1 + (i % 3) === zone) gone.add(i);
      }
      // Grow past 8 slots (twice) with new connections, then every connection still live answers and the others do not.
      for (let i = 8; i < 30; i++) r.run(syn(i), { zone: 1 + (i % 3), commit: true, dnat: `${B}:8080` });
      expect(r.ct.poolCapacity, first).toBeGreaterThanOrEqual(32);
      for (let i = 0; i < 30; i++) expect(found(r, i), `${first}: connection ${i}`).toBe(gone.has(i) ? CtState.INV | TRK : EST | RPL | TRK | SNAT);
    }
  });
});

describe('OvsConntrack: flushing everything', () => {
  const synTo = (sport: number) => frame({ src: C, dst: V, proto: 'tcp', sport, dport: 80, flags: F.SYN, seq: 1000 });
  const synackFrom = (dport: number) => frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });

  it('leaves nothing to find, zone counts at zero, and a table that fills and grows again as new', () => {
    const r = new Runner({ initialCapacity: 4, zoneLimits: { 1: 50 }, defaultZoneLimit: 1000 });
    for (let i = 0; i < 40; i++) r.run(synTo(1024 + i), { zone: i % 2 ? 1 : 2, commit: true, dnat: `${B}:8080` });
    expect(r.ct.zoneLimit(1)!.count).toBe(20);
    expect(r.ct.zoneLimit(2)!.count).toBe(20);
    expect(r.ct.flush()).toBe(40);
    expect(r.ct.size).toBe(0);
    expect(r.ct.connections(0)).toEqual([]);
    expect(r.ct.zoneLimit(1)!.count).toBe(0);
    expect(r.ct.zoneLimit(2)!.count).toBe(0);
    expect(r.ct.counters[CtReason.FLUSHED]).toBe(40);
    // A reply to a flushed connection finds nothing (a SYN-ACK cannot start one).
    expect(r.run(synackFrom(1025), { zone: 1, nat: 'apply' })).toBe(CtState.INV | TRK);
    // Refill past the old size: every connection is found, counted, and un-NATs its reply.
    for (let i = 0; i < 70; i++) r.run(synTo(2000 + i), { zone: 1, commit: true, dnat: `${B}:8080` });
    expect(r.ct.size).toBe(50);
    expect(r.ct.zoneLimit(1)!.count).toBe(50);
    for (let i = 0; i < 50; i++) {
      const sa = synackFrom(2000 + i);
      expect(r.run(sa, { zone: 1, nat: 'apply' })).toBe(EST | RPL | TRK | SNAT);
      expect(tupleOf(sa)).toEqual({ src: V, dst: C, sport: 80, dport: 2000 + i });
    }
    expect(r.run(synackFrom(2050), { zone: 1, nat: 'apply' })).toBe(CtState.INV | TRK);
    expect(r.ct.formatDump(0, { zone: 1 })).toHaveLength(50);
  });

  it("drops the packet's cached connection: its next ct() looks the key up again", () => {
    const r = new Runner();
    const f = synTo(40000);
    r.res.reset();
    expect(r.call(f, { zone: 1, commit: true })).toBe(CtState.NEW | TRK);
    r.ct.flush();
    // The same packet's next ct() in the zone would reuse the connection it found; flushed, it is new again and
    // this commit creates it once more.
    expect(r.call(f, { zone: 1, commit: true })).toBe(CtState.NEW | TRK);
    expect(r.ct.size).toBe(1);
    const sa = frame({ src: V, dst: C, proto: 'tcp', sport: 80, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
    expect(r.run(sa, { zone: 1 })).toBe(EST | RPL | TRK);
  });
});

describe('OvsConntrack: growth keeps every slot whole', () => {
  // Every per-slot store — keys, IPv6 words, labels, marks, TCP peers, live list, zone counts — must come through
  // each growth: within the reserved slots (no copy), past them (copied into larger arrays), and the first growth
  // (which allocates the reservation). Three engines take the same 300 commits: one that grows past a reservation
  // of 4 slots, one with the default reservation, one that never grows; their dumps must agree after every batch.
  const commitAll = (r: Runner, from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const sport = 1024 + i;
      const call = { zone: 1 + (i % 3), commit: true, mark: [i, 0xffffffff] as [number, number], label: [[i, 0, i * 7, 1], [0xffffffff, 0, 0xffffffff, 1]] as [number[], number[]] };
      if (i % 3 === 0) r.run(frame({ src: C, dst: V, proto: 'tcp', sport, dport: 80, flags: F.SYN, seq: i, wscale: 7 }), { ...call, dnat: `${B}:8080` });
      else if (i % 3 === 1) r.run(frame({ src: 'fd00::1', dst: 'fd00::2', proto: 'tcp', sport, dport: 443, flags: F.SYN, seq: i }), { ...call, snat: '[fd00::99]' });
      else r.run(frame({ src: C, dst: '10.0.0.2', proto: 'udp', sport, dport: 53 }), i % 2 ? call : { zone: call.zone, commit: true });
    }
  };

  it('dumps, states and zone counts equal with and without growth, within and past the reservation', () => {
    const opts = { zoneLimits: { 1: 1000 }, defaultZoneLimit: 1000 };
    const past = new Runner({ ...opts, initialCapacity: 1, reservedCapacity: 4 });
    const reserved = new Runner({ ...opts, initialCapacity: 1 });
    const roomy = new Runner({ ...opts, initialCapacity: 1024 });
    const all = [past, reserved, roomy];
    for (const [from, to] of [[0, 1], [1, 3], [3, 5], [5, 9], [9, 40], [40, 300]] as const) {
      for (const r of all) commitAll(r, from, to);
      const want = roomy.ct.formatDump(0, { stats: true });
      expect(want).toHaveLength(to);
      expect(past.ct.formatDump(0, { stats: true })).toEqual(want);
      expect(reserved.ct.formatDump(0, { stats: true })).toEqual(want);
    }
    expect(past.ct.poolCapacity).toBe(512);
    expect(reserved.ct.poolCapacity).toBe(512);
    // Each TCP connection's peers came through: the reply is established (and un-NATed) in every engine.
    for (let i = 0; i < 300; i += 3) {
      const states = all.map((r) => {
        const sa = frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 1024 + i, flags: F.SYN | F.ACK, seq: 9, ack: i + 1 });
        return [r.run(sa, { zone: 1 + (i % 3), nat: 'apply' }), tupleOf(sa), r.res.mark, [...r.res.label]];
      });
      expect(states[0]).toEqual([EST | RPL | TRK | SNAT, { src: V, dst: C, sport: 80, dport: 1024 + i }, i, [i, 0, i * 7, 1]]);
      expect(states[1]).toEqual(states[0]);
      expect(states[2]).toEqual(states[0]);
    }
    for (const r of all) expect([r.ct.zoneLimit(1)!.count, r.ct.zoneLimit(2)!.count]).toEqual([100, 200]);
    // The live list came through: one zone flushed from the middle of it (unlinking reads both neighbours), the
    // rest still dumped alike, then a sweep past every timeout removes them all and the zone counts drop to 0.
    for (const r of all) expect(r.ct.flush(2)).toBe(100);
    expect(past.ct.formatDump(0)).toEqual(roomy.ct.formatDump(0));
    expect(reserved.ct.formatDump(0)).toEqual(roomy.ct.formatDump(0));
    for (const r of all) {
      expect(r.ct.sweep(10_000_000)).toBe(200);
      expect([r.ct.size, r.ct.zoneLimit(1)!.count, r.ct.zoneLimit(2)!.count]).toEqual([0, 0, 0]);
    }
  });
});

describe('OvsConntrack: a reservation the allocator refuses', () => {
  it('grows by the doubled pool instead, and keeps every connection', () => {
    // 2^40 slots of address space cannot be had: the first growth falls back to 2 slots, then doubles as before.
    const r = new Runner({ initialCapacity: 1, maxConnections: 2 ** 40, reservedCapacity: 2 ** 40 });
    for (let i = 0; i < 20; i++) r.run(frame({ src: C, dst: V, proto: 'tcp', sport: 1024 + i, dport: 80, flags: F.SYN, seq: 1 }), { zone: 1, commit: true, dnat: `${B}:8080` });
    expect(r.ct.size).toBe(20);
    expect(r.ct.poolCapacity).toBe(32);
    expect(r.ct.counters[CtReason.TABLE_FULL]).toBe(0);
    for (let i = 0; i < 20; i++) {
      const sa = frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 1024 + i, flags: F.SYN | F.ACK, seq: 9, ack: 2 });
      expect(r.run(sa, { zone: 1, nat: 'apply' })).toBe(EST | RPL | TRK | SNAT);
    }
  });
});

describe('OvsConntrack: the reservation outside V8\'s external memory', () => {
  it('grows into a reservation V8 does not count as memory pressure', () => {
    // 2^18 slots are ≈ 35 MB of address space. V8 counts an ArrayBuffer's whole length as external memory at its
    // allocation and answers a large one with collections; a SharedArrayBuffer's it does not count (allocSlots).
    const slots = 2 ** 18;
    const before = getHeapStatistics().external_memory;
    const r = new Runner({ initialCapacity: 1, reservedCapacity: slots });
    for (let i = 0; i < 4; i++) r.run(frame({ src: C, dst: V, proto: 'tcp', sport: 1024 + i, dport: 80, flags: F.SYN, seq: 1 }), { zone: 1, commit: true, dnat: `${B}:8080` });
    expect(r.ct.poolCapacity).toBeGreaterThan(1);
    expect(r.ct.size).toBe(4);
    expect(getHeapStatistics().external_memory - before).toBeLessThan(slots * 16);
  });
});

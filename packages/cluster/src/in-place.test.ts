import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureCursor, Next } from '@vippath/pcap';
import { buildFrame, DecodedFrame, FrameDecoder, formatIPv6, L3, plainTcp4 } from '@vippath/wire';
import { DEFAULT_CLUSTER, defaultObjects } from './scenario.js';
import { Address6Counter, AddressCounter, FlowCounter } from './flow-count.js';
import { topN } from './replay.js';
import { SimulatedCluster } from './simulation.js';

const SEED = 20261202;

/** Frames of every kind the counter keys differently: IPv4 5-tuples, IPv6, ARP, tagged, cut short. */
const frameArb = fc.oneof(
  fc.record({ src: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffffffff })), sport: fc.integer({ min: 0, max: 3 }), vlan: fc.boolean() }).map(({ src, sport, vlan }) => buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', ...(vlan ? { vlans: [341] } : {}), ipv4: { src: `${src >>> 24}.${(src >>> 16) & 255}.${(src >>> 8) & 255}.${src & 255}`, dst: '10.180.204.252' }, tcp: { srcPort: sport, dstPort: 80, flags: 2 } })),
  fc.integer({ min: 0, max: 3 }).map((i) => buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', ipv6: { src: `fd00::${i}`, dst: 'fd00::fc' }, udp: { srcPort: 1, dstPort: 53 } })),
  fc.integer({ min: 0, max: 3 }).map((i) => buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: `52:54:00:aa:00:0${i}`, arp: { op: 1, senderMac: `52:54:00:aa:00:0${i}`, senderIp: '10.180.204.100', targetMac: '00:00:00:00:00:00', targetIp: '10.180.204.252' } })),
  fc.uint8Array({ minLength: 0, maxLength: 40 }),
);

describe('FlowCounter.addAt', () => {
  it(`counts a frame read where it lies in a larger buffer as add() counts its copy (seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(frameArb, fc.nat({ max: 9 }), fc.uint8Array({ maxLength: 9 }), fc.integer({ min: 0, max: 4 })), { maxLength: 40 }), (items) => {
        const copies = new FlowCounter();
        const inPlace = new FlowCounter();
        // The count as the general decoder keys frames (what addAt did before its plain-TCP fast lane).
        const reference = new Set<string>();
        const d = new DecodedFrame();
        for (const [frame, before, after, cut] of items) {
          // The frame between unrelated bytes (a capture chunk's other records), maybe shorter than its bytes.
          const length = Math.max(0, frame.length - cut);
          const buf = new Uint8Array(before + frame.length + after.length).fill(0xa5);
          buf.set(frame, before);
          buf.set(after, before + frame.length);
          const keep = buf.slice();
          copies.add(frame.slice(0, length));
          inPlace.addAt(buf, before, length);
          expect(buf).toEqual(keep);
          expect(inPlace.count).toBe(copies.count);
          new FrameDecoder().decode(frame, d, length);
          const ports = `${d.srcPort}/${d.dstPort}/${d.ipProto}`;
          if (d.l3 === L3.IPV6 && d.l3Offset + 40 <= length) reference.add(`6 ${Array.from(frame.subarray(d.l3Offset + 8, d.l3Offset + 40)).join('.')} ${ports}`);
          else if (d.l3 === L3.IPV4) reference.add(`4 ${d.ipSrc >>> 0} ${d.ipDst >>> 0} ${ports}`);
          else if (length >= 12) reference.add(`e ${Array.from(frame.subarray(0, 12)).join('.')} ${d.etherType}`);
          expect(inPlace.count).toBe(reference.size);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('keys a plain TCP frame by its 5-tuple: other ports and UDP between the same ends are other flows; a cut copy is the decoder\'s', () => {
    const tcp = (sport: number): Uint8Array => buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.181.0.1', dst: '10.180.204.252' }, tcp: { srcPort: sport, dstPort: 80, flags: 0x10, payload: new Uint8Array(8) } });
    const udp = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.181.0.1', dst: '10.180.204.252' }, udp: { srcPort: 1000, dstPort: 80 } });
    const c = new FlowCounter();
    for (const f of [tcp(1000), tcp(1000), tcp(1001), udp]) c.addAt(f, 0, f.length);
    expect(c.count).toBe(3);
    // Cut inside its payload, the frame is no longer the plain layout: the decoder takes it, and keys a frame it
    // cannot read to its end apart (no addresses or ports) — as before the fast lane, which must not take it.
    const cut = tcp(1001);
    c.addAt(cut, 0, cut.length - 4);
    expect(c.count).toBe(4);
    c.addAt(tcp(1002), 0, cut.length - 4);
    expect(c.count).toBe(4);
  });
});

describe('FlowCounter.addTcp4At and its table', () => {
  it(`counts thousands of flows exactly through the table's growth, keyed on all four words, whichever way they come in (seed ${SEED})`, () => {
    // Flows that differ in one word only — the client, the server, a port, the high bit of any — many enough to
    // double the table several times (1 024 slots at first), each met again later, in a shuffled order.
    const frameOf = (src: number, dst: number, sport: number, dport: number): Uint8Array =>
      buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: text(src), dst: text(dst) }, tcp: { srcPort: sport, dstPort: dport, flags: 0x10 } });
    const text = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 4 }), (seed, spread) => {
        const flows: Array<[number, number, number, number]> = [];
        for (let i = 0; i < 3000; i++) {
          const v = (seed + i * 0x9e3779b1) >>> 0;
          const kind = i % 4;
          flows.push([kind === 0 ? v : 0x0ab50000, kind === 1 ? v ^ 0x80000000 : 0x0ab4ccfc, kind === 2 ? (v & 0xffff) : 1000 + (i % spread), kind === 3 ? (v >>> 16) : 80]);
        }
        const c = new FlowCounter();
        const reference = new Set<string>();
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < flows.length; i++) {
            const [src, dst, sport, dport] = flows[(i * 7 + round * 13) % flows.length]!;
            const f = frameOf(src, dst, sport, dport);
            // Both ways of counting a plain frame: the replay's (layout checked by the caller) and addAt's.
            if ((i + round) % 2 === 0) c.addTcp4At(f, plainTcp4(f, f.length));
            else c.addAt(f, 0, f.length);
            reference.add(`${src} ${dst} ${sport} ${dport}`);
          }
          expect(c.count).toBe(reference.size);
        }
      }),
      { seed: SEED, numRuns: 4 },
    );
  });

  it('stops at its limit and says so, on the replay\'s way in too', () => {
    const c = new FlowCounter(3);
    for (let p = 0; p < 5; p++) {
      const f = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', vlans: [341], ipv4: { src: '10.181.0.1', dst: '10.180.204.252' }, tcp: { srcPort: 1000 + p, dstPort: 80, flags: 0x10 } });
      c.addTcp4At(f, plainTcp4(f, f.length));
    }
    expect(c.count).toBe(3);
    expect(c.capped).toBe(true);
  });
});

describe('AddressCounter', () => {
  it(`counts as a Map would, first seen first, capped at its limit, and ranks as topN does (seed ${SEED})`, () => {
    // Few distinct addresses (ties and repeats), across the whole unsigned range (2^30 and up boxed in a Map).
    const addr = fc.constantFrom(0, 1, 0x3fffffff, 0x40000000, 0x7fffffff, 0x80000000, 0xc0a80001, 0xfffffffe, 0xffffffff, 0x0ab4cc64);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(addr, { maxLength: 200 }), fc.integer({ min: 1, max: 12 }), (limit, seq, n) => {
        const c = new AddressCounter(limit);
        const m = new Map<number, number>();
        let capped = false;
        for (const a of seq) {
          c.add(a);
          const v = m.get(a);
          if (v !== undefined) m.set(a, v + 1);
          else if (m.size < limit) m.set(a, 1);
          else capped = true;
        }
        expect(c.size).toBe(m.size);
        expect(c.capped).toBe(capped);
        expect([...c.entries()]).toEqual([...m]);
        expect(topN(c.entries(), n)).toEqual(topN(m, n));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('takes signed addresses as their unsigned selves', () => {
    const c = new AddressCounter(4);
    c.add(-1);
    c.add(0xffffffff);
    expect([...c.entries()]).toEqual([[0xffffffff, 2]]);
  });
});

describe('Address6Counter', () => {
  it(`counts the 16 bytes where they lie as a Map of their text would, first seen first, capped, ranked as topN does (seed ${SEED})`, () => {
    // Addresses differing in one word each (a hash of fewer words would collide them all) and in the high bits.
    const word = fc.constantFrom(0, 1, 0x80000000, 0xffffffff, 0x0a0b0c0d);
    const addr = fc.tuple(word, word, word, word);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(addr, fc.nat(5)), { maxLength: 150 }), fc.integer({ min: 1, max: 12 }), (limit, seq, n) => {
        const c = new Address6Counter(limit);
        const m = new Map<string, number>();
        let capped = false;
        for (const [words, pad] of seq) {
          // The address at an offset in a larger buffer, bytes around it set, as in a frame.
          const buf = new Uint8Array(pad + 16 + 3).fill(0xee);
          const v = new DataView(buf.buffer);
          words.forEach((w, i) => v.setUint32(pad + i * 4, w));
          c.addAt(buf, pad);
          const text = formatIPv6(buf, pad);
          const k = m.get(text);
          if (k !== undefined) m.set(text, k + 1);
          else if (m.size < limit) m.set(text, 1);
          else capped = true;
        }
        expect(c.size).toBe(m.size);
        expect(c.capped).toBe(capped);
        expect([...c.entries()].map(([i, count]) => [c.format(i), count])).toEqual([...m]);
        expect(topN(c.entries(), n).map(([i, count]) => [c.format(i), count])).toEqual(topN(m, n));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('SimulatedCluster.fromClusterAt', () => {
  it('knows the node NICs and pods by the source MAC where the frame lies, nothing else', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const macs = [...DEFAULT_CLUSTER.nodes.map((n) => n.mac), ...sim.state.pods.map((p) => p.mac)];
    expect(macs.length).toBeGreaterThan(3);
    const frameFrom = (src: string): Uint8Array => buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src, arp: { op: 1, senderMac: src, senderIp: '10.180.204.1', targetMac: '00:00:00:00:00:00', targetIp: '10.180.204.2' } });
    for (const mac of macs) {
      const f = frameFrom(mac);
      const buf = new Uint8Array(f.length + 7);
      buf.set(f, 5);
      expect(sim.fromCluster(f)).toBe(true);
      expect(sim.fromClusterAt(buf, 5, f.length)).toBe(true);
      // Off by one byte: another MAC.
      expect(sim.fromClusterAt(buf, 4, f.length)).toBe(false);
      // A MAC sharing the upper or the lower half only.
      const [a, b] = [mac.slice(0, 9), mac.slice(9)];
      expect(sim.fromCluster(frameFrom(`${a}ff:ff:fe`))).toBe(false);
      expect(sim.fromCluster(frameFrom(`02:00:00:${b}`))).toBe(false);
    }
    expect(sim.fromCluster(frameFrom('52:54:00:aa:00:64'))).toBe(false);
    // Too short to hold a source MAC.
    expect(sim.fromClusterAt(new Uint8Array(20), 0, 11)).toBe(false);
  });
});

describe('SimulatedCluster.injectTransientAt', () => {
  it('gives what injectTransient gives for a copy, frame by frame, on every fixture capture (ingress outside and a node, caches on and off), leaving the capture\'s bytes alone (a Node Buffer, whose slice() is a view)', () => {
    const fixtures = new URL('../../../test/fixtures/', import.meta.url);
    const files = readdirSync(fixtures).filter((f) => /\.pcapn?g?$/.test(f));
    expect(files.length).toBeGreaterThan(5);
    let compared = 0;
    for (const file of files) {
      const bytes = readFileSync(new URL(file, fixtures));
      for (const [ingress, flowCache] of [['outside', true], ['outside', false], ['node3', true]] as const) {
        const copies = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache });
        const inPlace = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache });
        // processAt (the replay's path without outputs) on the same bytes: the same verdicts, the bytes untouched.
        const processed = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache });
        const cursor = new CaptureCursor();
        cursor.feed(bytes, true);
        let t0: number | undefined;
        while (cursor.next() === Next.RECORD) {
          if (cursor.linktype !== 1) continue;
          const ms = cursor.seconds * 1000 + cursor.nanos / 1e6;
          t0 ??= ms;
          const now = ms - t0;
          const keep = new Uint8Array(bytes);
          const a = copies.injectTransient(new Uint8Array(cursor.data), now, ingress);
          const seen = { verdict: a.verdict, outside: a.outside.map((f) => [...f]), delivered: a.delivered.map((d) => d.pod), drops: a.drops.map((d) => d.code) };
          const b = inPlace.injectTransientAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, now, ingress);
          expect({ verdict: b.verdict, outside: b.outside.map((f) => [...f]), delivered: b.delivered.map((d) => d.pod), drops: b.drops.map((d) => d.code) }).toEqual(seen);
          expect(Buffer.compare(bytes, keep)).toBe(0);
          if (ingress === 'outside') {
            expect(processed.processAt(cursor.buffer, cursor.dataOffset, cursor.captureLength, now)).toBe(seen.verdict);
            expect(Buffer.compare(bytes, keep)).toBe(0);
          }
          compared++;
        }
        expect(inPlace.stageCounts).toEqual(copies.stageCounts);
        expect([...inPlace.dropCounts]).toEqual([...copies.dropCounts]);
      }
    }
    expect(compared).toBeGreaterThan(100);
  }, 60_000);

  it('refuses a range outside the buffer with a coded error (BAD_FRAME_RANGE)', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    for (const [offset, length] of [[0, 61], [60, 1], [-1, 10], [0.5, 10], [0, Number.NaN]] as const) {
      expect(() => sim.injectTransientAt(new Uint8Array(60), offset, length, 0)).toThrow(expect.objectContaining({ code: 'BAD_FRAME_RANGE' }));
    }
  });
});

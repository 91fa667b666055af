/**
 * The pods' word forms against the byte forms they stand for (pods.ts): handle's destination check on the pod's MAC as
 * two numbers, against the six bytes compared; tcp4's fields written into the shared first-frame buffer as big-endian
 * words (REPLY0_VIEW), against the same reply written byte by byte — a pod's answer while another is held gets frames of
 * its own, written by ethernet, ipv4 and tcp, never from the template; a GET's response body copied into that buffer
 * four bytes a turn, against the byte pairs. The template side is handed its frames in reused arrays, so that both
 * MAC reads (the check, the reply's destination) also go through the pod's view of a frame array (PodHost.reqView).
 *
 * Seed: VIPPATH_PROPERTY_SEED (default: the clock, printed); runs: VIPPATH_PROPERTY_RUNS (default 200).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame, formatIPv4 } from '@vippath/wire';
import type { PodState } from './derive.js';
import { PodHost } from './pods.js';

const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.VIPPATH_PROPERTY_RUNS ?? 200);

const macText = (b: readonly number[]): string => b.map((x) => x.toString(16).padStart(2, '0')).join(':');
const podOf = (name: string, mac: readonly number[], ip: string): PodState => ({ name, namespace: 'default', node: 'node1', ip, mac: macText(mac), ready: true, labels: {}, lsp: name });
const hex = (r: Uint8Array[]): string[] => r.map((f) => Buffer.from(f).toString('hex'));
/**
 * Frames copied into one array per length, reused, as the switch hands a pod its output buffer frame after frame: from
 * the second frame in an array on, the pod reads its MACs through its view of that array (PodHost.reqView).
 */
const reuser = (): ((f: Uint8Array) => Uint8Array) => {
  const arrays = new Map<number, Uint8Array>();
  return (f) => {
    let a = arrays.get(f.length);
    // A view four bytes into a longer buffer, as the switch's lent frame is (its view must start where the frame does).
    if (a === undefined) arrays.set(f.length, (a = new Uint8Array(f.length + 8).subarray(4, 4 + f.length)));
    a.set(f);
    return a;
  };
};

// A unicast MAC (the group bit clear), every other bit free.
const unicastMac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => [b[0]! & 0xfe, ...b.slice(1)]);

describe('pods word forms', () => {
  it(`the destination check on the MAC as two numbers takes what the six bytes compared take (${runs} runs, seed ${seed})`, () => {
    console.log(`pods-words destination: ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
    // The destination: the pod's MAC, or it with one byte changed (each place, any other value, the group bit too), or
    // any six bytes.
    const dstArb = fc.oneof(
      fc.constant({ kind: 'same' as const, at: 0, to: 0, any: [0, 0, 0, 0, 0, 0] }),
      fc.record({ kind: fc.constant('one' as const), at: fc.integer({ min: 0, max: 5 }), to: fc.integer({ min: 1, max: 255 }), any: fc.constant([0, 0, 0, 0, 0, 0]) }),
      fc.record({ kind: fc.constant('any' as const), at: fc.constant(0), to: fc.constant(0), any: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }) }),
    );
    const counted = { taken: 0, refused: 0, group: 0, one: 0 };
    fc.assert(
      fc.property(unicastMac, fc.array(dstArb, { minLength: 1, maxLength: 8 }), fc.boolean(), (mac, dsts, reuse) => {
        const host = new PodHost(podOf('web-0.default', mac, '10.180.204.2'));
        // Frames in arrays of their own, or in one reused array (the check then reads the pod's view of it).
        const into = reuse ? reuser() : (f: Uint8Array): Uint8Array => f;
        let port = 40000;
        for (const c of dsts) {
          const dst = c.kind === 'same' ? mac.slice() : c.kind === 'one' ? mac.map((b, i) => (i === c.at ? b ^ c.to : b)) : c.any;
          const f = buildFrame({ dst: macText(dst), src: '52:54:00:aa:01:10', ipv4: { src: '10.180.204.100', dst: '10.180.204.2' }, tcp: { srcPort: port++, dstPort: 80, flags: 0x02, seq: 7, window: 64240 } });
          const r = host.answer(into(f), 0);
          const n = r.length;
          host.release(r);
          // The general form: any group address is taken; a unicast one only when all six bytes are the pod's.
          const group = (dst[0]! & 1) !== 0;
          const taken = group || dst.every((b, i) => b === mac[i]);
          if (c.kind === 'one') counted.one++;
          if (group) counted.group++;
          if (taken) counted.taken++;
          else counted.refused++;
          expect(host.ignoredCode).toBe(taken ? undefined : 'not-its-mac');
          expect(n).toBe(taken ? 1 : 0);
        }
      }),
      { seed, numRuns: runs },
    );
    expect(counted.taken).toBeGreaterThan(runs / 2);
    expect(counted.refused).toBeGreaterThan(runs / 4);
    expect(counted.group).toBeGreaterThan(0);
    expect(counted.one).toBeGreaterThan(0);
  });

  it(`a TCP/IPv4 reply written into the template as words is the reply written byte by byte (${runs} runs, seed ${seed})`, () => {
    console.log(`pods-words template: ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
    // Segments from any address and port with any numbers: SYNs, the data that follows (a GET answered with a
    // response, or other bytes acknowledged), FINs, RSTs, and segments to a closed port (an RST in answer, window 0).
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    // Addresses and ports of every decimal length too (the /clientip body, "address:port", is 9 to 21 bytes: the
    // response head's length, 57 or 58, and so the body's alignment against the checksum's words, follow its length).
    const octet = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 255 }));
    const segArb = fc.record({
      peer: fc.oneof(u32, fc.tuple(octet, octet, octet, octet).map(([a, b, c, d]) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0)),
      sport: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 65535 })),
      dport: fc.constantFrom(80, 80, 80, 81),
      flags: fc.constantFrom(0x02, 0x10, 0x18, 0x11, 0x19, 0x04, 0x12),
      seq: u32,
      ack: u32,
      get: fc.boolean(),
      // The GET's target: /clientip's body is the peer, /hostname's the pod's name, any other path's a constant.
      path: fc.constantFrom('/clientip', '/clientip', '/hostname', '/'),
      // Which pod answers: 0 or 1 (their own MACs and addresses: the template's owner moves between them).
      who: fc.integer({ min: 0, max: 1 }),
      // Whether the segment continues the last one's connection (its port and numbers), so that data and FINs meet
      // connections in every state.
      follow: fc.boolean(),
    });
    let compared = 0;
    fc.assert(
      fc.property(unicastMac, unicastMac, u32, fc.array(segArb, { minLength: 1, maxLength: 24 }), fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,40}$/), unicastMac, (mac0, mac1, ip1, segs, name1, client) => {
        // The template host is handed its frames in reused arrays (its MACs then read through its view of them).
        const into = reuser();
        // The second pod's name (its /hostname body) of any length, so that its words meet the body's every alignment.
        const specs = [podOf('web-0.default', mac0, '10.180.204.2'), podOf(name1, mac1, formatIPv4(ip1 >>> 0))];
        // For each pod, two hosts given the same frames: one answers into the shared buffer (the template's words), the
        // other while that answer is held (frames of its own, written byte by byte).
        const viaTemplate = specs.map((p) => new PodHost(p));
        const viaBytes = specs.map((p) => new PodHost(p));
        let last: { peer: number; sport: number; seq: number; ack: number } | undefined;
        for (const s of segs) {
          const spec = specs[s.who]!;
          const c = s.follow && last ? { ...s, peer: last.peer, sport: last.sport, seq: last.seq, ack: last.ack } : s;
          const payload = c.flags & 0x08 ? Buffer.from(c.get ? `GET ${c.path} HTTP/1.1\r\nHost: x\r\n\r\n` : 'hello', 'latin1') : undefined;
          const f = buildFrame({ dst: spec.mac, src: macText(client), ipv4: { src: formatIPv4(c.peer >>> 0), dst: spec.ip }, tcp: { srcPort: c.sport, dstPort: c.dport, flags: c.flags, seq: c.seq, ack: c.ack, window: 64240, ...(payload ? { payload } : {}) } });
          const a = viaTemplate[s.who]!.answer(into(f), 0);
          const b = viaBytes[s.who]!.answer(f, 0);
          if (b.length > 0) expect(b[0]!.buffer).not.toBe(a[0]!.buffer);
          expect(hex(a)).toEqual(hex(b));
          compared += a.length;
          viaBytes[s.who]!.release(b);
          viaTemplate[s.who]!.release(a);
          // The next segment of the connection: past this one's data, acknowledging what the pod sent.
          const sent = a[0];
          const ackOf = sent !== undefined && sent.length >= 54 ? ((sent[38]! << 24) | (sent[39]! << 16) | (sent[40]! << 8) | sent[41]!) + (sent.length - 54) + (sent[47]! & 0x03 ? 1 : 0) : c.ack;
          last = { peer: c.peer, sport: c.sport, seq: (c.seq + (payload?.length ?? 0) + (c.flags & 0x03 ? 1 : 0)) >>> 0, ack: ackOf >>> 0 };
        }
      }),
      { seed, numRuns: runs },
    );
    expect(compared).toBeGreaterThan(runs * 4);
  });
  it(`a GET's response written into the template four bytes a turn is the response written byte by byte (${runs} runs, seed ${seed})`, () => {
    console.log(`pods-words response: ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
    // Whole conversations (SYN, the handshake's ACK, a GET), so that every run reaches the response: its body is
    // the peer as "address:port" (/clientip: 9 to 21 bytes), the pod's name (/hostname: 1 to 41) or a constant (any
    // other path), each of every length against the head's odd or even length and the four-byte turns.
    const octet = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 255 }));
    const convArb = fc.record({
      peer: fc.tuple(octet, octet, octet, octet).map(([a, b, c, d]) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0),
      sport: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 65535 })),
      seq: fc.integer({ min: 0, max: 0xffffffff }),
      path: fc.constantFrom('/clientip', '/hostname', '/'),
      who: fc.integer({ min: 0, max: 1 }),
    });
    let responses = 0;
    fc.assert(
      fc.property(unicastMac, fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,40}$/), fc.array(convArb, { minLength: 1, maxLength: 8 }), unicastMac, (mac, name, convs, client) => {
        const into = reuser();
        const specs = [podOf('web-0.default', mac, '10.180.204.2'), podOf(name, [...mac.slice(0, 5), mac[5]! ^ 1], '10.180.204.3')];
        const viaTemplate = specs.map((p) => new PodHost(p));
        const viaBytes = specs.map((p) => new PodHost(p));
        for (const c of convs) {
          const spec = specs[c.who]!;
          const get = Buffer.from(`GET ${c.path} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1');
          let seq = c.seq;
          let ack = 0;
          for (const flags of [0x02, 0x10, 0x18]) {
            const payload = flags === 0x18 ? get : undefined;
            const f = buildFrame({ dst: spec.mac, src: macText(client), ipv4: { src: formatIPv4(c.peer), dst: spec.ip }, tcp: { srcPort: c.sport, dstPort: 80, flags, seq, ack, window: 64240, ...(payload ? { payload } : {}) } });
            const a = viaTemplate[c.who]!.answer(into(f), 0);
            const b = viaBytes[c.who]!.answer(f, 0);
            expect(hex(a)).toEqual(hex(b));
            if (flags === 0x02) ack = a.length > 0 ? ((a[0]![38]! << 24) | (a[0]![39]! << 16) | (a[0]![40]! << 8) | a[0]![41]!) + 1 : 0;
            if (flags === 0x18 && a.length > 0 && a[0]!.length > 54) responses++;
            viaBytes[c.who]!.release(b);
            viaTemplate[c.who]!.release(a);
            seq = (seq + (flags === 0x02 ? 1 : 0)) >>> 0;
          }
        }
      }),
      { seed, numRuns: runs },
    );
    expect(responses).toBeGreaterThan(runs);
  });
});

/**
 * A GET's request line as the pods read it (pods.ts getTarget, knownPath, answerGet), against a reference reading:
 * which segments are answered, the response's body, the access log's entry and the client's count. getTarget compares a
 * nine-byte target with `/clientip` and `/hostname` before its space tests and hands the path's code to answerGet;
 * answerGet counts an IPv4 client by the address handle decoded — so targets near the two paths (one byte changed, a
 * space or `\s` byte among the nine, a longer or shorter path), request lines with a wrong version or line end, and
 * clients of every first octet are generated.
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

const POD: PodState = { name: 'web-0.default', namespace: 'default', node: 'node1', ip: '10.180.204.2', mac: '0a:58:0a:b4:cc:02', ready: true, labels: {}, lsp: 'web-0' };
const CLIENT_MAC = '02:42:ac:12:00:05';

/** The reference: an HTTP/1.0 or 1.1 GET's target, a run of bytes JavaScript's `\s` does not match (within latin1). */
const REQUEST_LINE = /^GET ([^\s]+) HTTP\/1\.[01]\r\n/;

const latin1 = (codes: number[]): string => String.fromCharCode(...codes);
const KNOWN = ['/clientip', '/hostname'];
// Bytes a target's may be replaced with: the space and the other `\s` bytes, letters of the paths, anything.
const byteArb = fc.oneof(fc.constantFrom(32, 9, 10, 11, 12, 13, 0xa0, 0x85, 47, 99, 104, 112, 101), fc.integer({ min: 0, max: 255 }));
const targetArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN) },
  // A known path with one byte changed.
  fc.tuple(fc.constantFrom(...KNOWN), fc.integer({ min: 0, max: 8 }), byteArb).map(([p, at, b]) => p.slice(0, at) + String.fromCharCode(b) + p.slice(at + 1)),
  // A known path cut or grown.
  fc.tuple(fc.constantFrom(...KNOWN), fc.integer({ min: 1, max: 8 })).map(([p, n]) => p.slice(0, n)),
  fc.tuple(fc.constantFrom(...KNOWN), fc.array(byteArb, { minLength: 1, maxLength: 3 })).map(([p, b]) => p + latin1(b)),
  // Any nine bytes, and any path.
  fc.array(byteArb, { minLength: 9, maxLength: 9 }).map(latin1),
  fc.array(byteArb, { minLength: 0, maxLength: 20 }).map(latin1),
);
const versionArb = fc.constantFrom('HTTP/1.1\r\n', 'HTTP/1.1\r\n', 'HTTP/1.1\r\n', 'HTTP/1.1\r\n', 'HTTP/1.0\r\n', 'HTTP/1.2\r\n', 'HTTP/1.1\n', 'HTTP/1.1\r', 'HTTP/2.0\r\n', 'HTTP/1.1');

describe('a pod reading a GET', () => {
  it(`answers, logs and counts a request line as the reference reads it (${runs} runs, seed ${seed})`, () => {
    console.log(`pods-request: ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
    const reqArb = fc.record({
      target: targetArb,
      version: versionArb,
      sep: fc.constantFrom(' ', ' ', ' ', '\t'),
      // Clients of every first octet (over 127: the address's top bit set), few of them (84), so that a run's requests
      // meet the same client again and its count adds up.
      peer: fc.tuple(fc.constantFrom(1, 10, 127, 128, 172, 200, 255), fc.constantFrom(0, 18, 255), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 2 })).map(([a, b, c, d]) => `${a}.${b}.${c}.${d}`),
      sport: fc.integer({ min: 1, max: 65535 }),
    });
    let answered = 0;
    let known = 0;
    fc.assert(
      // One connection per address and port (each left open: the next one is another's).
      fc.property(fc.uniqueArray(reqArb, { minLength: 1, maxLength: 12, selector: (r) => `${r.peer}:${r.sport}` }), (reqs) => {
        const pod = new PodHost(POD);
        const counts = new Map<string, number>();
        const log: { client: string; path: string }[] = [];
        for (const r of reqs) {
          const line = `GET${r.sep}${r.target} ${r.version}Host: x\r\n\r\n`;
          const frame = (flags: number, seq: number, ack: number, payload?: Buffer) =>
            buildFrame({ dst: POD.mac, src: CLIENT_MAC, ipv4: { src: r.peer, dst: POD.ip }, tcp: { srcPort: r.sport, dstPort: 80, flags, seq, ack, window: 64240, ...(payload ? { payload } : {}) } });
          const synAck = pod.receive(frame(0x02, 1000, 0), 0);
          expect(synAck.length).toBe(1);
          const isn = ((synAck[0]![38]! << 24) | (synAck[0]![39]! << 16) | (synAck[0]![40]! << 8) | synAck[0]![41]!) >>> 0;
          expect(pod.receive(frame(0x10, 1001, (isn + 1) >>> 0), 0)).toEqual([]);
          const out = pod.receive(frame(0x18, 1001, (isn + 1) >>> 0, Buffer.from(line, 'latin1')), 0);
          expect(out.length).toBe(1);
          const payload = Buffer.from(out[0]!.subarray(54)).toString('latin1');
          const m = REQUEST_LINE.exec(line);
          if (m === null) {
            expect(payload).toBe('');
            expect(out[0]![47]).toBe(0x10);
          } else {
            answered++;
            const target = m[1]!;
            if (KNOWN.includes(target)) known++;
            const body = target === '/clientip' ? `${r.peer}:${r.sport}` : target === '/hostname' ? POD.name : 'NOW: simulated';
            expect(payload).toBe(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
            counts.set(r.peer, (counts.get(r.peer) ?? 0) + 1);
            log.push({ client: `${r.peer}:${r.sport}`, path: target });
          }
        }
        expect(pod.requests).toBe(log.length);
        expect(pod.log.map((e) => ({ client: e.client, path: e.path }))).toEqual(log);
        expect([...pod.clients]).toEqual([...counts]);
      }),
      { seed, numRuns: runs },
    );
    expect(answered).toBeGreaterThan(runs);
    expect(known).toBeGreaterThan(runs / 2);
  });
});

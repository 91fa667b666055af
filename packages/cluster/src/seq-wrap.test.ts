/**
 * Sequence numbers past 2^31 and wrapping past 2^32, on both sides of a connection. The pods choose their ISNs over
 * all 32 bits (pods.ts `podIsn`, as Linux's `secure_tcp_seq`), so a pod's sequence numbers can wrap within a
 * conversation; TCP compares them modulo 2^32 (RFC 9293 §3.4), and so does conntrack's window tracking (OVS
 * lib/conntrack-tcp.c `SEQ_GT`/`SEQ_GEQ`, lib/util.h `INT_MOD_GT`: `(int)(a - b) > 0`). Clients are chosen so
 * that their pod's ISN is just below 2^32 (the SYN-ACK itself wraps, or the response does) or just below 2^31, one
 * client's own ISN wraps with its request. Replayed with the caches and without: the same frames out and to the
 * pods, the same verdicts, conntrack table and pods' logs; every segment in window — the open connection is
 * ESTABLISHED on both sides in both zones, the closed ones reached FIN_WAIT_2 (an out-of-window segment leaves the
 * state where it was).
 */
import { describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import { DEFAULT_CLUSTER, defaultObjects } from './scenario.js';
import { SimulatedCluster } from './simulation.js';

const VIP = '10.180.204.252';
const OWNER_MAC = '52:54:00:bb:00:03';
const GET = new TextEncoder().encode('GET /clientip HTTP/1.1\r\n\r\n');

// The pods' rule, inverted: Math.imul by 0x9e3779b1 (odd) is a bijection on 32 bits, whose inverse is multiplying
// by INV; the port only flips the address's high half, so a client in 10.181.0.0/16 is found for any ISN.
const K = 0x9e3779b1;
const INV = (() => {
  let x = K;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(K, x));
  return x >>> 0;
})();

/** A client in 10.181.0.0/16 and a source port whose connection the pods open with ISN `isn`. */
function clientFor(isn: number): { ip: string; sport: number } {
  const h = Math.imul(isn, INV) >>> 0;
  const lo = h & 0xffff;
  return { ip: `10.181.${lo >>> 8}.${lo & 0xff}`, sport: (h >>> 16) ^ 0x0ab5 };
}

interface Conv {
  isn: number;
  clientIsn: number;
  /** Close it (GET, the response with its FIN, the client's FIN) or keep it open (a segment of data the pod ACKs). */
  close: boolean;
}

const CONVS: Conv[] = [
  // The SYN-ACK's sequence number is 2^32 − 1: everything after it is past the wrap.
  { isn: 0xffffffff, clientIsn: 1000, close: false },
  // The response (≈ 80 bytes from 2^32 − 20) wraps; the client's request wraps too (26 bytes from 2^32 − 16).
  { isn: 0xffffffeb, clientIsn: 0xfffffff0, close: true },
  // The response crosses 2^31 (the largest small integer a JIT keeps untagged, on some platforms).
  { isn: 0x7fffffeb, clientIsn: 0x7ffffff8, close: true },
];

const u32 = (f: Uint8Array, at: number): number => ((f[at]! << 24) | (f[at + 1]! << 16) | (f[at + 2]! << 8) | f[at + 3]!) >>> 0;

function run(cache: boolean): { seen: string[]; zones: unknown; logs: unknown; hits: number; states: Array<[number, string, string | undefined, string | undefined]>; synAcks: number[]; responses: number[] } {
  const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache: cache });
  const seen: string[] = [];
  const synAcks: number[] = [];
  const responses: number[] = [];
  // The pods' answers as they reach the client: what the next segment acknowledges.
  const last = new Map<number, number>();
  sim.onOutside = (f) => {
    seen.push(`out ${Buffer.from(f).toString('hex')}`);
    if (f[16] !== 0x08 || f[17] !== 0 || f[18 + 9] !== 6) return;
    const t = 18 + 20;
    const dport = (f[t + 2]! << 8) | f[t + 3]!;
    const seq = u32(f, t + 4);
    const flags = f[t + 13]!;
    const len = ((f[18 + 2]! << 8) | f[18 + 3]!) - 40;
    if (flags === 0x12) synAcks.push(seq);
    if (flags & 0x01) responses.push(seq);
    last.set(dport, (seq + len + (flags & 0x03 ? 1 : 0)) >>> 0);
  };
  sim.onDeliver = (pod, f, len) => seen.push(`${pod.pod.name} ${Buffer.from(f.subarray(0, len)).toString('hex')}`);
  let now = 0;
  const send = (c: Conv, flags: number, seq: number, payload?: Uint8Array): void => {
    const { ip, sport } = clientFor(c.isn);
    const ack = flags & 0x10 ? last.get(sport)! : 0;
    const f = buildFrame({ dst: OWNER_MAC, src: '52:54:00:cc:00:0a', vlans: [341], ipv4: { src: ip, dst: VIP }, tcp: { srcPort: sport, dstPort: 80, flags, seq: seq >>> 0, ack, window: 64240, ...(payload ? { payload } : {}) } });
    now += 1;
    seen.push(`${sim.process(f, f.length, now)}`);
  };
  const arp = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '52:54:00:cc:00:0a', vlans: [341], arp: { op: 1, senderMac: '52:54:00:cc:00:0a', senderIp: '10.181.0.10', targetMac: '00:00:00:00:00:00', targetIp: VIP }, padTo: 60 });
  seen.push(`${sim.process(arp, arp.length, now)}`);
  for (const c of CONVS) {
    let s = c.clientIsn;
    send(c, 0x02, s);
    s = (s + 1) >>> 0;
    for (let i = 0; i < 4; i++) send(c, 0x10, s);
    if (c.close) {
      send(c, 0x18, s, GET);
      s = (s + GET.length) >>> 0;
      for (let i = 0; i < 4; i++) send(c, 0x10, s);
      send(c, 0x11, s);
    } else {
      // Data the pod only acknowledges (not a request): its ACK's sequence number is past the wrap.
      send(c, 0x18, s, new TextEncoder().encode('x'));
      s = (s + 1) >>> 0;
      for (let i = 0; i < 4; i++) send(c, 0x10, s);
    }
  }
  const conns = sim.ls.conntracks().flatMap((z) => z.conntrack.connections(now).map((c) => ({ chassis: z.chassis, ...c, slot: 0 })));
  const states = conns.filter((c) => c.proto === 6).map((c): [number, string, string | undefined, string | undefined] => [c.zone, c.orig.src, c.tcpStateOrig, c.tcpStateReply]);
  return { seen, zones: conns, logs: [...sim.pods.values()].map((p) => p.log), hits: sim.cacheStats().hits, states, synAcks, responses };
}

describe('sequence numbers past 2^31 and wrapping past 2^32', () => {
  it('pods answer from ISNs just below 2^32 and 2^31; cached and uncached alike; conntrack keeps every segment in window', () => {
    const cached = run(true);
    const plain = run(false);
    expect(cached.seen).toEqual(plain.seen);
    expect(cached.zones).toEqual(plain.zones);
    expect(cached.logs).toEqual(plain.logs);
    // The caches served the ACKs past the wrap (4 or 8 a conversation after the first of each run).
    expect(cached.hits).toBeGreaterThanOrEqual(9);
    expect(plain.hits).toBe(0);
    // The SYN-ACKs carry the chosen ISNs (the rule's 32 bits: 31 would give 0x7fffffff for the first); the
    // responses start at ISN + 1 — past the wrap for the first closed one.
    expect(cached.synAcks).toEqual(CONVS.map((c) => c.isn));
    expect(cached.responses).toEqual(CONVS.filter((c) => c.close).map((c) => (c.isn + 1) >>> 0));
    // Every segment in window, in both zones the switch tracks a connection in (the LB's and the pod's port's).
    for (const c of CONVS) {
      const ip = clientFor(c.isn).ip;
      const mine = cached.states.filter(([, src]) => src === ip);
      expect(mine.length, ip).toBeGreaterThanOrEqual(2);
      const want = c.close ? 'FIN_WAIT_2' : 'ESTABLISHED';
      for (const [zone, , o, r] of mine) expect({ ip, zone, o, r }).toEqual({ ip, zone, o: want, r: want });
    }
  });
});

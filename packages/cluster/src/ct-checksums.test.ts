/**
 * Which frames the switch's conntrack verifies the checksums of. A frame off the wire (a client's, through the NIC and
 * br-provider) or one injected at a pod is verified at its first ct() as OVS verifies any frame no offload flag vouches
 * for: a bad IPv4 or TCP checksum makes it ct.inv, counted (CtReason.L4_CHECKSUM), and OVN drops it. A pod's own answer
 * is not: its stack computed its sums (PodHost.receive), and the cluster vouches for them (LogicalSwitch.process's
 * `checksumsGood`), as Linux hands OVS a local sender's frame as CHECKSUM_PARTIAL. Each case runs with the tables walked
 * (tracing) and with the connection replay (no trace), whose hinted call verifies on its own path.
 */
import { describe, expect, it } from 'vitest';
import { CtReason, LogicalSwitch, OvsConntrack } from '@vippath/ovn';
import { buildFrame, parseFrame } from '@vippath/wire';
import { DEFAULT_CLUSTER, defaultObjects, SimulatedCluster } from './index.js';

const VIP = '10.180.204.252';
const NODE3 = '52:54:00:bb:00:03';

/** One client's TCP segment to the VIP on VLAN 341, as off the wire; `bad` flips its TCP checksum. */
function segment(client: number, sport: number, flags: number, seq: number, ack: number, payload?: string, bad = false): Uint8Array {
  const mac = `52:54:00:cc:00:${client.toString(16).padStart(2, '0')}`;
  const f = buildFrame({ dst: NODE3, src: mac, vlans: [341], ipv4: { src: `10.181.0.${client}`, dst: VIP }, tcp: { srcPort: sport, dstPort: 80, flags, seq, ack, window: 64240, ...(payload ? { payload: new TextEncoder().encode(payload) } : {}) } });
  if (bad) f[18 + 20 + 16] ^= 0x5a;
  return f;
}

/** The L4 checksum failures every chassis' conntrack counted. */
function l4Failures(sim: SimulatedCluster): number {
  let n = 0;
  for (const { conntrack } of sim.ls.conntracks()) n += conntrack.counters[CtReason.L4_CHECKSUM]!;
  return n;
}

/** The frames to the outside of one injected frame, TCP only, parsed. */
function tcpOut(sim: SimulatedCluster, f: Uint8Array, now: number): Array<ReturnType<typeof parseFrame>> {
  const r = sim.inject(f, now);
  return [...r.background, ...r.outside].map((x) => parseFrame(x)).filter((p) => p.tcp !== undefined);
}

/**
 * One client's conversation, a segment with a bad checksum sent (and refused) before each good one from step `badAt`
 * on: the SYN (0), the handshake's ACK (1: the walk recorded), the request (2) and the ACK of the response (3: the
 * connection's replayed walks, while the cache runs). Returns the checksum failures counted at each step.
 */
function conversation(sim: SimulatedCluster, client: number, badAt: number): number[] {
  const sport = 41000 + client;
  let now = client * 10;
  const fails: number[] = [];
  const send = (step: number, flags: number, seq: number, ack: number, payload?: string): Array<ReturnType<typeof parseFrame>> => {
    if (step >= badAt) {
      const before = l4Failures(sim);
      const refused = tcpOut(sim, segment(client, sport, flags, seq, ack, payload, true), (now += 1));
      fails.push(l4Failures(sim) - before);
      // Dropped in the switch: no answer, nothing from the pod.
      expect(refused).toEqual([]);
    }
    return tcpOut(sim, segment(client, sport, flags, seq, ack, payload), (now += 1));
  };
  const synack = send(0, 0x02, 1000, 0).find((p) => p.tcp!.flags === 0x12);
  expect(synack).toBeDefined();
  const srv = synack!.tcp!.seq;
  send(1, 0x10, 1001, srv + 1);
  const req = 'GET /clientip HTTP/1.1\r\nHost: vip\r\n\r\n';
  const resp = send(2, 0x18, 1001, srv + 1, req).find((p) => p.tcp!.payload.length > 0);
  expect(resp).toBeDefined();
  expect(Buffer.from(resp!.tcp!.payload).toString('latin1')).toContain(`10.181.0.${client}:${sport}`);
  const fin = (resp!.tcp!.flags & 0x01) !== 0 ? 1 : 0;
  send(3, 0x10, 1001 + req.length, resp!.tcp!.seq + resp!.tcp!.payload.length + fin);
  return fails;
}

describe("conntrack's checksum verification by the frame's origin", () => {
  for (const trace of [true, false]) {
    it(`drops a client's segment with a bad TCP checksum at every step of its connection, counted (${trace ? 'tables walked' : 'connection replay'})`, () => {
      const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace });
      // Connections enough that a later one finds its walks recorded (the replay's path) before the bad segments.
      for (let c = 10; c < 14; c++) expect(conversation(sim, c, 4)).toEqual([]);
      for (let badAt = 0; badAt < 4; badAt++) expect(conversation(sim, 20 + badAt, badAt)).toEqual(Array(4 - badAt).fill(1));
    });
  }

  it("verifies no checksum of a pod's answer, and every frame vouched for verifies", () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const P = OvsConntrack.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const S = LogicalSwitch.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    // Every way the engine sums a packet: both sums at once, the L4 sum, the IPv4 header's (sumBytes under both).
    // And the hinted IPv4 TCP path's own sums of a bare header (engine.ts hintedTcp4): a call it takes on a new packet
    // (`fresh`, its ninth argument; not the previous call's key, its eighth) that no vouch covers verified the packet's
    // sums, there or through tcp4SumsOk (not counted twice).
    const names = ['tcp4SumsOk', 'l4ChecksumOk', 'sumBytes', 'hintedTcp4'];
    const saved = names.map((n) => [n, P[n]!] as const);
    const processInto = S.processInto!;
    const sums = { client: 0, pod: 0 };
    let vouched = 0;
    let inHinted = false;
    try {
      for (const [n, orig] of saved) {
        P[n] = function (this: unknown, ...a: unknown[]) {
          const d = a[1] as { dstPort: number; srcPort: number };
          if (n === 'hintedTcp4') {
            inHinted = true;
            try {
              const r = orig.apply(this, a);
              const res = a[3] as { checksumsGood: boolean };
              if (r === true && a[7] !== true && a[8] === true && res.checksumsGood !== true) sums[d.dstPort === 80 ? 'client' : 'pod']++;
              return r;
            } finally {
              inHinted = false;
            }
          }
          if (n !== 'sumBytes' && !inHinted) sums[d.dstPort === 80 ? 'client' : 'pod']++;
          return orig.apply(this, a);
        };
      }
      S.processInto = function (this: unknown, ...a: unknown[]) {
        if (a[6] === true) {
          vouched++;
          const f = a[0] as Uint8Array;
          expect(parseFrame(f.subarray(0, a[1] as number)).checksum).toBe('ok');
        }
        return processInto.apply(this, a);
      };
      for (let c = 30; c < 36; c++) expect(conversation(sim, c, 4)).toEqual([]);
    } finally {
      for (const [n, orig] of saved) P[n] = orig;
      S.processInto = processInto;
    }
    // Each conversation: the pod's SYN-ACK and its response; the client's four segments each summed.
    expect(vouched).toBeGreaterThanOrEqual(6 * 2);
    expect(sums.client).toBeGreaterThanOrEqual(6 * 4);
    expect(sums.pod).toBe(0);
  });

  it('verifies a frame injected at a pod: not the pod\'s answer', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const pod = [...sim.pods.values()].find((p) => p.pod.node === 'node3')!;
    const f = buildFrame({ dst: '00:00:00:01:00:01', src: pod.pod.mac, ipv4: { src: pod.pod.ip, dst: '10.181.0.50' }, tcp: { srcPort: 80, dstPort: 42000, flags: 0x02, seq: 5, ack: 0, window: 64240 } });
    const before = l4Failures(sim);
    sim.inject(f, 0, `node3/${pod.pod.name}`);
    expect(l4Failures(sim)).toBe(before);
    f[14 + 20 + 16] ^= 0x5a;
    sim.inject(f, 1, `node3/${pod.pod.name}`);
    // Once per ct() it meets (no call keeps an invalid packet's key), as OVS counts.
    expect(l4Failures(sim)).toBeGreaterThan(before);
  });
});

/**
 * What the datapath's reuse of buffers must not change: a kept result ({@link SimulatedCluster.inject}) owns its
 * frames for good, a transient one ({@link SimulatedCluster.process}'s callbacks) shows the same bytes while it
 * lasts, and the counters read through `stageCounts` are the run's, live.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildFrame, formatIPv4, readIPv4 } from '@vippath/wire';
import { DEFAULT_CLUSTER, defaultObjects } from './scenario.js';
import { SimulatedCluster } from './simulation.js';

const VIP = '10.180.204.252';
const OWNER_MAC = '52:54:00:bb:00:03';

/** A conversation per client: ARP for the VIP, SYN, the handshake's ACK, a GET, then FIN (the pods answer each). */
function conversation(client: number): Uint8Array[] {
  const mac = `52:54:00:cc:00:${client.toString(16).padStart(2, '0')}`;
  const ip = `10.181.0.${client}`;
  const tcp = (flags: number, payload?: Uint8Array): Uint8Array =>
    buildFrame({ dst: OWNER_MAC, src: mac, vlans: [341], ipv4: { src: ip, dst: VIP }, tcp: { srcPort: 40000 + client, dstPort: 80, flags, seq: 1000, ack: 0, window: 64240, ...(payload ? { payload } : {}) } });
  return [
    buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: mac, vlans: [341], arp: { op: 1, senderMac: mac, senderIp: ip, targetMac: '00:00:00:00:00:00', targetIp: VIP }, padTo: 60 }),
    tcp(0x02),
    tcp(0x10),
    tcp(0x18, new TextEncoder().encode(`GET /clientip HTTP/1.1\r\nHost: ${VIP}\r\n\r\n`)),
    tcp(0x11),
  ];
}

const traffic = (): Uint8Array[] => Array.from({ length: 12 }, (_, c) => conversation(c + 1)).flat();
const hex = (f: Uint8Array): string => Buffer.from(f).toString('hex');

describe('buffers reused along the path', () => {
  it('inject: every result keeps its frames (to the outside, to the pods) after later frames, whichever way those go', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const kept: Array<{ r: ReturnType<SimulatedCluster['inject']>; outside: string[]; delivered: string[] }> = [];
    let now = 0;
    for (const f of traffic()) {
      const r = sim.inject(f, (now += 1));
      kept.push({ r, outside: r.outside.map(hex), delivered: r.delivered.map((d) => hex(d.frame)) });
      // Frames in between through the hot path (its transient results reuse buffers) must not touch them.
      sim.process(f, f.length, now);
    }
    expect(kept.some((k) => k.outside.length > 0) && kept.some((k) => k.delivered.length > 0)).toBe(true);
    for (const k of kept) {
      expect(k.r.outside.map(hex)).toEqual(k.outside);
      expect(k.r.delivered.map((d) => hex(d.frame))).toEqual(k.delivered);
    }
  });

  it('process: the frames its callbacks see are byte for byte those inject returns for the same traffic', () => {
    const a = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const b = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache: false });
    for (const sim of [a, b]) {
      const seen: string[] = [];
      sim.onOutside = (f) => seen.push(`out ${hex(f)}`);
      sim.onDeliver = (pod, f, n) => seen.push(`${pod.pod.name} ${hex(f.subarray(0, n))}`);
      const ref = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
      const want: string[] = [];
      let now = 0;
      for (const f of traffic()) {
        now += 1;
        seen.length = 0;
        const verdict = sim.process(f, f.length, now);
        const r = ref.inject(f, now);
        want.length = 0;
        // process() hands the cluster's own frames due before this one (gratuitous ARP) to onOutside first.
        for (const o of r.background) want.push(`out ${hex(o)}`);
        for (const o of r.outside) want.push(`out ${hex(o)}`);
        for (const d of r.delivered) want.push(`${d.pod} ${hex(d.frame)}`);
        expect(verdict).toBe(r.verdict);
        expect(seen).toEqual(want);
      }
      expect(sim.stageCounts).toEqual(ref.stageCounts);
      expect(sim.edges()).toEqual(ref.edges());
    }
  });

  it('stageCounts is the run\'s counters, live: read before and after a frame, spread, written through', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const counts = sim.stageCounts;
    const before = { ...counts };
    expect(Object.keys(before)).toEqual(['wire', 'underlay0.341', 'metallb', 'br-provider', 'ovn', 'lb-dnat', 'pod', 'host']);
    const [arp, syn] = conversation(1);
    sim.inject(arp!, 1);
    sim.inject(syn!, 2);
    expect(counts.wire).toBeGreaterThan(before.wire);
    expect(counts.pod).toBeGreaterThan(before.pod);
    expect(JSON.parse(JSON.stringify(counts))).toEqual({ ...sim.stageCounts });
    counts.host = 41;
    expect(sim.stageCounts.host).toBe(41);
  });

  it("the OVN hop's pod by port name: each output reaches its own pod, whichever pod the one before went to", () => {
    // Datapath.podPortOut keeps the pod it found last (a pointer compare of the switch's port name): every pod opens a
    // connection to every other one, so consecutive outputs go to different pods, and their answers come back.
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false });
    const pods = sim.state.pods;
    const got = new Map<string, number>();
    let now = 0;
    for (let round = 0; round < 2; round++) {
      for (const a of pods) {
        for (const b of pods) {
          if (a === b) continue;
          const syn = buildFrame({ dst: b.mac, src: a.mac, ipv4: { src: a.ip, dst: b.ip }, tcp: { srcPort: 40000 + round, dstPort: 80, flags: 0x02, seq: 1000, ack: 0, window: 64240 } });
          const r = sim.injectTransient(syn, (now += 1), `${a.node}/${a.name}`);
          // The SYN at b, b's answer at a (then a's reset of a connection it does not hold, at b).
          expect(r.delivered.slice(0, 2).map((d) => d.pod)).toEqual([b.name, a.name]);
          for (const d of r.delivered) {
            expect({ pod: d.pod, dst: formatIPv4(readIPv4(d.frame, 30)) }).toEqual({ pod: d.pod, dst: pods.find((p) => p.name === d.pod)!.ip });
            got.set(d.pod, (got.get(d.pod) ?? 0) + 1);
          }
        }
      }
    }
    expect(got.size).toBe(pods.length);
  });

  it("the OVN hop's untraced step counts (switch, LB and pod steps owed, their counters kept per node and per pod port) are the traced steps', whenever read", () => {
    // Traced, the hop counts its switch, LB and pod steps through TraceRecorder.stepAt; untraced, as frames owed on the
    // counters it keeps (TraceRecorder.stepCounter: NodePath's by the place the switch's step came from and its LB's,
    // PodPort.steps), added when the counters are read. Generated traffic — clients' conversations and pod-to-pod SYNs
    // interleaved, so a pod port's steps come from one node's switch and LB places and then another's — with the counts
    // and edges read (and so settled) after any step, not only at the end.
    const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
    console.log(`datapath step-count property: seed ${seed} (VIPPATH_PROPERTY_SEED)`);
    const step = fc.oneof(
      fc.record({ kind: fc.constant('client' as const), client: fc.integer({ min: 1, max: 6 }), frame: fc.integer({ min: 0, max: 4 }), read: fc.boolean() }),
      fc.record({ kind: fc.constant('pods' as const), a: fc.nat(), b: fc.nat(), port: fc.integer({ min: 40000, max: 40003 }), read: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), fc.boolean(), (steps, flowCache) => {
        const traced = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: true, flowCache });
        const untraced = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache });
        const pods = traced.state.pods;
        let now = 0;
        for (const s of steps) {
          now += 1;
          if (s.kind === 'client') {
            const f = conversation(s.client)[s.frame]!;
            traced.inject(f, now);
            untraced.process(f, f.length, now);
          } else {
            const a = pods[s.a % pods.length]!;
            const b = pods[s.b % pods.length]!;
            if (a === b) continue;
            const syn = buildFrame({ dst: b.mac, src: a.mac, ipv4: { src: a.ip, dst: b.ip }, tcp: { srcPort: s.port, dstPort: 80, flags: 0x02, seq: 1000, ack: 0, window: 64240 } });
            traced.inject(syn, now, `${a.node}/${a.name}`);
            untraced.injectTransient(syn, now, `${a.node}/${a.name}`);
          }
          if (s.read) {
            expect({ ...untraced.stageCounts }).toEqual({ ...traced.stageCounts });
            expect(untraced.edges()).toEqual(traced.edges());
          }
        }
        expect({ ...untraced.stageCounts }).toEqual({ ...traced.stageCounts });
        expect(untraced.edges()).toEqual(traced.edges());
      }),
      { seed, numRuns: 40 },
    );
  });

  it("the OVN hop's node-down check (written out in the hop): a pod on a down node is handed nothing", () => {
    // The hop tests the cluster's down set itself (no getter call) for the pod's node; the reference is that set. SYNs
    // injected at pods on any node, to another pod or to the VIP, with a generated set of nodes down: a pod's SYN to the
    // VIP that its own node's LB sends back to it (hairpin) meets the hop's check on a down node, dropped as
    // `pod.node-down`; one to another node leaves through the localnet port and the NICs' checks.
    const seed = Number(process.env.VIPPATH_PROPERTY_SEED ?? Date.now() % 2 ** 31);
    fc.assert(
      fc.property(fc.subarray(['node1', 'node2', 'node3']), fc.array(fc.record({ a: fc.nat(), b: fc.nat(), port: fc.integer({ min: 40000, max: 40007 }) }), { minLength: 1, maxLength: 12 }), fc.boolean(), (downs, pairs, traced) => {
        const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: traced });
        for (const n of downs) sim.nodeDown(n, 1);
        sim.advance(2);
        const pods = sim.state.pods;
        const nodeOf = new Map(pods.map((p) => [p.name, p.node]));
        let now = 2;
        for (const p of pairs) {
          const a = pods[p.a % pods.length]!;
          // One index past the pods: the VIP (the owner's MAC; OVN's LB DNATs it on the sender's node).
          const b = pods[p.b % (pods.length + 1)];
          if (a === b) continue;
          const syn = buildFrame({ dst: b ? b.mac : '52:54:00:bb:00:03', src: a.mac, ipv4: { src: a.ip, dst: b ? b.ip : VIP }, tcp: { srcPort: p.port, dstPort: 80, flags: 0x02, seq: 1000, ack: 0, window: 64240 } });
          const r = sim.inject(syn, (now += 1), `${a.node}/${a.name}`);
          for (const d of r.delivered) expect({ pod: d.pod, down: sim.down.has(nodeOf.get(d.pod)!) }).toEqual({ pod: d.pod, down: false });
          if (b !== undefined && !sim.down.has(a.node) && !sim.down.has(b.node)) expect(r.delivered[0]?.pod).toBe(b.name);
          // A drop at a pod on a down node is the hop's, on the sender's own node.
          if (r.drops.some((d) => d.code === 'pod.node-down')) expect(sim.down.has(a.node)).toBe(true);
        }
      }),
      { seed, numRuns: 40 },
    );
  });
});

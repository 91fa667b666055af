/**
 * Properties of the whole path, over generated clusters and traffic: a {@link Topology} (nodes, pods per node
 * and their readiness, the Service's traffic policy, pool, profiles and flags) written as the manifests a user
 * would apply, {@link Conversation}s of external clients (ARP, handshake, GET, close) and {@link ClusterEvent}s
 * (node loss, readiness), run through `SimulatedCluster` and judged by {@link Invariant}s. A failure shrinks to
 * a small cluster and conversation, and is written as `manifests.yaml` plus `client.pcap` (every frame the clients
 * sent) with the `vippath replay` command that reproduces it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { clusterFrom, ExternalClient, loadManifests, SimulatedCluster, withDefaults, type CurlResult, type InjectResult } from '@vippath/cluster';
import { memorySink, PcapWriter } from '@vippath/pcap';
import { DecodedFrame, FrameDecoder, formatIPv4, L3, VippathError } from '@vippath/wire';

/** A generated cluster. */
export interface Topology {
  /** Pods (replicas of the Service's Deployment) on each node: `pods[i]` on node `node${i + 1}`. */
  pods: number[];
  /** Pods (by index over all of them) whose readiness probe fails from the start. */
  notReady: number[];
  etp: 'Local' | 'Cluster';
  kubeOvn: 'kube-ovn-1.14' | 'kube-ovn-1.15.20' | 'upstream';
  metallb: 'metallb-0.13.7' | 'metallb-current';
  preferLocal: boolean;
  lsCtSkipDstLportIps: boolean;
  /** The address the Service asks for, from the pool .250–.254. */
  vip: string;
}

/** A client's exchange: from client `client` (0…), a GET on a fresh connection at `at` ms. */
export interface Conversation {
  client: number;
  at: number;
  path: '/clientip' | '/hostname';
}

/** Something that happens to the cluster. */
export type ClusterEvent = { kind: 'node-down' | 'node-up'; node: number; at: number } | { kind: 'not-ready' | 'ready'; pod: number; at: number };

/** One generated case: a generated topology, or your own manifests (then `topology` only carries `notReady`). */
export interface ClusterCase {
  topology: Topology;
  /** Your manifests (YAML); when given they replace the ones `topology` would make. */
  manifests?: string;
  conversations: Conversation[];
  events: ClusterEvent[];
}

/**
 * Cases over your own manifests: conversations and events drawn around the cluster they describe (its nodes and
 * pods), judged against its first LoadBalancer address.
 */
export function manifestCaseArb(manifests: string, options: { clients?: number; spanMs?: number; events?: boolean } = {}): fc.Arbitrary<ClusterCase> {
  const objects = withDefaults(loadManifests(manifests, 'manifests.yaml').objects);
  const sim = new SimulatedCluster(objects, clusterFrom(objects), { trace: false });
  const nodes = sim.cluster.nodes.length;
  const pods = sim.state.pods.length;
  const vip = sim.state.services.flatMap((s) => s.ingress)[0];
  if (!vip) throw new VippathError('NO_VIP', 'the manifests give no LoadBalancer Service an address: nothing to test');
  const topology: Topology = { pods: [], notReady: [], etp: 'Local', kubeOvn: sim.cluster.profiles.kubeOvn, metallb: sim.cluster.profiles.metallb, preferLocal: sim.cluster.flags.enableOvnLbPreferLocal, lsCtSkipDstLportIps: sim.cluster.flags.lsCtSkipDstLportIps, vip };
  return fc.record({
    topology: fc.constant(topology),
    manifests: fc.constant(manifests),
    conversations: conversationArb(options),
    events: options.events === false ? fc.constant([]) : eventArb(nodes, pods, options),
  });
}

/** What a run produced, for invariants to judge. */
export interface Observation {
  case: ClusterCase;
  sim: SimulatedCluster;
  /** The clients' addresses (index = client). */
  clients: Array<{ ip: string; mac: string }>;
  /** Each conversation's outcome, in order. */
  results: Array<{ conversation: Conversation; result: CurlResult }>;
  /** Every frame injected (the clients' frames) and what it did. */
  injected: Array<{ time: number; frame: Uint8Array; result: InjectResult }>;
  /** Owners of the VIP seen just before each conversation. */
  owners: string[][];
  vip: string;
  vlan: number;
}

/** An invariant: undefined when it holds, else what went wrong in one sentence. */
export interface Invariant {
  name: string;
  check(o: Observation): string | undefined;
}

const NODE_MACS = (i: number): string => `52:54:00:bb:00:${(i + 1).toString(16).padStart(2, '0')}`;

/** Options of {@link topologyArb}. */
export interface TopologyChoices {
  maxNodes?: number;
  maxPodsPerNode?: number;
  /** Only topologies that meet the seed document's prerequisites (ETP=Local, prefer-local on, skip off). */
  prerequisites?: boolean;
}

/** Generated topologies; they shrink towards one node with one ready pod and the default profiles. */
export function topologyArb(choices: TopologyChoices = {}): fc.Arbitrary<Topology> {
  const maxNodes = choices.maxNodes ?? 4;
  const maxPods = choices.maxPodsPerNode ?? 3;
  const pre = choices.prerequisites ?? false;
  return fc
    .record({
      pods: fc.array(fc.integer({ min: 0, max: maxPods }), { minLength: 1, maxLength: maxNodes }),
      notReady: fc.uniqueArray(fc.integer({ min: 0, max: maxNodes * maxPods - 1 }), { maxLength: 3 }),
      etp: pre ? fc.constant('Local' as const) : fc.constantFrom('Local' as const, 'Cluster' as const),
      kubeOvn: fc.constantFrom('kube-ovn-1.14' as const, 'kube-ovn-1.15.20' as const),
      metallb: fc.constantFrom('metallb-0.13.7' as const, 'metallb-current' as const),
      preferLocal: pre ? fc.constant(true) : fc.boolean(),
      lsCtSkipDstLportIps: pre ? fc.constant(false) : fc.boolean(),
      vip: fc.constantFrom('10.180.204.252', '10.180.204.250', '10.180.204.254'),
    })
    .map((t) => ({ ...t, notReady: t.notReady.filter((i) => i < t.pods.reduce((a, b) => a + b, 0)) }));
}

/** Conversations of up to `clients` external clients over `spanMs` of simulated time. */
export function conversationArb(options: { clients?: number; spanMs?: number; max?: number } = {}): fc.Arbitrary<Conversation[]> {
  const clients = options.clients ?? 3;
  const span = options.spanMs ?? 20_000;
  return fc
    .array(fc.record({ client: fc.integer({ min: 0, max: clients - 1 }), at: fc.integer({ min: 0, max: span }), path: fc.constantFrom('/clientip' as const, '/hostname' as const) }), { minLength: 1, maxLength: options.max ?? 8 })
    .map((list) => [...list].sort((a, b) => a.at - b.at));
}

/** Events on a topology with `nodes` nodes and `pods` pods. */
export function eventArb(nodes: number, pods: number, options: { spanMs?: number; max?: number } = {}): fc.Arbitrary<ClusterEvent[]> {
  const span = options.spanMs ?? 20_000;
  const node = fc.record({ kind: fc.constantFrom('node-down' as const, 'node-up' as const), node: fc.integer({ min: 0, max: nodes - 1 }), at: fc.integer({ min: 0, max: span }) });
  const pod = fc.record({ kind: fc.constantFrom('not-ready' as const, 'ready' as const), pod: fc.integer({ min: 0, max: Math.max(0, pods - 1) }), at: fc.integer({ min: 0, max: span }) });
  return fc.array(pods > 0 ? fc.oneof(node, pod) : node, { maxLength: options.max ?? 3 });
}

/** A whole case: a topology, then conversations and events that fit it. */
export function clusterCaseArb(options: TopologyChoices & { clients?: number; spanMs?: number; events?: boolean } = {}): fc.Arbitrary<ClusterCase> {
  return topologyArb(options).chain((topology) => {
    const pods = topology.pods.reduce((a, b) => a + b, 0);
    return fc.record({
      topology: fc.constant(topology),
      conversations: conversationArb(options),
      events: options.events === false ? fc.constant([]) : eventArb(topology.pods.length, pods, options),
    });
  });
}

/** The topology as the manifests a user would apply (the default scenario fills in the rest). */
export function manifestsOf(t: Topology): string {
  const nodes = t.pods.map((_, i) => `  - {name: node${i + 1}, mac: "${NODE_MACS(i)}"}`).join('\n');
  const placement: string[] = [];
  let k = 0;
  t.pods.forEach((n, i) => {
    for (let j = 0; j < n; j++) placement.push(`    web-${k++}: node${i + 1}`);
  });
  return `apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: generated}
spec:
  nodes:
${nodes}
  flags: {enableOvnLbPreferLocal: ${t.preferLocal}, lsCtSkipDstLportIps: ${t.lsCtSkipDstLportIps}, lsDnatModDlDst: true}
  profiles: {kubeOvn: ${t.kubeOvn}, metallb: ${t.metallb}}
${placement.length ? `  placement:\n${placement.join('\n')}\n` : ''}---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ${k}
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec: {containers: [{name: web, image: kubeovn/agnhost:2.47}]}
---
apiVersion: v1
kind: Service
metadata:
  name: nginx-lb
  annotations: {metallb.universe.tf/loadBalancerIPs: ${t.vip}}
spec:
  externalTrafficPolicy: ${t.etp}
  ports: [{port: 80, protocol: TCP, targetPort: 80}]
  selector: {app: nginx}
  type: LoadBalancer
`;
}

/** Runs a case: builds the cluster from its manifests, schedules its events, plays its conversations. */
export function runCase(c: ClusterCase): Observation {
  const objects = withDefaults(loadManifests(c.manifests ?? manifestsOf(c.topology), 'generated.yaml').objects);
  const sim = new SimulatedCluster(objects, clusterFrom(objects), { trace: false });
  const pods = sim.state.pods;
  for (const name of c.topology.notReady.map((i) => pods[i]?.name).filter((n): n is string => n !== undefined)) sim.setPodReady(name, false, 0);
  for (const e of c.events) {
    if (e.kind === 'node-down') sim.nodeDown(`node${e.node + 1}`, e.at);
    else if (e.kind === 'node-up') sim.nodeUp(`node${e.node + 1}`, e.at);
    else if ('pod' in e && pods[e.pod]) sim.setPodReady(pods[e.pod]!.name, e.kind === 'ready', e.at);
  }
  const injected: Observation['injected'] = [];
  // Every frame the clients send goes through here: recorded for the invariants and the counterexample pcap.
  const inject = sim.inject.bind(sim);
  sim.inject = (frame, now, ingress) => {
    const result = inject(frame, now, ingress);
    injected.push({ time: now, frame: new Uint8Array(frame), result });
    return result;
  };
  const clients = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ ip: `10.180.204.${100 + i}`, mac: `52:54:00:aa:00:${(0x64 + i).toString(16)}` }));
  const stacks = new Map<number, ExternalClient>();
  const results: Observation['results'] = [];
  const owners: string[][] = [];
  let clock = 0;
  for (const conv of c.conversations) {
    let client = stacks.get(conv.client);
    if (!client) stacks.set(conv.client, (client = new ExternalClient(sim, clients[conv.client]!.ip, clients[conv.client]!.mac)));
    client.synRetries = 0;
    // Conversations do not overlap: each starts when the one before has ended.
    clock = Math.max(clock, conv.at);
    sim.advance(clock);
    owners.push(sim.state.metallb.owners(c.topology.vip));
    const result = client.curl({ ip: c.topology.vip, path: conv.path }, clock);
    clock = result.end + 1;
    results.push({ conversation: conv, result });
  }
  return { case: c, sim, clients, results, injected, owners, vip: c.topology.vip, vlan: sim.cluster.vlan };
}

/** A cluster property failed: the case, the broken invariants, and the files that reproduce it. */
export class ClusterPropertyError extends VippathError {
  constructor(message: string, readonly counterexample: ClusterCase, readonly violations: string[], readonly files: { manifests: string; pcap: string }, readonly replay: string) {
    super('PROPERTY_FAILED', message);
  }
}

/** Options of {@link checkCluster}. */
export interface ClusterCheckOptions {
  cases: fc.Arbitrary<ClusterCase>;
  invariants: Invariant[];
  /** fast-check parameters; numRuns defaults to VIPPATH_PROPERTY_RUNS or 200, seed to VIPPATH_PROPERTY_SEED or now. */
  parameters?: fc.Parameters<[ClusterCase]>;
  outDir?: string;
}

function seedFromEnv(): number {
  const s = process.env.VIPPATH_PROPERTY_SEED;
  return s && s !== 'random' ? Number(s) : Date.now() % 2 ** 31;
}

/** Checks the invariants over generated cases; throws {@link ClusterPropertyError} with a replayable counterexample. */
export function checkCluster(options: ClusterCheckOptions): { runs: number; seed: number } {
  const runs = options.parameters?.numRuns ?? Number(process.env.VIPPATH_PROPERTY_RUNS ?? 200);
  const seed = options.parameters?.seed ?? seedFromEnv();
  const violationsOf = (c: ClusterCase): string[] => {
    const o = runCase(c);
    return options.invariants.map((inv) => {
      const v = inv.check(o);
      return v === undefined ? undefined : `${inv.name}: ${v}`;
    }).filter((v): v is string => v !== undefined);
  };
  const details = fc.check(fc.property(options.cases, (c) => violationsOf(c).length === 0), { ...options.parameters, numRuns: runs, seed });
  if (!details.failed) return { runs: details.numRuns, seed };
  if (!details.counterexample) throw new VippathError('PROPERTY_FAILED', `the cluster property could not run: ${details.interrupted ? 'interrupted' : 'too many skipped cases'}`);
  const [c] = details.counterexample;
  const violations = violationsOf(c);
  const o = runCase(c);
  const dir = resolve(options.outDir ?? 'vippath-counterexamples', `cluster-seed-${seed}`);
  mkdirSync(dir, { recursive: true });
  const manifests = join(dir, 'manifests.yaml');
  writeFileSync(manifests, c.manifests ?? manifestsOf(c.topology));
  const pcap = join(dir, 'client.pcap');
  const epoch = 1_700_000_000_000_000_000n;
  const sink = memorySink();
  const w = new PcapWriter(sink);
  for (const x of o.injected) w.write({ timestamp: epoch + BigInt(Math.round(x.time * 1e6)), data: x.frame });
  writeFileSync(pcap, sink.bytes());
  const events = c.events.map((e) => ('node' in e ? `--${e.kind} node${e.node + 1}@${e.at}` : `--${e.kind} ${o.sim.state.pods[e.pod]?.name ?? `pod${e.pod}`}@${e.at}`));
  for (const i of c.topology.notReady) if (o.sim.state.pods[i]) events.unshift(`--not-ready ${o.sim.state.pods[i]!.name}@0`);
  const replay = `npx vippath replay ${pcap} --manifests ${manifests} --defaults${events.length ? ` ${events.join(' ')}` : ''}`;
  writeFileSync(join(dir, 'README.txt'), `${violations.join('\n')}\n\nreproduce: ${replay}\ncase: ${JSON.stringify(c)}\n`);
  throw new ClusterPropertyError(
    `cluster property failed after ${details.numRuns} runs (seed ${seed}, shrunk ${details.numShrinks} times):\n  ${violations.join('\n  ')}\ncase: ${JSON.stringify(c)}\nreproduce: ${replay}`,
    c, violations, { manifests, pcap }, replay,
  );
}

// ---- the invariant library ---------------------------------------------------------------------------------

const decoder = new FrameDecoder();
const d = new DecodedFrame();

/** The VIP has at most one announcer, and exactly one whenever a node is eligible (alive, with a ready endpoint under ETP=Local). */
export function oneAnnouncer(): Invariant {
  return {
    name: 'one announcer',
    check(o) {
      for (const [i, owners] of o.owners.entries()) if (owners.length > 1) return `before conversation ${i}, ${owners.join(' and ')} all announce ${o.vip}`;
      return undefined;
    },
  };
}

/** Every connection to the VIP is served by a pod on the node the client's ARP resolved to, when that node has a ready backend. */
export function servedByAnnouncer(): Invariant {
  return {
    name: 'served by the announcer',
    check(o) {
      for (const { result } of o.results) {
        if (!result.ok || !result.arp?.node || !result.servedBy) continue;
        const local = o.sim.state.pods.some((p) => p.node === result.arp!.node && p.ready && !o.sim.down.has(p.node));
        if (local && result.servedBy.node !== result.arp.node) return `a connection through ${result.arp.node} was served by ${result.servedBy.pod} on ${result.servedBy.node}`;
      }
      return undefined;
    },
  };
}

/** Every request that reaches a pod is seen with the client's own address (no SNAT). */
export function clientIpPreserved(): Invariant {
  return {
    name: 'client IP preserved',
    check(o) {
      for (const { conversation, result } of o.results) {
        const seen = result.servedBy?.client.split(':')[0];
        if (seen !== undefined && seen !== o.clients[conversation.client]!.ip) return `${result.servedBy!.pod} saw ${seen}, not the client ${o.clients[conversation.client]!.ip}`;
      }
      return undefined;
    },
  };
}

/** TCP that reaches a client comes from the VIP:80 (replies are un-DNATed), tagged with the cluster's VLAN. */
export function repliesFromVip(): Invariant {
  return {
    name: 'replies from the VIP',
    check(o) {
      const clientIps = new Set(o.clients.map((c) => c.ip));
      for (const x of o.injected) {
        for (const f of x.result.outside) {
          decoder.decode(f, d);
          if (d.l3 !== L3.IPV4 || d.ipProto !== 6 || !clientIps.has(formatIPv4(d.ipDst))) continue;
          if (formatIPv4(d.ipSrc) !== o.vip || d.srcPort !== 80) return `a TCP segment reached ${formatIPv4(d.ipDst)} from ${formatIPv4(d.ipSrc)}:${d.srcPort}, not ${o.vip}:80`;
          if (d.vlanCount !== 1 || d.vid(0) !== o.vlan) return `a reply left with VLAN ${d.vlanCount ? d.vid(0) : 'none'}, not ${o.vlan}`;
        }
      }
      return undefined;
    },
  };
}

/** No frame reaches the outside on a VLAN other than the cluster's. */
export function onlyOwnVlanOnWire(): Invariant {
  return {
    name: 'only its own VLAN on the wire',
    check(o) {
      for (const x of o.injected) {
        for (const f of [...x.result.background, ...x.result.outside]) {
          decoder.decode(f, d);
          if (d.vlanCount !== 1 || d.vid(0) !== o.vlan) return `a frame left for the outside ${d.vlanCount ? `on VLAN ${d.vid(0)}` : 'untagged'}`;
        }
      }
      return undefined;
    },
  };
}

/**
 * Every chassis' conntrack holds no more than its bound, and each connection's reply tuple is its original tuple
 * reversed, but for the one side its NAT translated (DNAT: the reply comes from the backend to the client; SNAT:
 * from the destination to the translated source).
 */
export function conntrackSymmetricAndBounded(): Invariant {
  return {
    name: 'conntrack symmetric and bounded',
    check(o) {
      for (const { chassis, conntrack } of o.sim.ls.conntracks()) {
        if (conntrack.size > conntrack.limit) return `the conntrack of ${chassis} holds ${conntrack.size} connections, over its limit ${conntrack.limit}`;
        for (const c of conntrack.connections(Number.MAX_SAFE_INTEGER / 2)) {
          const { orig, reply } = c;
          const ok = c.proto === 1 || c.proto === 58
            ? true
            : c.nat === 'dst' ? reply.dst === orig.src && reply.dport === orig.sport
            : c.nat === 'src' ? reply.src === orig.dst && reply.sport === orig.dport
            : reply.src === orig.dst && reply.dst === orig.src && reply.sport === orig.dport && reply.dport === orig.sport;
          if (!ok) return `a connection in zone ${c.zone} on ${chassis} has a reply tuple that does not answer its original (${orig.src}:${orig.sport} → ${orig.dst}:${orig.dport}, reply ${reply.src}:${reply.sport} → ${reply.dst}:${reply.dport})`;
        }
      }
      return undefined;
    },
  };
}

/** Every injected frame ends with a verdict; one that was dropped says why, and every drop is counted. */
export function noSilentLoss(): Invariant {
  return {
    name: 'no silent loss',
    check(o) {
      let drops = 0;
      for (const x of o.injected) {
        drops += x.result.drops.length;
        if (x.result.verdict === 'dropped' && x.result.drops.length === 0) return 'a frame was dropped without a reason';
        if (x.result.drops.some((dr) => !dr.reason)) return 'a drop has no reason';
      }
      const counted = [...o.sim.dropCounts.values()].reduce((a, b) => a + b, 0);
      if (counted < drops) return `${drops} drops reported by frames but only ${counted} counted`;
      return undefined;
    },
  };
}

/**
 * Every conversation gets its HTTP answer whenever a ready backend exists on a node that is up (without events:
 * during a failover connections legitimately time out).
 */
export function connectionsSucceed(): Invariant {
  return {
    name: 'connections succeed',
    check(o) {
      const ready = o.sim.state.pods.some((p) => p.ready && !o.sim.down.has(p.node));
      for (const { conversation, result } of o.results) {
        if (ready && !result.ok) return `client ${conversation.client} at ${conversation.at} ms: ${result.error}`;
        if (!ready && result.ok) return `client ${conversation.client} was served with no ready backend`;
      }
      return undefined;
    },
  };
}

/** Every invariant of the library that holds through events, for the seed document's prerequisites. */
export function allInvariants(): Invariant[] {
  return [oneAnnouncer(), servedByAnnouncer(), clientIpPreserved(), repliesFromVip(), onlyOwnVlanOnWire(), conntrackSymmetricAndBounded(), noSilentLoss()];
}

/**
 * The test harness over the real-cluster testbed (packages/vippath/src/testbed): one testbed per scenario,
 * started by the test and stopped by pid however the test ends (try/finally here, the process-exit hook in
 * daemons.ts for a killed run), and generated conversations that react to what the cluster answered (a client
 * acknowledges the SYN-ACK it got, as a real stack does, so conntrack sees a consistent TCP stream).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { clusterFrom, loadManifests, SimulatedCluster, withDefaults, type ClusterSpec, type K8sObject } from '@vippath/cluster';
import { buildFrame, DecodedFrame, FrameDecoder, formatIPv4, formatMac, L3, parseIPv6 } from '@vippath/wire';
import { processRunning } from '../oracle-process.js';
import { Differential, Testbed, testbedUnavailable, type Observe, type StepResult, type TestbedProfile } from '../../packages/vippath/src/testbed/index.js';

export const unavailable = testbedUnavailable();

/** A scenario: manifests over the defaults (a Cluster object included), and the OVN profile of the real side. */
export interface Scenario {
  name: string;
  manifests: string;
  profile: TestbedProfile;
}

/** The default scenario as the testbeds build it. */
export const DEFAULT_SCENARIO: Scenario = { name: 'default (3 nodes, ETP Local, Kube-OVN 1.14 patches)', manifests: '', profile: 'kube-ovn' };

/** ETP Cluster beside ETP Local: a frame DNATed to a pod on another node, its answer back out of that node. */
export const TWO_SERVICES: Scenario = {
  name: 'two Services (ETP Local and Cluster), 2 nodes, 4 pods',
  profile: 'kube-ovn',
  manifests: `
apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: two}
spec:
  nodes: [{name: node1}, {name: node2}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: agnhost}]}}
---
apiVersion: v1
kind: Service
metadata: {name: web-local, annotations: {metallb.universe.tf/loadBalancerIPs: 10.180.204.252}}
spec: {type: LoadBalancer, externalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80, targetPort: 80, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-cluster, annotations: {metallb.universe.tf/loadBalancerIPs: 10.180.204.253}}
spec: {type: LoadBalancer, externalTrafficPolicy: Cluster, selector: {app: web}, ports: [{port: 80, targetPort: 80, protocol: TCP}]}
`,
};

/** A UDP Service (port 53) beside a TCP one on the same pods, ETP Local, 3 nodes. */
export const UDP_SERVICE: Scenario = {
  name: 'a UDP Service (ETP Local, port 53) beside the TCP one, 3 nodes',
  profile: 'kube-ovn',
  manifests: `
apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: udp}
spec:
  nodes: [{name: node1}, {name: node2}, {name: node3}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dns, labels: {app: dns}}
spec:
  replicas: 3
  selector: {matchLabels: {app: dns}}
  template: {metadata: {labels: {app: dns}}, spec: {containers: [{name: dns, image: agnhost}]}}
---
apiVersion: v1
kind: Service
metadata: {name: dns-udp, annotations: {metallb.universe.tf/loadBalancerIPs: 10.180.204.253}}
spec: {type: LoadBalancer, externalTrafficPolicy: Local, selector: {app: dns}, ports: [{port: 53, targetPort: 53, protocol: UDP}]}
---
apiVersion: v1
kind: Service
metadata: {name: dns-tcp, annotations: {metallb.universe.tf/loadBalancerIPs: 10.180.204.252}}
spec: {type: LoadBalancer, externalTrafficPolicy: Local, selector: {app: dns}, ports: [{port: 80, targetPort: 80, protocol: TCP}]}
`,
};

/**
 * sessionAffinity ClientIP: Kube-OVN's session load balancer (selection_fields ip_src, affinity_timeout 10800),
 * whose first packet from a client not yet learned is dropped (ls_in_lb_aff_learn: commit_lb_aff, no next).
 */
export const SESSION_AFFINITY: Scenario = {
  name: 'session affinity (sessionAffinity: ClientIP, ETP Local), 2 nodes, 4 pods',
  profile: 'kube-ovn',
  manifests: `
apiVersion: vippath.dev/v1alpha1
kind: Cluster
metadata: {name: sticky}
spec:
  nodes: [{name: node1}, {name: node2}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: agnhost}]}}
---
apiVersion: v1
kind: Service
metadata: {name: sticky, annotations: {metallb.universe.tf/loadBalancerIPs: 10.180.204.252}}
spec: {type: LoadBalancer, externalTrafficPolicy: Local, sessionAffinity: ClientIP, selector: {app: web}, ports: [{port: 80, targetPort: 80, protocol: TCP}]}
`,
};

/**
 * Dual-stack (the seed's Service is PreferDualStack): the default scenario with an IPv4+IPv6 Subnet, a dual-stack
 * MetalLB pool and a RequireDualStack Service holding 10.180.204.252 and fd00:10:180::fc — pods with one address
 * of each family, an IPv6 VIP in the OVN LB with IPv6 backends, Kube-OVN's tcp6 rule on br-provider, MetalLB's NDP
 * answers. Its own conversations are IPv6 ones (conversation6Arb).
 */
export const DUAL_STACK: Scenario = {
  name: 'dual-stack (IPv6 VIP, NDP, TCP)',
  profile: 'kube-ovn',
  manifests: readFileSync(new URL('../fixtures/manifests/dual-stack.yaml', import.meta.url), 'utf8'),
};

export function scenarioObjects(s: Scenario): { objects: K8sObject[]; cluster: ClusterSpec } {
  const objects = s.manifests ? withDefaults(loadManifests(s.manifests, s.name).objects) : withDefaults([]);
  return { objects, cluster: clusterFrom(objects) };
}

/** A running testbed and simulation of one scenario; `close` stops the testbed and checks nothing is left. */
export interface OpenTestbed {
  diff: Differential;
  sim: SimulatedCluster;
  bed: Testbed;
  close(): Promise<void>;
}

/**
 * Starts a fresh testbed and simulation of `scenario` (the caller closes it). `observe: 'wire'`: the simulation
 * untraced and watched only on the wire, so its caches stay on (see Differential's Observe).
 */
export async function openTestbed(scenario: Scenario, observe: Observe = 'taps'): Promise<OpenTestbed> {
  const { objects, cluster } = scenarioObjects(scenario);
  const bed = await Testbed.start(objects, cluster, { profile: scenario.profile, ...(process.env.VIPPATH_TESTBED_KEEP ? { keep: true, log: (l: string) => console.log(l) } : {}) });
  const close = async (): Promise<void> => {
    const pids = bed.running();
    await bed.stop();
    const left = pids.filter(processRunning);
    if (left.length) throw new Error(`testbed daemons still running after stop: ${left.join(', ')}`);
  };
  try {
    const sim = new SimulatedCluster(objects, cluster, { vifBoundAt: 0, ovnVersion: bed.ovnVersion, ...(observe === 'wire' ? { trace: false } : {}) });
    return { diff: new Differential(sim, bed, observe), sim, bed, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Runs `fn` with a fresh testbed and simulation of `scenario`; the testbed is stopped and checked gone afterwards. */
export async function withTestbed<T>(scenario: Scenario, fn: (diff: Differential, sim: SimulatedCluster, bed: Testbed) => Promise<T>): Promise<T> {
  const t = await openTestbed(scenario);
  try {
    return await fn(t.diff, t.sim, t.bed);
  } finally {
    await t.close();
  }
}

/** One generated conversation. */
export type Conversation =
  | { kind: 'arp'; client: number; target: 'vip' | 'pod'; which: number; pad: boolean }
  | { kind: 'tcp'; client: number; target: 'vip' | 'pod'; which: number; sport: number; isn: number; path: string; close: 'fin' | 'rst' | 'early-fin'; retry?: boolean }
  | { kind: 'icmp'; client: number; target: 'vip' | 'pod'; which: number; id: number; count: number }
  | { kind: 'udp'; client: number; target: 'vip' | 'pod'; which: number; sport: number; dport: number; size: number }
  | { kind: 'pod-client'; pod: number; what: 'arp-client' | 'icmp-client' | 'syn-client' | 'syn-own-vip' | 'syn-other-pod' ; sport: number }
  | { kind: 'foreign-vlan'; client: number; vlan: number | null }
  | { kind: 'ipv6'; client: number; what: 'ns' | 'syn'; target: number; sport: number }
  | { kind: 'icmp-error'; from: 'outside' | 'pod'; to: 'vip' | 'pod'; client: number; pod: number; sport: number; code: 1 | 3 | 4; embed: 'header' | 'all' }
  | Conversation6
  | HostConversation;

/**
 * A TCP connection from a node's own host, through br-provider's LOCAL port (untagged, the node's MAC, an address
 * of the host in the subnet): to a VIP (to its owner's MAC — on another node the frame leaves by the uplink and
 * comes back in by the owner's NIC) or to a pod's address. Not in {@link conversationArb} (its generated inputs
 * stay as they were); the host reads its answers from the real side (Differential.lastTaken).
 */
export type HostConversation = { kind: 'host'; node: number; target: 'vip' | 'pod'; which: number; sport: number; isn: number; path: string; close: 'fin' | 'rst' | 'early-fin' };

export const hostConversationArb: fc.Arbitrary<HostConversation> = fc.record({
  kind: fc.constant('host' as const), node: fc.nat(7), target: fc.constantFrom('vip' as const, 'vip' as const, 'pod' as const), which: fc.nat(7),
  sport: fc.integer({ min: 1024, max: 65535 }), isn: fc.nat(), path: fc.constantFrom('/clientip', '/hostname', '/'), close: fc.constantFrom('fin' as const, 'rst' as const, 'early-fin' as const),
});

/**
 * A dual-stack conversation over IPv6 (not in {@link conversationArb}: the dual-stack scenario's own, so the other
 * scenarios' generated inputs stay as they were): the client's neighbor solicitation for the target (the IPv6
 * VIP, which MetalLB's speaker answers, or a pod's IPv6 address, which the pod answers), then a TCP connection to
 * it — SYN, ACK, a request, and the close — as the 'tcp' conversation over IPv4.
 */
export type Conversation6 = { kind: 'tcp6'; client: number; target: 'vip' | 'pod'; which: number; ns: boolean; sport: number; isn: number; path: string; close: 'fin' | 'rst' | 'early-fin' };

export const conversation6Arb: fc.Arbitrary<Conversation6> = fc.record({
  kind: fc.constant('tcp6' as const), client: fc.integer({ min: 0, max: 20 }), target: fc.constantFrom('vip' as const, 'vip' as const, 'pod' as const), which: fc.nat(7), ns: fc.boolean(),
  sport: fc.integer({ min: 1024, max: 65535 }), isn: fc.nat(), path: fc.constantFrom('/clientip', '/hostname', '/'), close: fc.constantFrom('fin' as const, 'rst' as const, 'early-fin' as const),
});

export const conversationArb: fc.Arbitrary<Conversation> = fc.oneof(
  fc.record({ kind: fc.constant('arp' as const), client: fc.integer({ min: 0, max: 20 }), target: fc.constantFrom('vip' as const, 'pod' as const), which: fc.nat(7), pad: fc.boolean() }),
  fc.record({ kind: fc.constant('tcp' as const), client: fc.integer({ min: 0, max: 20 }), target: fc.constantFrom('vip' as const, 'vip' as const, 'pod' as const), which: fc.nat(7), sport: fc.integer({ min: 1024, max: 65535 }), isn: fc.nat(), path: fc.constantFrom('/clientip', '/hostname', '/'), close: fc.constantFrom('fin' as const, 'rst' as const, 'early-fin' as const) }),
  fc.record({ kind: fc.constant('icmp' as const), client: fc.integer({ min: 0, max: 20 }), target: fc.constantFrom('vip' as const, 'pod' as const), which: fc.nat(7), id: fc.integer({ min: 0, max: 65535 }), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('udp' as const), client: fc.integer({ min: 0, max: 20 }), target: fc.constantFrom('vip' as const, 'pod' as const), which: fc.nat(7), sport: fc.integer({ min: 1024, max: 65535 }), dport: fc.constantFrom(53, 80, 8080), size: fc.integer({ min: 0, max: 64 }) }),
  fc.record({ kind: fc.constant('pod-client' as const), pod: fc.nat(7), what: fc.constantFrom('arp-client' as const, 'icmp-client' as const, 'syn-client' as const, 'syn-own-vip' as const, 'syn-other-pod' as const), sport: fc.integer({ min: 1024, max: 65535 }) }),
  fc.record({ kind: fc.constant('foreign-vlan' as const), client: fc.integer({ min: 0, max: 20 }), vlan: fc.constantFrom(null, 1, 342) }),
  fc.record({ kind: fc.constant('ipv6' as const), client: fc.integer({ min: 0, max: 20 }), what: fc.constantFrom('ns' as const, 'syn' as const), target: fc.constantFrom(0x252, 0x2, 0x100), sport: fc.integer({ min: 1024, max: 65535 }) }),
  // `rel` traffic: an ICMP error (host/port unreachable, fragmentation needed) about a connection, embedding the
  // SYN-ACK its sender got: from the outside client about a connection to the VIP or to a pod's own address, or
  // from a pod that connected to the VIP.
  fc.record({ kind: fc.constant('icmp-error' as const), from: fc.constantFrom('outside' as const, 'pod' as const), to: fc.constantFrom('vip' as const, 'pod' as const), client: fc.integer({ min: 0, max: 20 }), pod: fc.nat(7), sport: fc.integer({ min: 1024, max: 65535 }), code: fc.constantFrom(1 as const, 3 as const, 4 as const), embed: fc.constantFrom('header' as const, 'all' as const) }),
);

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;

const dec = new FrameDecoder();
const d = new DecodedFrame();

/** The outside frames of a step, the real side's first (the oracle), else the simulation's. */
function outsideFrames(s: StepResult, port = 'outside'): Uint8Array[] {
  const p = s.ports.find((x) => x.port === port);
  return p ? (p.real.length ? p.real : p.simulated) : [];
}

/**
 * Plays a conversation through the differential driver, from simulated time `t`; returns the time after it.
 * Every step's result goes to `onStep`.
 */
/** What a client saw of the server's segments in one step: its last sequence number, and the length it acks. */
interface Answer { seq?: number; fin: boolean; len: number }

/**
 * A curl-like TCP conversation over either family: handshake, then a FIN right away (`early-fin`) or a GET and a
 * FIN or RST after the response; it stops where the server stops answering.
 */
async function httpDialogue(
  c: { isn: number; path: string; close: 'fin' | 'rst' | 'early-fin'; retry?: boolean },
  host: string,
  seg: (flags: number, seq: number, ack: number, payload?: Uint8Array) => Uint8Array,
  answers: (s: StepResult) => Answer,
  feed: (at: string, frame: Uint8Array) => Promise<StepResult>,
  at = 'outside',
): Promise<void> {
  let seq = c.isn >>> 0;
  let synack = answers(await feed(at, seg(SYN, seq, 0)));
  // A client's retransmission of an unanswered SYN (the same bytes): e.g. after a session-affinity VIP dropped the
  // first one while learning the client.
  if (synack.seq === undefined && c.retry) synack = answers(await feed(at, seg(SYN, seq, 0)));
  seq = (seq + 1) >>> 0;
  if (synack.seq === undefined) return;
  let ack = (synack.seq + synack.len) >>> 0;
  await feed(at, seg(ACK, seq, ack));
  if (c.close === 'early-fin') {
    const r = answers(await feed(at, seg(FIN | ACK, seq, ack)));
    seq = (seq + 1) >>> 0;
    if (r.seq !== undefined) await feed(at, seg(ACK, seq, (r.seq + r.len) >>> 0));
    return;
  }
  const req = new TextEncoder().encode(`GET ${c.path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const resp = answers(await feed(at, seg(PSH | ACK, seq, ack, req)));
  seq = (seq + req.length) >>> 0;
  if (resp.seq === undefined) return;
  ack = (resp.seq + resp.len) >>> 0;
  await feed(at, seg(c.close === 'rst' ? RST | ACK : FIN | ACK, seq, ack));
}

export async function play(c: Conversation, diff: Differential, t: number, onStep: (s: StepResult) => void): Promise<number> {
  const sim = diff.sim;
  const st = sim.state;
  const vlan = sim.cluster.vlan;
  const vips = st.services.flatMap((s) => s.ingress.filter((ip) => !ip.includes(':')).map((ip) => ({ ip, owner: st.metallb.owners(ip)[0], port: s.ports[0]?.port ?? 80 })));
  const pods = st.pods;
  const clientIp = (n: number): string => `10.180.204.${100 + n}`;
  const clientMac = (n: number): string => `52:54:00:aa:01:${(n + 0x10).toString(16).padStart(2, '0')}`;
  const nodeMac = (node: string | undefined): string => sim.cluster.nodes.find((n) => n.name === node)?.mac ?? 'ff:ff:ff:ff:ff:ff';
  const feed = async (at: string, frame: Uint8Array): Promise<StepResult> => {
    t += 7;
    const s = await diff.feed({ at, frame, time: t, label: `${c.kind} ${JSON.stringify(c)}` });
    onStep(s);
    return s;
  };
  const target = (kind: 'vip' | 'pod', which: number): { ip: string; mac: string; port: number } | undefined => {
    if (kind === 'vip') {
      const v = vips[which % Math.max(1, vips.length)];
      return v && { ip: v.ip, mac: nodeMac(v.owner), port: v.port };
    }
    const p = pods[which % Math.max(1, pods.length)];
    return p && { ip: p.ip, mac: p.mac, port: 80 };
  };
  switch (c.kind) {
    case 'arp': {
      const tg = target(c.target, c.which);
      if (!tg) return t;
      await feed('outside', buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: clientMac(c.client), vlans: [vlan], arp: { op: 1, senderMac: clientMac(c.client), senderIp: clientIp(c.client), targetMac: '00:00:00:00:00:00', targetIp: tg.ip }, ...(c.pad ? { padTo: 64 } : {}) }));
      return t;
    }
    case 'ipv6': {
      // IPv6 on an IPv4 underlay: neighbor solicitation (multicast to the solicited-node group, with the source
      // link-layer option) and a TCP SYN to the VIP owner's MAC — through br-provider and OVN without a v6 LB.
      const mac = clientMac(c.client);
      const src = `fd00::${(0x100 + c.client).toString(16)}`;
      const target = `fd00::${c.target.toString(16)}`;
      const t16 = c.target & 0xffff;
      if (c.what === 'ns') {
        const sll = Uint8Array.from(mac.split(':').map((x) => parseInt(x, 16)));
        await feed('outside', buildFrame({ dst: `33:33:ff:00:${(t16 >> 8).toString(16).padStart(2, '0')}:${(t16 & 0xff).toString(16).padStart(2, '0')}`, src: mac, vlans: [vlan], ipv6: { src, dst: `ff02::1:ff00:${t16.toString(16)}`, hopLimit: 255 }, ndp: { type: 135, router: false, solicited: false, override: false, target, options: [{ type: 1, data: sll }] } }));
      } else {
        const owner = vips[0]?.owner;
        await feed('outside', buildFrame({ dst: nodeMac(owner), src: mac, vlans: [vlan], ipv6: { src, dst: target }, tcp: { srcPort: c.sport, dstPort: 80, seq: 1, flags: SYN } }));
      }
      return t;
    }
    case 'tcp6': {
      const v6 = st.services.flatMap((x) => x.ingress.filter((ip) => ip.includes(':')).map((ip) => ({ ip, owner: st.metallb.owners(ip)[0], port: x.ports[0]?.port ?? 80 })));
      const pods6 = pods.filter((p) => p.ip6);
      const tg = c.target === 'vip'
        ? ((v) => v && { ip: v.ip, mac: nodeMac(v.owner), port: v.port })(v6[c.which % Math.max(1, v6.length)])
        : ((p) => p && { ip: p.ip6!, mac: p.mac, port: 80 })(pods6[c.which % Math.max(1, pods6.length)]);
      if (!tg) return t;
      const mac = clientMac(c.client);
      // The client in the subnet's IPv6 block (the dual-stack scenario's fd00:10:180::/120), clear of the pods.
      const ip = `fd00:10:180::${(0x80 + c.client).toString(16)}`;
      const ipBytes = parseIPv6(ip);
      if (c.ns) {
        const tb = parseIPv6(tg.ip);
        const hex = (b: number): string => b.toString(16).padStart(2, '0');
        const sll = Uint8Array.from(mac.split(':').map((x) => parseInt(x, 16)));
        await feed('outside', buildFrame({ dst: `33:33:ff:${hex(tb[13]!)}:${hex(tb[14]!)}:${hex(tb[15]!)}`, src: mac, vlans: [vlan], ipv6: { src: ip, dst: `ff02::1:ff${hex(tb[13]!)}:${hex(tb[14]!)}${hex(tb[15]!)}`, hopLimit: 255 }, ndp: { type: 135, router: false, solicited: false, override: false, target: tg.ip, options: [{ type: 1, data: sll }] } }));
      }
      const seg = (flags: number, seq: number, ack: number, payload?: Uint8Array): Uint8Array => buildFrame({ dst: tg.mac, src: mac, vlans: [vlan], ipv6: { src: ip, dst: tg.ip }, tcp: { srcPort: c.sport, dstPort: tg.port, seq: seq >>> 0, ack: ack >>> 0, flags, window: 64240, ...(payload ? { payload } : {}) } });
      const toClient = (f: Uint8Array): boolean => {
        for (let i = 0; i < 16; i++) if (f[d.l3Offset + 24 + i] !== ipBytes[i]) return false;
        return true;
      };
      const answers = (s: StepResult): Answer => {
        let out: Answer = { fin: false, len: 0 };
        for (const f of outsideFrames(s)) {
          if (dec.decode(f, d) !== 0 || d.l3 !== L3.IPV6 || d.ipProto !== 6 || d.dstPort !== c.sport || !toClient(f)) continue;
          out = { seq: d.tcpSeq, fin: (d.tcpFlags & FIN) !== 0, len: d.payloadLength + ((d.tcpFlags & (SYN | FIN)) ? 1 : 0) };
        }
        return out;
      };
      await httpDialogue(c, `[${tg.ip}]`, seg, answers, feed);
      return t;
    }
    case 'foreign-vlan': {
      const tg = target('vip', 0);
      if (!tg) return t;
      await feed('outside', buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: clientMac(c.client), vlans: c.vlan === null ? [] : [c.vlan], arp: { op: 1, senderMac: clientMac(c.client), senderIp: clientIp(c.client), targetMac: '00:00:00:00:00:00', targetIp: tg.ip } }));
      return t;
    }
    case 'icmp': {
      const tg = target(c.target, c.which);
      if (!tg) return t;
      for (let i = 0; i < c.count; i++) {
        const body = new Uint8Array(4 + 16);
        body[0] = c.id >> 8;
        body[1] = c.id & 0xff;
        body[3] = i + 1;
        await feed('outside', buildFrame({ dst: tg.mac, src: clientMac(c.client), vlans: [vlan], ipv4: { src: clientIp(c.client), dst: tg.ip }, icmp: { type: 8, code: 0, body } }));
      }
      return t;
    }
    case 'udp': {
      const tg = target(c.target, c.which);
      if (!tg) return t;
      await feed('outside', buildFrame({ dst: tg.mac, src: clientMac(c.client), vlans: [vlan], ipv4: { src: clientIp(c.client), dst: tg.ip }, udp: { srcPort: c.sport, dstPort: c.dport, payload: new Uint8Array(c.size).fill(0x61) } }));
      return t;
    }
    case 'tcp': {
      const tg = target(c.target, c.which);
      if (!tg) return t;
      const mac = clientMac(c.client);
      const ip = clientIp(c.client);
      const seg = (flags: number, seq: number, ack: number, payload?: Uint8Array): Uint8Array => buildFrame({ dst: tg.mac, src: mac, vlans: [vlan], ipv4: { src: ip, dst: tg.ip }, tcp: { srcPort: c.sport, dstPort: tg.port, seq: seq >>> 0, ack: ack >>> 0, flags, window: 64240, ...(payload ? { payload } : {}) } });
      // The answers the client got: the server's next sequence number and whether it closed.
      const answers = (s: StepResult): Answer => {
        let out: Answer = { fin: false, len: 0 };
        for (const f of outsideFrames(s)) {
          if (dec.decode(f, d) !== 0 || d.l3 !== L3.IPV4 || d.ipProto !== 6 || d.dstPort !== c.sport || formatIPv4(d.ipDst) !== ip) continue;
          out = { seq: d.tcpSeq, fin: (d.tcpFlags & FIN) !== 0, len: d.payloadLength + ((d.tcpFlags & (SYN | FIN)) ? 1 : 0) };
        }
        return out;
      };
      await httpDialogue(c, tg.ip, seg, answers, feed);
      return t;
    }
    case 'host': {
      const node = sim.cluster.nodes[c.node % sim.cluster.nodes.length]!;
      const tg = target(c.target, c.which);
      if (!tg) return t;
      const at = `${node.name}/br-provider`;
      // The host's own address: in the subnet, clear of the pods, the clients (.100–.120) and MetalLB's pool.
      const ip = `10.180.204.${200 + sim.cluster.nodes.indexOf(node)}`;
      const seg = (flags: number, seq: number, ack: number, payload?: Uint8Array): Uint8Array => buildFrame({ dst: tg.mac, src: node.mac, ipv4: { src: ip, dst: tg.ip }, tcp: { srcPort: c.sport, dstPort: tg.port, seq: seq >>> 0, ack: ack >>> 0, flags, window: 64240, ...(payload ? { payload } : {}) } });
      // What came back to the host: the real side's frames out of its LOCAL port (compared with `taps`
      // observation; with `wire` the simulation reports none, and the pods' side is what is compared).
      const answers = (): Answer => {
        let out: Answer = { fin: false, len: 0 };
        for (const x of diff.lastTaken) {
          if (x.tap !== at || dec.decode(x.frame, d) !== 0 || d.l3 !== L3.IPV4 || d.ipProto !== 6 || d.dstPort !== c.sport || formatIPv4(d.ipDst) !== ip) continue;
          out = { seq: d.tcpSeq, fin: (d.tcpFlags & FIN) !== 0, len: d.payloadLength + ((d.tcpFlags & (SYN | FIN)) ? 1 : 0) };
        }
        return out;
      };
      await httpDialogue(c, tg.ip, seg, answers, feed, at);
      return t;
    }
    case 'icmp-error': {
      const p = pods[c.pod % Math.max(1, pods.length)];
      const outside = c.from === 'outside' || !p;
      // A pod's own address is a destination for the outside client only (a pod reaching another pod is no LB).
      const v = vips[0];
      const dest = outside && c.to === 'pod' && p ? { ip: p.ip, port: 80, mac: p.mac } : v && { ip: v.ip, port: v.port, mac: nodeMac(v.owner) };
      if (!dest) return t;
      const at = outside ? 'outside' : `${p.node}/${p.name}`;
      const mac = outside ? clientMac(c.client) : p.mac;
      const ip = outside ? clientIp(c.client) : p.ip;
      const tags = outside ? [vlan] : [];
      const s = await feed(at, buildFrame({ dst: dest.mac, src: mac, vlans: tags, ipv4: { src: ip, dst: dest.ip }, tcp: { srcPort: c.sport, dstPort: dest.port, seq: 7000, flags: SYN, window: 64240 } }));
      // The SYN-ACK as its receiver got it (the oracle's, else the simulation's), from its IP header on.
      const got = outsideFrames(s, at).find((f) => dec.decode(f, d) === 0 && d.l3 === L3.IPV4 && d.ipProto === 6 && d.dstPort === c.sport && (d.tcpFlags & (SYN | ACK)) === (SYN | ACK));
      if (!got) return t;
      dec.decode(got, d);
      const inner = got.subarray(d.l3Offset, c.embed === 'header' ? d.l3Offset + 28 : d.l3End);
      const body = new Uint8Array(4 + inner.length);
      if (c.code === 4) body.set([0x05, 0x78], 2);
      body.set(inner, 4);
      await feed(at, buildFrame({ dst: dest.mac, src: mac, vlans: tags, ipv4: { src: ip, dst: dest.ip }, icmp: { type: 3, code: c.code, body } }));
      return t;
    }
    case 'pod-client': {
      const p = pods[c.pod % Math.max(1, pods.length)];
      if (!p) return t;
      const at = `${p.node}/${p.name}`;
      const client = { ip: sim.cluster.client.ip, mac: sim.cluster.client.mac };
      const vip = vips[0];
      if (c.what === 'arp-client') await feed(at, buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: p.mac, arp: { op: 1, senderMac: p.mac, senderIp: p.ip, targetMac: '00:00:00:00:00:00', targetIp: client.ip } }));
      else if (c.what === 'icmp-client') await feed(at, buildFrame({ dst: client.mac, src: p.mac, ipv4: { src: p.ip, dst: client.ip }, icmp: { type: 8, code: 0, body: new Uint8Array(8) } }));
      else if (c.what === 'syn-client') await feed(at, buildFrame({ dst: client.mac, src: p.mac, ipv4: { src: p.ip, dst: client.ip }, tcp: { srcPort: c.sport, dstPort: 8080, seq: 1000, flags: SYN } }));
      else if (c.what === 'syn-own-vip' && vip) await feed(at, buildFrame({ dst: nodeMac(vip.owner), src: p.mac, ipv4: { src: p.ip, dst: vip.ip }, tcp: { srcPort: c.sport, dstPort: vip.port, seq: 1000, flags: SYN } }));
      else if (c.what === 'syn-other-pod') {
        const q = pods[(c.pod + 1) % pods.length]!;
        await feed(at, buildFrame({ dst: q.mac, src: p.mac, ipv4: { src: p.ip, dst: q.ip }, tcp: { srcPort: c.sport, dstPort: 80, seq: 1000, flags: SYN } }));
      }
      return t;
    }
  }
}

/**
 * The known first difference of a conversation (testbed.test.ts's root 'reopened-nat-tuple-ovs-3.1.0'): a SYN
 * reopening a TIME_WAIT connection to the VIP reaches a pod with its source port moved on the real side (Debian's
 * ovs-vswitchd 3.1.0 keeps the old connection's un-NAT entry; vippath follows branch-3.1 as fixed in v3.1.3).
 */
export function reopenedNatTuple(s: StepResult, podPorts: ReadonlySet<string>): boolean {
  return s.differences.some((x) => podPorts.has(x.port) && x.real !== null && x.simulated !== null && synMovedPort(x.real, x.simulated));
}

/** Both frames are the same TCP SYN but for the source port (and so the checksum). */
function synMovedPort(realHex: string, simHex: string): boolean {
  const a = Buffer.from(realHex, 'hex');
  const b = Buffer.from(simHex, 'hex');
  if (a.length !== b.length || dec.decode(a, d) !== 0 || d.l3 !== L3.IPV4 || d.ipProto !== 6 || (d.tcpFlags & 0x12) !== 0x02) return false;
  const l4 = d.l4Offset;
  for (let i = 0; i < a.length; i++) {
    const port = i >= l4 && i < l4 + 2;
    const sum = i >= l4 + 16 && i < l4 + 18;
    if (!port && !sum && a[i] !== b[i]) return false;
  }
  return a.readUInt16BE(l4) !== b.readUInt16BE(l4);
}

/**
 * One line per difference, for the test log; VIPPATH_TESTBED_STAGES=1 adds vippath's stage trace of the input (with
 * every port watched, VIPPATH_TESTBED_OBSERVE=taps in the cached suite: untraced runs record none).
 */
export function differenceLines(s: StepResult): string[] {
  const stages = process.env.VIPPATH_TESTBED_STAGES ? (x: StepResult['differences'][number]): string => `\n    stages: ${x.stages.map((st) => `${st.stage}@${st.at}: ${st.decision}`).join('\n            ')}` : (): string => '';
  return s.differences.map((x) => `  input ${x.input} ${x.label}\n    port ${x.port}[${x.position}]\n    real: ${x.realText ?? '(nothing)'} ${x.real ?? ''}\n    sim:  ${x.simulatedText ?? '(nothing)'} ${x.simulated ?? ''}${stages(x)}`);
}

export { formatMac };

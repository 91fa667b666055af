/**
 * The cluster composed per node, in the design card's order: the wire (a learning switch carrying VLAN 341
 * between the outside and every node's NIC) → `underlay0.341` (untag 341 in, tag out) → `br-provider` (the
 * node's OpenFlow bridge with Kube-OVN's flows; MetalLB's responder on its LOCAL port) → patch → the OVN logical
 * switch (chassis = node) → LB DNAT → pod; and back. Every hop is recorded, so each injected frame has a story,
 * and every copy of a frame ends delivered, sent out, or dropped with a counted reason.
 */
import { Bridge, Port } from '@vippath/openflow';
import { LogicalSwitch, type LogicalPort, type StageStep } from '@vippath/ovn';
import { completeOffloadChecksum, DecodedFrame, FrameDecoder, L3, popVlan, pushVlan, readIPv4, VippathError } from '@vippath/wire';
import { derive, ovnLoadBalancers, type DerivedState, type PodState } from './derive.js';
import { describeFrame } from './describe.js';
import type { K8sObject } from './manifests.js';
import type { StageName, TimelineEvent, TraceLine, TraceStep } from './outputs.js';
import { PodHost } from './pods.js';
import type { ClusterSpec } from './scenario.js';

/** What happened to one injected frame. */
export interface InjectResult {
  /** Frames that reached the outside (the client's side of the wire), tagged as on the wire. */
  outside: Uint8Array[];
  /** Frames pods accepted, with the pod. */
  delivered: Array<{ pod: string; node: string; frame: Uint8Array }>;
  /** Every step, in order (empty when the simulation runs without traces). */
  stages: TraceStep[];
  /** Why copies of the frame ended without delivery. */
  drops: Array<{ at: string; reason: string }>;
  verdict: TraceLine['verdict'];
}

/** Options of {@link SimulatedCluster}. */
export interface SimulationOptions {
  /** Record every step of every frame (default true). Off, counters and drops are kept but `stages` stays empty. */
  trace?: boolean;
  /**
   * Time from a node's loss until its pods' endpoints turn not ready: the node controller's
   * `node-monitor-grace-period` (40 s by default in Kubernetes), after which the EndpointSlice controller marks
   * the pods not ready.
   */
  notReadyAfterMs?: number;
  /** MAC addresses the wire's learning switch keeps (oldest forgotten first, counted). */
  wireMacLimit?: number;
}

/** Where a frame can enter: the outside, a node's NIC (tagged), its VLAN interface or LOCAL port (untagged), a pod. */
export type Ingress = string;

const MAX_DEPTH = 256;
const SYN = 0x02;
const ACK = 0x10;

function macNumber(buf: Uint8Array, offset: number): number {
  return (buf[offset]! * 0x10000 + buf[offset + 1]! * 0x100 + buf[offset + 2]!) * 0x1000000 + buf[offset + 3]! * 0x10000 + buf[offset + 4]! * 0x100 + buf[offset + 5]!;
}

function macText(n: number): string {
  return n.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** MetalLB's responder drop reasons (speaker.ts), said in words. */
const RESPONDER_DROP: Record<string, string> = {
  arpReply: 'an ARP reply (the responder answers requests only)',
  ethernetDestination: 'Ethernet destination is neither broadcast nor the interface MAC',
  notMatchInterface: 'interface not selected by any L2Advertisement',
  announceIP: 'this node does not announce the target IP',
  messageType: 'not a neighbor solicitation',
  noSourceLL: 'neighbor solicitation without a source link-layer option',
  ownLinkLocal: 'from its own link-local address',
  notListening: 'no responder on this interface',
  noResponder: 'no responder',
  malformed: 'malformed ARP/NDP',
};

/** The simulated cluster. */
export class SimulatedCluster {
  readonly state: DerivedState;
  readonly ls: LogicalSwitch;
  readonly bridges = new Map<string, Bridge>();
  /** Pods by logical switch port name (`<pod>.<namespace>`). */
  readonly pods = new Map<string, PodHost>();
  /** Drops by reason over the whole run. */
  readonly dropCounts = new Map<string, number>();
  /** Visits per stage over the whole run. */
  readonly stageCounts: Record<StageName, number> = { wire: 0, 'underlay0.341': 0, metallb: 0, 'br-provider': 0, ovn: 0, 'lb-dnat': 0, pod: 0, host: 0 };
  /** Frames along each edge of the path (`<from>→<to>`), over the whole run. */
  readonly edgeCounts = new Map<string, number>();
  /** New connections per backend pod (LB selections), over the whole run. */
  readonly backendCounts = new Map<string, number>();
  /** Things that happened in simulated time (node loss, GARP bursts, owner changes). */
  readonly events: TimelineEvent[] = [];
  /** Nodes whose machine is down (their NIC receives nothing). */
  readonly down = new Set<string>();
  /** Injected frames whose offload-partial L4 checksum was completed as the sender's NIC would have. */
  offloadChecksumsCompleted = 0;
  /** MAC addresses the wire forgot because its table was full. */
  wireMacEvictions = 0;
  /** Called with every frame put on the wire (by the outside or a node's NIC), as it is on the wire (tagged). */
  onWire: ((from: string, frame: Uint8Array, now: number) => void) | undefined;
  /** Called with every frame crossing a node port (`<node>/<port>`) or reaching or leaving a pod (`<node>/<pod>`). */
  onPort: ((port: string, frame: Uint8Array, now: number) => void) | undefined;

  private readonly options: Required<SimulationOptions>;
  private readonly fdb = new Map<number, string>();
  private readonly localnet: string;
  private readonly lsName: string;
  private readonly patchName: string;
  private readonly clusterMacs = new Set<number>();
  private readonly nodeByMac = new Map<number, string>();
  private readonly podByIp = new Map<number, PodHost>();
  private readonly decoder = new FrameDecoder();
  private readonly d = new DecodedFrame();
  private readonly scheduled: Array<{ time: number; run: () => void }> = [];
  private metallbEventsSeen = 0;
  private lastOwners = new Map<string, string>();
  private lastGarp = new Map<string, number>();
  private now = 0;
  private r: InjectResult = { outside: [], delivered: [], stages: [], drops: [], verdict: 'dropped' };
  private answered = false;

  constructor(readonly objects: K8sObject[], readonly cluster: ClusterSpec, options: SimulationOptions = {}) {
    this.options = { trace: options.trace ?? true, notReadyAfterMs: options.notReadyAfterMs ?? 40_000, wireMacLimit: options.wireMacLimit ?? 8192 };
    this.state = derive(objects, cluster);
    const subnet = objects.find((o) => o.kind === 'Subnet');
    this.lsName = subnet?.metadata.name ?? 'underlay-subnet';
    this.localnet = `localnet.${this.lsName}`;
    this.patchName = `patch-${this.localnet}-to-br-int`;
    const ports: LogicalPort[] = [{ kind: 'localnet', name: this.localnet, network: 'provider' }];
    for (const p of this.state.pods) {
      ports.push({ kind: 'vif', name: p.lsp, mac: p.mac, ips: [p.ip], chassis: p.node });
      const host = new PodHost(p);
      this.pods.set(p.lsp, host);
      this.podByIp.set(readIPv4(new Uint8Array(p.ip.split('.').map(Number)), 0), host);
    }
    this.ls = new LogicalSwitch(this.lsName, ports, this.state.loadBalancers, {
      profile: cluster.profiles.kubeOvn,
      lsCtSkipDstLportIps: cluster.flags.lsCtSkipDstLportIps,
      lsDnatModDlDst: cluster.flags.lsDnatModDlDst,
      ...(typeof subnet?.spec?.cidrBlock === 'string' ? { subnet: subnet.spec.cidrBlock.split(',')[0]! } : {}),
    });
    for (const n of cluster.nodes) {
      const br = new Bridge('br-provider', [{ name: `${n.nic}.${cluster.vlan}`, ofport: 1 }, { name: this.patchName, ofport: 2 }]);
      br.addFlows(this.state.brProviderFlows[n.name]!.join('\n'));
      this.bridges.set(n.name, br);
      const mac = macNumber(Uint8Array.from(n.mac.split(':').map((x) => parseInt(x, 16))), 0);
      this.clusterMacs.add(mac);
      this.nodeByMac.set(mac, n.name);
    }
    for (const p of this.state.pods) this.clusterMacs.add(macNumber(Uint8Array.from(p.mac.split(':').map((x) => parseInt(x, 16))), 0));
    this.noteOwners();
  }

  /** The port names {@link onPort} reports, per node: NIC, VLAN interface, LOCAL, patch, then the node's pods. */
  portNames(): string[] {
    const names: string[] = [];
    for (const n of this.cluster.nodes) {
      names.push(`${n.name}/${n.nic}`, `${n.name}/${n.nic}.${this.cluster.vlan}`, `${n.name}/br-provider`, `${n.name}/${this.patchName}`);
      for (const p of this.state.pods) if (p.node === n.name) names.push(`${n.name}/${p.name}`);
    }
    return names;
  }

  /** True when a frame's source MAC is one of the cluster's (a node NIC or a pod). */
  fromCluster(frame: Uint8Array): boolean {
    return frame.length >= 12 && this.clusterMacs.has(macNumber(frame, 6));
  }

  /** The pod with `name` (its Kubernetes name, not its port). */
  pod(name: string): PodHost | undefined {
    for (const p of this.pods.values()) if (p.pod.name === name) return p;
    return undefined;
  }

  /**
   * Takes `node` down at `at` (ms): its NIC stops receiving and sending, its speaker dies (the others notice
   * after MetalLB's failure detection), its pods stop answering, and after `notReadyAfterMs` their endpoints
   * turn not ready (MetalLB and the OVN load balancer follow).
   */
  nodeDown(node: string, at: number): void {
    this.requireNode(node);
    this.state.metallb.nodeDown(node, at);
    this.schedule(at, () => {
      this.down.add(node);
      this.events.push({ time: at, kind: 'node-down', text: `${node} lost (NIC, speaker and pods gone)` });
    });
    for (const p of this.state.pods) if (p.node === node) this.setPodReady(p.name, false, at + this.options.notReadyAfterMs);
  }

  /** Brings `node` back at `at`; its pods turn ready again at once. */
  nodeUp(node: string, at: number): void {
    this.requireNode(node);
    this.state.metallb.nodeUp(node, at);
    this.schedule(at, () => {
      this.down.delete(node);
      this.events.push({ time: at, kind: 'node-up', text: `${node} back` });
    });
    for (const p of this.state.pods) if (p.node === node) this.setPodReady(p.name, true, at);
  }

  /** Changes a pod's readiness at `at` (ms): its endpoints in every Service, and the OVN load balancer. */
  setPodReady(name: string, ready: boolean, at: number): void {
    const pod = this.state.pods.find((p) => p.name === name);
    if (!pod) throw new VippathError('NO_SUCH_POD', `no pod named ${name}; pods: ${this.state.pods.map((p) => p.name).join(', ')}`);
    for (const s of this.objects.filter((o) => o.kind === 'Service' && (o.spec as { type?: string } | undefined)?.type === 'LoadBalancer')) {
      const selector = (s.spec as { selector?: Record<string, string> }).selector ?? {};
      const index = this.state.pods.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v)).indexOf(pod);
      if (index >= 0) this.state.metallb.setEndpointReady(`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`, index, ready, at);
    }
    this.schedule(at, () => {
      if (pod.ready === ready) return;
      pod.ready = ready;
      this.events.push({ time: at, kind: 'endpoint', text: `${name} ${ready ? 'ready' : 'not ready'}` });
      this.refreshLoadBalancers();
    });
  }

  /**
   * Runs simulated time up to `now` (ms): scheduled changes, MetalLB's elections and gratuitous announcements
   * (which enter br-provider from the LOCAL port and go out on the wire). Returns what those frames did.
   */
  advance(now: number): InjectResult {
    this.begin(now);
    for (;;) {
      const next = this.scheduled[0];
      const frames = this.state.metallb.advance(next && next.time <= now ? next.time : now);
      this.sendSpontaneous(frames);
      if (!next || next.time > now) break;
      this.scheduled.shift()!.run();
    }
    return this.finish();
  }

  /**
   * Injects a frame at simulated time `now` (ms), by default as the outside client sends it on the wire
   * (tagged). `ingress` pins where it enters: `outside`, `<node>` or `<node>/<nic>` (the NIC, tagged),
   * `<node>/<nic>.<vlan>` (the VLAN interface, untagged), `<node>/br-provider` (the LOCAL port), or
   * `<node>/<pod>` (sent by that pod). Time runs forward first: see {@link advance}.
   * The frame's bytes are not modified.
   */
  inject(frame: Uint8Array, now: number, ingress: Ingress = 'outside'): InjectResult {
    const background = this.advance(now);
    this.begin(now);
    // Frames the cluster sent on its own before this one are part of this result too: nothing goes unreported.
    this.r.outside.push(...background.outside);
    const copy = new Uint8Array(frame);
    const where = this.resolveIngress(ingress);
    if (where === undefined || where.kind === 'nic') {
      // Captures taken on the sending host hold offload-partial checksums that its NIC completes on the way out;
      // on the wire (where this frame enters) they are complete.
      this.decoder.decode(copy, this.d);
      if (completeOffloadChecksum(copy, this.d)) this.offloadChecksumsCompleted++;
    }
    if (ingress === 'outside') this.wire('outside', copy, 0);
    else this.injectAt(ingress, copy);
    return this.finish();
  }

  /** The counters as summary fields. */
  edges(): Array<{ from: string; to: string; frames: number }> {
    return [...this.edgeCounts].map(([k, frames]) => {
      const [from, to] = k.split('→') as [string, string];
      return { from, to, frames };
    });
  }

  /** Throws a `BAD_INGRESS` {@link VippathError} unless `ingress` names a place frames can enter. */
  checkIngress(ingress: Ingress): void {
    this.resolveIngress(ingress);
  }

  private resolveIngress(ingress: string): { node: string; kind: 'nic' | 'vlan' | 'local' | 'pod'; pod?: PodHost } | undefined {
    if (ingress === 'outside') return undefined;
    const [node, port, extra] = ingress.split('/') as [string, string | undefined, string | undefined];
    const n = this.cluster.nodes.find((x) => x.name === node);
    if (!n || extra !== undefined) throw new VippathError('BAD_INGRESS', `unknown ingress "${ingress}": use outside, a node (${this.cluster.nodes.map((x) => x.name).join(', ')}) or <node>/<port>`);
    if (port === undefined || port === n.nic) return { node, kind: 'nic' };
    if (port === `${n.nic}.${this.cluster.vlan}`) return { node, kind: 'vlan' };
    if (port === 'br-provider') return { node, kind: 'local' };
    const pod = [...this.pods.values()].find((p) => p.pod.name === port && p.pod.node === node);
    if (pod) return { node, kind: 'pod', pod };
    throw new VippathError('BAD_INGRESS', `unknown port "${port}" on ${node}: use ${n.nic}, ${n.nic}.${this.cluster.vlan}, br-provider or one of its pods (${this.state.pods.filter((p) => p.node === node).map((p) => p.name).join(', ') || 'none'})`);
  }

  private injectAt(ingress: string, frame: Uint8Array): void {
    const where = this.resolveIngress(ingress)!;
    const node = where.node;
    if (where.kind === 'nic') return this.nic(node, frame, 'outside', 0);
    if (where.kind === 'vlan') return this.bridge(node, frame, 1, `${node}/${this.nicOf(node)}.${this.cluster.vlan}`, 0);
    if (where.kind === 'local') return this.bridge(node, frame, Port.LOCAL, `${node}/br-provider`, 0);
    return this.ovn(node, frame, where.pod!.pod.lsp, `${node}/${where.pod!.pod.name}`, 0);
  }

  private requireNode(node: string): void {
    if (!this.cluster.nodes.some((n) => n.name === node)) throw new VippathError('NO_SUCH_NODE', `no node named ${node}; nodes: ${this.cluster.nodes.map((n) => n.name).join(', ')}`);
  }

  private schedule(time: number, run: () => void): void {
    let i = this.scheduled.length;
    while (i > 0 && this.scheduled[i - 1]!.time > time) i--;
    this.scheduled.splice(i, 0, { time, run });
  }

  private refreshLoadBalancers(): void {
    this.ls.setLoadBalancers(ovnLoadBalancers(this.objects, this.state.pods, this.cluster, this.state.metallb));
  }

  /**
   * Takes MetalLB's new events into the timeline (at their own times) and keeps the OVN LB in step when the
   * owner moved (the 1.15.20 VIP-node marker follows MetalLB's ServiceL2Status).
   */
  private noteOwners(): void {
    const log = this.state.metallb.events;
    for (; this.metallbEventsSeen < log.length; this.metallbEventsSeen++) {
      const e = log[this.metallbEventsSeen]!;
      if (e.type === 'nodeAssigned') this.events.push({ time: e.time, kind: 'owner-change', text: `${e.node} announces ${e.ips.join(', ')} (${e.service})` });
      else if (e.type === 'withdrawn') this.events.push({ time: e.time, kind: 'owner-change', text: `${e.node} stops announcing ${e.service} (${e.reason})` });
    }
    let changed = false;
    for (const s of this.state.services) {
      for (const ip of s.ingress) {
        const owners = this.state.metallb.owners(ip);
        const key = owners.join('+');
        if (this.lastOwners.has(ip) && this.lastOwners.get(ip) !== key) changed = true;
        this.lastOwners.set(ip, key);
        s.owners[ip] = owners;
      }
    }
    if (changed) this.refreshLoadBalancers();
  }

  /** The timeline in time order. */
  timeline(): TimelineEvent[] {
    return [...this.events].sort((a, b) => a.time - b.time);
  }

  private sendSpontaneous(frames: Array<{ node: string; frame: Uint8Array; time: number }>): void {
    this.noteOwners();
    for (const g of frames) {
      // One event per burst: a gap longer than the 1.1 s ticker starts a new one.
      const last = this.lastGarp.get(g.node);
      if (last === undefined || g.time - last > 1500) this.events.push({ time: g.time, kind: 'garp', text: `gratuitous ARP/NA burst from ${g.node}` });
      this.lastGarp.set(g.node, g.time);
      this.step('metallb', `${g.node}/metallb`, 'gratuitous announcement', undefined);
      this.port(`${g.node}/br-provider`, g.frame);
      this.bridge(g.node, new Uint8Array(g.frame), Port.LOCAL, `${g.node}/metallb`, 0);
    }
  }

  private begin(now: number): void {
    this.now = now;
    this.answered = false;
    this.r = { outside: [], delivered: [], stages: [], drops: [], verdict: 'dropped' };
  }

  private finish(): InjectResult {
    const r = this.r;
    r.verdict = r.delivered.length > 0 ? 'delivered' : this.answered ? 'answered' : r.outside.length > 0 ? 'forwarded' : r.drops.length > 0 ? 'dropped' : 'forwarded';
    return r;
  }

  private step(stage: StageName, at: string, decision: string, from: string | undefined): void {
    this.stageCounts[stage]++;
    if (from !== undefined && from !== at) {
      const key = `${from}→${at}`;
      this.edgeCounts.set(key, (this.edgeCounts.get(key) ?? 0) + 1);
    }
    if (this.options.trace) this.r.stages.push({ stage, at, decision });
  }

  private drop(at: string, reason: string): void {
    this.r.drops.push({ at, reason });
    this.dropCounts.set(reason, (this.dropCounts.get(reason) ?? 0) + 1);
  }

  private port(name: string, frame: Uint8Array): void {
    this.onPort?.(name, frame, this.now);
  }

  private learn(mac: number, port: string): void {
    if (this.fdb.get(mac) === port) return;
    this.fdb.delete(mac);
    if (this.fdb.size >= this.options.wireMacLimit) {
      this.fdb.delete(this.fdb.keys().next().value!);
      this.wireMacEvictions++;
    }
    this.fdb.set(mac, port);
  }

  private wire(from: string, frame: Uint8Array, depth: number): void {
    if (depth > MAX_DEPTH) return this.drop('wire', 'hop limit (a forwarding loop)');
    if (frame.length < 14) return this.drop('wire', 'runt frame (shorter than an Ethernet header)');
    const src = macNumber(frame, 6);
    const dst = macNumber(frame, 0);
    if ((frame[6]! & 1) === 0) this.learn(src, from);
    this.onWire?.(from, frame, this.now);
    const known = (frame[0]! & 1) === 0 ? this.fdb.get(dst) : undefined;
    const targets = known !== undefined ? [known] : ['outside', ...this.cluster.nodes.map((n) => n.name)];
    const to = targets.filter((t) => t !== from);
    this.step('wire', 'wire', `${macText(src)} → ${macText(dst)} from ${from}${known === undefined ? ' flooded' : ''} to ${to.join(', ') || 'nobody (the port it came from)'}`, from === 'outside' ? 'outside' : `${from}/${this.nicOf(from)}.${this.cluster.vlan}`);
    if (to.length === 0) this.drop('wire', 'destination MAC learned on the port the frame came from');
    for (const t of to) {
      if (t === 'outside') {
        this.r.outside.push(new Uint8Array(frame));
        this.bump('wire→outside');
      } else this.nic(t, new Uint8Array(frame), 'wire', depth + 1);
    }
  }

  private bump(key: string): void {
    this.edgeCounts.set(key, (this.edgeCounts.get(key) ?? 0) + 1);
  }

  private nicOf(node: string): string {
    return this.cluster.nodes.find((n) => n.name === node)?.nic ?? 'underlay0';
  }

  private nic(node: string, frame: Uint8Array, from: string, depth: number): void {
    const nic = this.nicOf(node);
    const vif = `${node}/${nic}.${this.cluster.vlan}`;
    if (this.down.has(node)) return this.drop(`${node}/${nic}`, 'node down');
    this.port(`${node}/${nic}`, frame);
    this.decoder.decode(frame, this.d);
    if (this.d.vlanCount === 0 || this.d.vid(0) !== this.cluster.vlan) {
      return this.drop(`${node}/${nic}`, this.d.vlanCount === 0 ? `untagged frame: not for ${nic}.${this.cluster.vlan}` : `VLAN ${this.d.vid(0)}: not for ${nic}.${this.cluster.vlan}`);
    }
    const len = popVlan(frame, frame.length);
    const untagged = frame.subarray(0, len);
    this.step('underlay0.341', vif, `untagged VLAN ${this.cluster.vlan}`, from);
    this.port(vif, untagged);
    this.bridge(node, untagged, 1, vif, depth + 1);
  }

  private bridge(node: string, frame: Uint8Array, inPort: number, from: string, depth: number): void {
    if (depth > MAX_DEPTH) return this.drop(`${node}/br-provider`, 'hop limit (a forwarding loop)');
    const at = `${node}/br-provider`;
    const res = this.bridges.get(node)!.process(frame, inPort, { now: this.now });
    const name = (p: number): string => (p === Port.LOCAL ? 'LOCAL' : p === 1 ? `${this.nicOf(node)}.${this.cluster.vlan}` : p === 2 ? 'patch' : String(p));
    this.step('br-provider', at, `in_port ${name(inPort)} → ${res.outputs.map((o) => name(o.port)).join(', ') || 'drop'}`, from);
    if (res.drop || res.outputs.length === 0) this.drop(at, 'no flow output');
    for (const o of res.outputs) {
      if (o.port === 1) {
        if (this.down.has(node)) {
          this.drop(`${node}/${this.nicOf(node)}`, 'node down');
          continue;
        }
        const vif = `${node}/${this.nicOf(node)}.${this.cluster.vlan}`;
        this.port(vif, o.packet);
        const tagged = new Uint8Array(o.packet.length + 4);
        tagged.set(o.packet);
        const len = pushVlan(tagged, o.packet.length, this.cluster.vlan);
        this.step('underlay0.341', vif, `tagged VLAN ${this.cluster.vlan}`, at);
        this.port(`${node}/${this.nicOf(node)}`, tagged.subarray(0, len));
        this.wire(node, tagged.subarray(0, len), depth + 1);
      } else if (o.port === 2) {
        this.port(`${node}/${this.patchName}`, o.packet);
        this.ovn(node, o.packet, this.localnet, at, depth + 1);
      } else if (o.port === Port.LOCAL) {
        this.port(at, o.packet);
        this.local(node, o.packet, depth + 1);
      } else this.drop(at, `output to unknown port ${o.port}`);
    }
  }

  private local(node: string, frame: Uint8Array, depth: number): void {
    const at = `${node}/metallb`;
    const v = this.state.metallb.receive(node, 'br-provider', frame);
    if (v.verdict === 'reply') {
      this.step('metallb', at, 'ARP/NDP reply for an announced VIP', `${node}/br-provider`);
      this.answered = true;
      this.port(`${node}/br-provider`, v.frame);
      this.bridge(node, v.frame, Port.LOCAL, at, depth + 1);
    } else if (v.verdict === 'drop') {
      this.step('metallb', at, `no reply: ${RESPONDER_DROP[v.reason] ?? v.reason}`, `${node}/br-provider`);
      // The host stack has no such address either, so nothing answers from this node.
      this.drop(at, `metallb: ${RESPONDER_DROP[v.reason] ?? v.reason}`);
    } else this.host(node, frame);
  }

  private host(node: string, frame: Uint8Array): void {
    const at = `${node}/host`;
    this.decoder.decode(frame, this.d);
    // The node's own stack takes frames to its MAC; it holds no pod or VIP address, so anything else dies there.
    const mine = macNumber(frame, 0) === macNumber(Uint8Array.from(this.cluster.nodes.find((n) => n.name === node)!.mac.split(':').map((x) => parseInt(x, 16))), 0);
    this.step('host', at, mine ? 'to the node\'s own stack' : 'not for the node', `${node}/br-provider`);
    this.drop(at, mine ? 'host: the node stack does not hold this address (not modelled further)' : 'host: not addressed to the node');
  }

  private ovn(node: string, frame: Uint8Array, inport: string, from: string, depth: number): void {
    if (depth > MAX_DEPTH) return this.drop(`${node}/${this.lsName}`, 'hop limit (a forwarding loop)');
    const at = `${node}/${this.lsName}`;
    const steps: StageStep[] | undefined = this.options.trace ? [] : undefined;
    const res = this.ls.process(frame, inport, node, this.now, steps);
    this.step('ovn', at, `inport ${inport}`, from);
    if (steps) {
      for (const s of steps) {
        const lb = /ct_lb|ct_snat/.test(s.actions);
        this.r.stages.push({ stage: lb ? 'lb-dnat' : 'ovn', at: `${s.chassis}/${lb ? 'lb-dnat' : this.lsName}`, decision: `${s.stage} ${s.priority}: ${s.match} → ${s.actions}${s.note ? ` (${s.note})` : ''}` });
      }
    }
    if (res.verdict === 'drop') return this.drop(at, `ovn: ${res.reason}`);
    this.decoder.decode(frame, this.d);
    const inDst = this.d.l3 === L3.IPV4 ? this.d.ipDst : 0;
    const inSrc = this.d.l3 === L3.IPV4 ? this.d.ipSrc : 0;
    const syn = this.d.l3 === L3.IPV4 && this.d.ipProto === 6 && (this.d.tcpFlags & (SYN | ACK)) === SYN;
    for (const o of res.outputs) {
      const outAt = `${o.chassis}/${this.lsName}`;
      let prev = at;
      // DNAT (request) or un-DNAT (reply) shows as changed addresses: the LB stage was on this frame's path.
      const ipv4Out = this.d.l3 === L3.IPV4 && o.frame.length >= this.d.l3Offset + 20;
      const dnat = ipv4Out && readIPv4(o.frame, this.d.l3Offset + 16) !== inDst;
      const undnat = ipv4Out && readIPv4(o.frame, this.d.l3Offset + 12) !== inSrc;
      if (dnat || undnat) {
        const lbAt = `${node}/lb-dnat`;
        this.step('lb-dnat', lbAt, dnat ? `DNAT to ${ip4(readIPv4(o.frame, this.d.l3Offset + 16))}` : `un-DNAT: source ${ip4(readIPv4(o.frame, this.d.l3Offset + 12))}`, at);
        prev = lbAt;
      }
      if (o.port === this.localnet) {
        this.port(`${o.chassis}/${this.patchName}`, o.frame);
        this.bridge(o.chassis, o.frame, 2, prev === at ? outAt : prev, depth + 1);
        continue;
      }
      const pod = this.pods.get(o.port);
      if (!pod) {
        this.drop(outAt, `ovn: output to ${o.port}, which vippath does not model`);
        continue;
      }
      const podAt = `${pod.pod.node}/${pod.pod.name}`;
      if (this.down.has(pod.pod.node)) {
        this.drop(podAt, 'node down');
        continue;
      }
      this.port(podAt, o.frame);
      if (dnat && syn) this.backendCounts.set(pod.pod.name, (this.backendCounts.get(pod.pod.name) ?? 0) + 1);
      const replies = pod.receive(o.frame, this.now);
      if (pod.ignored) {
        this.step('pod', podAt, `ignored: ${pod.ignored}`, prev);
        this.drop(podAt, `pod: ${pod.ignored}`);
      } else {
        this.step('pod', podAt, `accepted${replies.length ? `, ${replies.length} frame(s) in answer` : ''}`, prev);
        this.r.delivered.push({ pod: pod.pod.name, node: pod.pod.node, frame: o.frame });
      }
      for (const reply of replies) {
        this.port(podAt, reply);
        this.ovn(pod.pod.node, reply, o.port, podAt, depth + 1);
      }
    }
  }
}

function ip4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** One trace line for an injection result. */
export function traceLine(index: number, time: number, ingress: string, frame: Uint8Array, r: InjectResult, hex: (f: Uint8Array) => string = toHex): TraceLine {
  return {
    index, time, ingress, flow: describeFrame(frame), stages: r.stages, verdict: r.verdict, drops: r.drops,
    emitted: [...r.outside.map((f) => ({ to: 'outside', hex: hex(f) })), ...r.delivered.map((x) => ({ to: `${x.node}/${x.pod}`, hex: hex(x.frame) }))],
  };
}

function toHex(f: Uint8Array): string {
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('hex');
}

export type { PodState };

/**
 * The cluster composed per node, in the design card's order: the wire (a learning switch carrying VLAN 341
 * between the outside and every node's NIC) → `underlay0.341` (untag 341 in, tag out) → `br-provider` (the
 * node's OpenFlow bridge with Kube-OVN's flows; MetalLB's responder on its LOCAL port) → patch → the OVN logical
 * switch (chassis = node) → LB DNAT → pod; and back. Every hop is recorded, so each injected frame has a story.
 */
import { Bridge, Port } from '@vippath/openflow';
import { LogicalSwitch, type LogicalPort } from '@vippath/ovn';
import { copyBytes, DecodedFrame, FrameDecoder, formatMac, isMulticastMac, popVlan, pushVlan } from '@vippath/wire';
import { derive, type DerivedState } from './derive.js';
import type { K8sObject } from './manifests.js';
import { PodHost } from './pods.js';
import type { ClusterSpec } from './scenario.js';

/** One hop of a frame's walk. */
export interface Hop {
  at: string;
  what: string;
}

/** What happened to one injected frame. */
export interface InjectResult {
  /** Frames that reached the outside (the client's side of the wire), tagged as on the wire. */
  outside: Uint8Array[];
  hops: Hop[];
  /** Why parts of the walk ended without delivery. */
  drops: string[];
}

const MAX_HOPS = 256;

/** The simulated cluster. */
export class SimulatedCluster {
  readonly state: DerivedState;
  readonly ls: LogicalSwitch;
  readonly bridges = new Map<string, Bridge>();
  readonly pods = new Map<string, PodHost>();
  /** Drops by reason over the whole run. */
  readonly dropCounts = new Map<string, number>();
  private readonly fdb = new Map<string, string>();
  private readonly localnet: string;
  private readonly nodeMacs: Set<string>;
  private readonly decoder = new FrameDecoder();
  private readonly d = new DecodedFrame();
  /** Called with every frame put on the wire (by the outside or a node's NIC), as it is on the wire (tagged). */
  onWire: ((from: string, frame: Uint8Array, now: number) => void) | undefined;

  constructor(objects: K8sObject[], readonly cluster: ClusterSpec) {
    this.state = derive(objects, cluster);
    const subnet = objects.find((o) => o.kind === 'Subnet');
    const subnetName = subnet?.metadata.name ?? 'underlay-subnet';
    this.localnet = `localnet.${subnetName}`;
    const ports: LogicalPort[] = [{ kind: 'localnet', name: this.localnet, network: 'provider' }];
    for (const p of this.state.pods) {
      ports.push({ kind: 'vif', name: p.lsp, mac: p.mac, ips: [p.ip], chassis: p.node });
      this.pods.set(p.lsp, new PodHost(p));
    }
    this.ls = new LogicalSwitch(subnetName, ports, this.state.loadBalancers, {
      profile: cluster.profiles.kubeOvn,
      lsCtSkipDstLportIps: cluster.flags.lsCtSkipDstLportIps,
      lsDnatModDlDst: cluster.flags.lsDnatModDlDst,
      ...(typeof subnet?.spec?.cidrBlock === 'string' ? { subnet: subnet.spec.cidrBlock.split(',')[0]! } : {}),
    });
    for (const n of cluster.nodes) {
      const br = new Bridge('br-provider', [{ name: `${n.nic}.${cluster.vlan}`, ofport: 1 }, { name: `patch-${this.localnet}-to-br-int`, ofport: 2 }]);
      br.addFlows(this.state.brProviderFlows[n.name]!.join('\n'));
      this.bridges.set(n.name, br);
    }
    this.nodeMacs = new Set([...cluster.nodes.map((n) => n.mac), ...this.state.pods.map((p) => p.mac)]);
  }

  /** True when a frame's source MAC is one of the cluster's (a node NIC or a pod). */
  fromCluster(frame: Uint8Array): boolean {
    return frame.length >= 12 && this.nodeMacs.has(formatMac(frame, 6));
  }

  private drop(r: InjectResult, at: string, reason: string): void {
    r.drops.push(`${at}: ${reason}`);
    this.dropCounts.set(reason, (this.dropCounts.get(reason) ?? 0) + 1);
  }

  /** Injects a frame as the outside client sends it on the wire (tagged), at simulated time `now` (ms). */
  inject(frame: Uint8Array, now: number): InjectResult {
    const r: InjectResult = { outside: [], hops: [], drops: [] };
    // Gratuitous announcements due by now go out first.
    for (const g of this.state.metallb.advance(now)) this.fromLocal(g.node, g.frame, now, r, 0);
    this.wire('outside', frame, now, r, 0);
    return r;
  }

  private wire(from: string, frame: Uint8Array, now: number, r: InjectResult, depth: number): void {
    if (depth > MAX_HOPS) return this.drop(r, 'wire', 'hop limit (a forwarding loop)');
    const src = formatMac(frame, 6);
    const dst = formatMac(frame, 0);
    if (!isMulticastMac(frame, 6)) this.fdb.set(src, from);
    this.onWire?.(from, frame, now);
    const targets = isMulticastMac(frame, 0) || !this.fdb.has(dst) ? ['outside', ...this.cluster.nodes.map((n) => n.name)] : [this.fdb.get(dst)!];
    r.hops.push({ at: 'wire', what: `${src} → ${dst} from ${from} to ${targets.filter((t) => t !== from).join(', ') || 'nobody'}` });
    for (const t of targets) {
      if (t === from) continue;
      if (t === 'outside') r.outside.push(copyBytes(frame));
      else this.nic(t, copyBytes(frame), now, r, depth + 1);
    }
  }

  private nic(node: string, frame: Uint8Array, now: number, r: InjectResult, depth: number): void {
    this.decoder.decode(frame, this.d);
    if (this.d.vlanCount === 0 || this.d.vid(0) !== this.cluster.vlan) {
      return this.drop(r, `${node}/underlay0`, this.d.vlanCount === 0 ? 'untagged frame: not for underlay0.341' : `VLAN ${this.d.vid(0)}: not for underlay0.${this.cluster.vlan}`);
    }
    const len = popVlan(frame, frame.length);
    r.hops.push({ at: `${node}/underlay0.${this.cluster.vlan}`, what: `untagged VLAN ${this.cluster.vlan}` });
    this.bridge(node, frame.slice(0, len), 1, now, r, depth + 1);
  }

  private bridge(node: string, frame: Uint8Array, inPort: number, now: number, r: InjectResult, depth: number): void {
    if (depth > MAX_HOPS) return this.drop(r, node, 'hop limit (a forwarding loop)');
    const res = this.bridges.get(node)!.process(frame, inPort, { now });
    r.hops.push({ at: `${node}/br-provider`, what: `in_port ${inPort === Port.LOCAL ? 'LOCAL' : inPort} → ${res.outputs.map((o) => (o.port === Port.LOCAL ? 'LOCAL' : o.port)).join(',') || 'drop'}` });
    if (res.drop) this.drop(r, `${node}/br-provider`, 'no flow output');
    for (const o of res.outputs) {
      if (o.port === 1) {
        const tagged = new Uint8Array(o.packet.length + 4);
        tagged.set(o.packet);
        const len = pushVlan(tagged, o.packet.length, this.cluster.vlan);
        this.wire(node, tagged.subarray(0, len), now, r, depth + 1);
      } else if (o.port === 2) this.ovn(node, o.packet, this.localnet, now, r, depth + 1);
      else if (o.port === Port.LOCAL) this.local(node, o.packet, now, r, depth + 1);
    }
  }

  private local(node: string, frame: Uint8Array, now: number, r: InjectResult, depth: number): void {
    const v = this.state.metallb.receive(node, 'br-provider', frame);
    if (v.verdict === 'reply') {
      r.hops.push({ at: `${node}/metallb`, what: 'ARP/NDP reply for an announced VIP' });
      this.fromLocal(node, v.frame, now, r, depth + 1);
    } else if (v.verdict === 'drop') {
      r.hops.push({ at: `${node}/metallb`, what: `no reply (${v.reason})` });
    } else r.hops.push({ at: `${node}/host`, what: 'to the host stack' });
  }

  private fromLocal(node: string, frame: Uint8Array, now: number, r: InjectResult, depth: number): void {
    this.bridge(node, frame, Port.LOCAL, now, r, depth + 1);
  }

  private ovn(node: string, frame: Uint8Array, inport: string, now: number, r: InjectResult, depth: number): void {
    if (depth > MAX_HOPS) return this.drop(r, node, 'hop limit (a forwarding loop)');
    const res = this.ls.process(frame, inport, node, now);
    if (res.verdict === 'drop') {
      r.hops.push({ at: `${node}/ovn`, what: `drop: ${res.reason}` });
      return this.drop(r, `${node}/ovn`, res.reason);
    }
    for (const o of res.outputs) {
      r.hops.push({ at: `${o.chassis}/ovn`, what: `${inport} → ${o.port}` });
      if (o.port === this.localnet) this.bridge(o.chassis, o.frame, 2, now, r, depth + 1);
      else {
        const pod = this.pods.get(o.port);
        if (!pod) continue;
        r.hops.push({ at: `${pod.pod.node}/${pod.pod.name}`, what: 'delivered' });
        for (const reply of pod.receive(o.frame, now)) this.ovn(pod.pod.node, reply, o.port, now, r, depth + 1);
      }
    }
  }
}

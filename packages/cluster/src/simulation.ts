/**
 * The cluster composed per node, in the design card's order: the wire (a learning switch carrying VLAN 341
 * between the outside and every node's NIC) → `underlay0.341` (untag 341 in, tag out) → `br-provider` (the
 * node's OpenFlow bridge with Kube-OVN's flows; MetalLB's responder on its LOCAL port) → patch → the OVN logical
 * switch (chassis = node) → LB DNAT → pod; and back. Every hop is recorded, so each injected frame has a story,
 * and every copy of a frame ends delivered, sent out, or dropped with a counted reason.
 */
import { Bridge, Port, resolvePortName, type TraceStep as BridgeStep } from '@vippath/openflow';
import { bridgeTrace } from './bridge-trace.js';
import { LogicalSwitch, switchDropReason, type OvnVersion, type StageStep } from '@vippath/ovn';
import { buildFrame, completeOffloadChecksum, DecodedFrame, FrameDecoder, formatIPv4, L3, popVlan, pushVlan, readIPv4, rewriteIpv4Address, rewriteMac, rewritePort, VippathError, checkTime } from '@vippath/wire';
import { backs, derive, northboundFor, northdProfile, ovnLoadBalancers, type DerivedState, type PodState } from './derive.js';
import { FlowCache, type ArpEntry, type CacheEntry } from './flow-cache.js';
import { LruTable } from './lru.js';
import { describeFrame } from './describe.js';
import { DROP_KEY, DROP_TEXT, METALLB_DROP_CODE, ovnDropCode, POD_DROP_CODE, type DropCode } from './drops.js';
import { isLoadBalancerService, type K8sObject } from './manifests.js';
import type { StageName, TimelineEvent, TraceLine, TraceStep } from './outputs.js';
import { PodHost } from './pods.js';
import type { ClusterSpec } from './scenario.js';

/** What happened to one injected frame. */
export interface InjectResult {
  /** Frames that reached the outside (the client's side of the wire), tagged as on the wire. */
  outside: Uint8Array[];
  /** Frames the cluster sent on its own (gratuitous ARP) that reached the outside before this frame. */
  background: Uint8Array[];
  /** Frames pods accepted, with the pod. */
  delivered: Array<{ pod: string; node: string; frame: Uint8Array }>;
  /** Every step, in order (empty when the simulation runs without traces). */
  stages: TraceStep[];
  /** Why copies of the frame ended without delivery. */
  drops: Array<{ at: string; code: DropCode; reason: string }>;
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
  /** Replay established flows from a cache in {@link SimulatedCluster.process} (default true); see flow-cache.ts. */
  flowCache?: boolean;
  /** Connections each pod keeps (oldest forgotten first, counted in `connEvictions`); default 65 536. */
  podConnLimit?: number;
  /**
   * When the pods' ports were bound (ms of simulated time), if the run covers it: ovn-controller then announces
   * each bound VIF address with a gratuitous ARP out of the localnet port, at {@link VIF_GARP_OFFSETS} after
   * binding (seen on a real OVS 3.1 + OVN 23.03 run: ~0, 2, 6, 14, 30 s), so the physical switch and br-provider
   * learn the pods' MACs. Undefined (the default): the pods were bound long before the run starts (a capture of
   * a running cluster), and no such announcement falls into it.
   */
  vifBoundAt?: number;
  /**
   * The OVN release whose logical flows the switch runs. Default: the Kube-OVN profile's (`PROFILE_OVN_VERSION` of
   * @vippath/ovn: kube-ovn-1.14 → 24.03, 1.15 → 25.03). Set it to compare with a real OVN of another
   * release: the testbed passes the installed one's (Debian's 23.03).
   */
  ovnVersion?: OvnVersion;
}

/** When ovn-controller announces a newly bound VIF, after binding (ms): a doubling backoff, five times. */
export const VIF_GARP_OFFSETS = [0, 2000, 6000, 14000, 30000] as const;

/** Where a frame can enter: the outside, a node's NIC (tagged), its VLAN interface or LOCAL port (untagged), a pod. */
export type Ingress = string;

const MAX_DEPTH = 256;
const SYN = 0x02;
const ACK = 0x10;

function macNumber(buf: Uint8Array, offset: number): number {
  return (buf[offset]! * 0x10000 + buf[offset + 1]! * 0x100 + buf[offset + 2]!) * 0x1000000 + buf[offset + 3]! * 0x10000 + buf[offset + 4]! * 0x100 + buf[offset + 5]!;
}

function sameBytes(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function macText(n: number): string {
  return n.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** A node's places, named once. */
interface NodeNames {
  nic: string;
  nicAt: string;
  vif: string;
  br: string;
  patchAt: string;
  metallb: string;
  host: string;
  ls: string;
  lb: string;
  mac: number;
  bridge: Bridge;
  /** br-provider's ofport for the VLAN interface and for the patch to br-int (-1: none; snapshots number their own). */
  upPort: number;
  patchPort: number;
  nicIn: string;
  nicOut: string;
}

/** The simulated cluster. */
export class SimulatedCluster {
  readonly state: DerivedState;
  readonly ls: LogicalSwitch;
  readonly bridges = new Map<string, Bridge>();
  /** Pods by logical switch port name (`<pod>.<namespace>`). */
  readonly pods = new Map<string, PodHost>();
  /** Drops by reason over the whole run. */
  readonly dropCounts = new Map<DropCode, number>();
  /** Visits per stage over the whole run. */
  readonly stageCounts: Record<StageName, number> = { wire: 0, 'underlay0.341': 0, metallb: 0, 'br-provider': 0, ovn: 0, 'lb-dnat': 0, pod: 0, host: 0 };
  /** Edge ids by `<from>→<to>`; counts in {@link edgeFrames} (numbers, so the hot path allocates nothing). */
  private readonly edgeIndex = new Map<string, number>();
  private readonly edgeNames: Array<[string, string]> = [];
  private readonly edgeRows = new Map<string, Map<string, number>>();
  /** Names of each node's places, made once (the full path builds no strings unless it traces). */
  private readonly names = new Map<string, NodeNames>();
  private readonly podAt = new Map<string, string>();
  private readonly floods = new Map<string, string[]>();
  private readonly bridgeOptions = { now: 0 };
  private edgeFrames: number[] = [];
  /** New connections per backend pod (LB selections), over the whole run. */
  readonly backendCounts = new Map<string, number>();
  /** Things that happened in simulated time (node loss, GARP bursts, owner changes). */
  readonly events: TimelineEvent[] = [];
  /** Nodes whose machine is down (their NIC receives nothing). */
  readonly down = new Set<string>();
  /** Injected frames whose offload-partial L4 checksum was completed as the sender's NIC would have. */
  offloadChecksumsCompleted = 0;
  /** MAC addresses the wire forgot because its table was full. */
  get wireMacEvictions(): number {
    let n = this.fdb.evictions;
    for (const t of this.otherFdbs.values()) n += t.evictions;
    return n;
  }

  /** MAC addresses the wire knows now (over every VLAN). */
  get wireMacs(): number {
    let n = this.fdb.size;
    for (const t of this.otherFdbs.values()) n += t.size;
    return n;
  }
  /** Called with every frame put on the wire (by the outside or a node's NIC), as it is on the wire (tagged). */
  onWire: ((from: string, frame: Uint8Array, now: number) => void) | undefined;
  /** Called with every frame crossing a node port (`<node>/<port>`) or reaching or leaving a pod (`<node>/<pod>`). */
  onPort: ((port: string, frame: Uint8Array, now: number) => void) | undefined;
  /**
   * Called with every frame a port sends towards an end of the path, by direction — what a capture on that
   * port's far side records: `outside` (to the client), `<node>/<nic>:in` (the wire to the node's NIC, tagged),
   * `<node>/<nic>:out` (the node's NIC to the wire, tagged), `<node>/br-provider` (br-provider to its LOCAL port,
   * i.e. MetalLB and the host stack) and `<node>/<pod>` (to the pod). The real-cluster testbed records the same
   * ports, so the two compare frame by frame. Setting it turns the flow cache's shortcuts off, as onPort does.
   */
  onTap: ((tap: string, frame: Uint8Array) => void) | undefined;

  private readonly options: Required<Omit<SimulationOptions, 'ovnVersion'>>;
  /** The wire's MAC table for the cluster's VLAN (every cached flow's); learning is per VLAN, as on a real switch. */
  private readonly fdb: LruTable<number, string>;
  /** The wire's MAC tables of the other VLANs (0: untagged), made when a frame of that VLAN first crosses. */
  private readonly otherFdbs = new Map<number, LruTable<number, string>>();
  private readonly localnet: string;
  private readonly lsName: string;
  private readonly patchName: string;
  private readonly clusterMacs = new Set<number>();
  private readonly nodeByMac = new Map<number, string>();
  private readonly podByName = new Map<string, PodHost>();
  private readonly decoder = new FrameDecoder();
  private readonly d = new DecodedFrame();
  private readonly scheduled: Array<{ time: number; run: () => void }> = [];
  private metallbEventsSeen = 0;
  private lastOwners = new Map<string, string>();
  private lastGarp = new Map<string, number>();
  private now = 0;
  /** Whether steps are recorded now (the option for {@link inject}; never on {@link process}'s full path). */
  private tracing: boolean;
  /** Bumped when anything a cached flow could rest on changes (events, readiness, ownership, load balancers). */
  private generation = 0;
  private nextDue = 0;
  private fdbChanges = 0;
  private readonly cache: FlowCache | undefined;
  private readonly arpCache: LruTable<number, ArpEntry> | undefined;
  private arpHits = 0;
  private readonly scratch = new Uint8Array(65536 + 64);
  private readonly hd = new DecodedFrame();
  /** Whether the full-path run being watched recorded its steps (they go into the cache entry). */
  private tracingEntry = false;
  private r: InjectResult = { outside: [], background: [], delivered: [], stages: [], drops: [], verdict: 'dropped' };
  private answered = false;

  constructor(readonly objects: K8sObject[], readonly cluster: ClusterSpec, options: SimulationOptions = {}) {
    this.options = { trace: options.trace ?? true, notReadyAfterMs: options.notReadyAfterMs ?? 40_000, wireMacLimit: options.wireMacLimit ?? 8192, flowCache: options.flowCache ?? true, podConnLimit: options.podConnLimit ?? 65536, vifBoundAt: options.vifBoundAt ?? Number.NaN };
    this.tracing = this.options.trace;
    this.cache = this.options.flowCache ? new FlowCache() : undefined;
    this.arpCache = this.options.flowCache ? new LruTable(16384) : undefined;
    this.fdb = new LruTable(this.options.wireMacLimit);
    this.state = derive(objects, cluster);
    const subnet = objects.find((o) => o.kind === 'Subnet');
    this.lsName = subnet?.metadata.name ?? 'underlay-subnet';
    this.localnet = `localnet.${this.lsName}`;
    this.patchName = `patch-${this.localnet}-to-br-int`;
    for (const p of this.state.pods) {
      const host = new PodHost(p, 80, this.options.podConnLimit);
      this.pods.set(p.lsp, host);
      this.podByName.set(p.name, host);
    }
    // The switch runs from the logical flows northd makes of the Northbound Kube-OVN's controller writes.
    const { nb, chassis } = northboundFor(objects, this.state.pods, cluster, this.state.loadBalancers);
    this.ls = new LogicalSwitch(nb, this.lsName, chassis, { profile: northdProfile(cluster), ...(options.ovnVersion ? { ovnVersion: options.ovnVersion } : {}), ...(cluster.southbound ? { southbound: cluster.southbound.state } : {}) });
    const ofports = new Map<string, { up: number; patch: number }>();
    for (const n of cluster.nodes) {
      const vif = `${n.nic}.${cluster.vlan}`;
      const snap = cluster.brProvider?.[n.name];
      let br: Bridge;
      if (snap) {
        // The ports as collected (`ovs-ofctl show`): their numbers are the node's, the names possibly cut to 15.
        br = new Bridge('br-provider', snap.ports);
        const names = br.portNames;
        const up = resolvePortName(vif, names) ?? snap.ports.find((p) => !p.name.startsWith('patch-'))?.ofport ?? -1;
        ofports.set(n.name, { up, patch: resolvePortName(this.patchName, names) ?? -1 });
      } else {
        br = new Bridge('br-provider', [{ name: vif, ofport: 1 }, { name: this.patchName, ofport: 2 }]);
        ofports.set(n.name, { up: 1, patch: 2 });
      }
      br.addFlows(this.state.brProviderFlows[n.name]!.join('\n'));
      this.bridges.set(n.name, br);
      const mac = macNumber(Uint8Array.from(n.mac.split(':').map((x) => parseInt(x, 16))), 0);
      this.clusterMacs.add(mac);
      this.nodeByMac.set(mac, n.name);
    }
    for (const n of cluster.nodes) {
      const nicAt = `${n.name}/${n.nic}`;
      this.names.set(n.name, {
        nic: n.nic, nicAt, vif: `${nicAt}.${cluster.vlan}`, br: `${n.name}/br-provider`, patchAt: `${n.name}/${this.patchName}`, metallb: `${n.name}/metallb`,
        host: `${n.name}/host`, ls: `${n.name}/${this.lsName}`, lb: `${n.name}/lb-dnat`, mac: macNumber(Uint8Array.from(n.mac.split(':').map((x) => parseInt(x, 16))), 0), bridge: this.bridges.get(n.name)!,
        upPort: ofports.get(n.name)!.up, patchPort: ofports.get(n.name)!.patch,
        nicIn: `${nicAt}:in`, nicOut: `${nicAt}:out`,
      });
    }
    for (const p of this.state.pods) this.podAt.set(p.lsp, `${p.node}/${p.name}`);
    for (const p of this.state.pods) this.clusterMacs.add(macNumber(Uint8Array.from(p.mac.split(':').map((x) => parseInt(x, 16))), 0));
    this.noteOwners();
    const bound = this.options.vifBoundAt;
    if (Number.isFinite(bound)) for (const at of VIF_GARP_OFFSETS) this.schedule(bound + at, () => this.vifGarps(bound + at));
  }

  /**
   * ovn-controller's announcement of the VIFs bound on each chassis (ovn controller/pinctrl.c, send_garp_rarp):
   * a broadcast ARP request, SHA = the VIF's MAC, SPA = TPA = its IPv4, THA zero, unpadded (42 bytes), sent
   * out of the localnet port — so it enters br-provider from the patch port.
   */
  private vifGarps(at: number): void {
    for (const p of this.state.pods) {
      if (this.down.has(p.node) || p.ip.includes(':')) continue;
      const frame = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: p.mac, arp: { op: 1, senderMac: p.mac, senderIp: p.ip, targetMac: '00:00:00:00:00:00', targetIp: p.ip } });
      const n = this.names.get(p.node)!;
      // A collected br-provider without the patch port: nothing leaves through the localnet port there.
      if (n.patchPort < 0) continue;
      this.events.push({ time: at, kind: 'garp', text: `ovn-controller on ${p.node} announces ${p.name} (${p.ip} is-at ${p.mac})` });
      this.step('ovn', n.ls, 'ovn-controller: gratuitous ARP for a bound VIF, out of the localnet port', undefined);
      this.port(n.patchAt, frame);
      this.bridge(p.node, frame, n.patchPort, n.patchAt, 0);
    }
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
    return this.podByName.get(name);
  }

  /**
   * Takes `node` down at `at` (ms): its NIC stops receiving and sending, its speaker dies (the others notice
   * after MetalLB's failure detection), its pods stop answering, and after `notReadyAfterMs` their endpoints
   * turn not ready (MetalLB and the OVN load balancer follow). With `linkDown`, its switch port's link goes down
   * too (the machine is off or unplugged rather than hung): the switch forgets the MACs it learned there, so
   * frames to them flood to the nodes left — where Kube-OVN's br-provider rule (which matches the VIP, not the
   * MAC) takes them into OVN. Without it, the switch keeps sending them to the dead port until they age out.
   */
  nodeDown(node: string, at: number, options: { linkDown?: boolean } = {}): void {
    checkTime(at, 'nodeDown at');
    this.requireNode(node);
    this.state.metallb.nodeDown(node, at);
    this.schedule(at, () => {
      this.down.add(node);
      this.events.push({ time: at, kind: 'node-down', text: `${node} lost (NIC, speaker and pods gone${options.linkDown ? ', switch port link down' : ''})` });
      if (!options.linkDown) return;
      // The switch forgets the MACs learned on a port whose link went (seen on the real testbed when a node's
      // port goes), so frames to them flood to the nodes left.
      let forgotten = this.fdb.deleteWhere((p) => p === node);
      for (const t of this.otherFdbs.values()) forgotten += t.deleteWhere((p) => p === node);
      if (forgotten) this.fdbChanges++;
    });
    for (const p of this.state.pods) if (p.node === node) this.setPodReady(p.name, false, at + this.options.notReadyAfterMs);
  }

  /** Brings `node` back at `at`; its pods turn ready again at once. */
  nodeUp(node: string, at: number): void {
    checkTime(at, 'nodeUp at');
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
    checkTime(at, 'setPodReady at');
    const pod = this.state.pods.find((p) => p.name === name);
    if (!pod) throw new VippathError('NO_SUCH_POD', `no pod named ${name}; pods: ${this.state.pods.map((p) => p.name).join(', ')}`);
    for (const s of this.objects.filter(isLoadBalancerService)) {
      const index = this.state.pods.filter((p) => backs(s, p)).indexOf(pod);
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
    checkTime(now, 'advance now');
    this.begin(now);
    for (;;) {
      const next = this.scheduled[0];
      const frames = this.state.metallb.advance(next && next.time <= now ? next.time : now);
      this.sendSpontaneous(frames);
      if (!next || next.time > now) break;
      this.scheduled.shift()!.run();
      this.generation++;
    }
    this.nextDue = Math.min(this.scheduled[0]?.time ?? Infinity, this.state.metallb.nextDue());
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
    checkTime(now, 'inject now');
    const background = this.advance(now);
    if (ingress === 'outside' && this.cache && !this.onWire && !this.onPort && !this.onTap) {
      // From the outside, established flows come from the flow cache here too — with the very steps the full
      // path recorded for them.
      this.fromOutside(frame, frame.length, now, true);
      this.r.background = background.outside;
      return this.r;
    }
    this.begin(now);
    // Frames the cluster sent on its own before this one are reported too, apart from this frame's.
    this.r.background = background.outside;
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

  /** Frames that reached the outside during {@link process} (valid only during the call). */
  onOutside: ((frame: Uint8Array) => void) | undefined;

  /** The flow cache's counts: hits, misses (full path), stale entries refused, entries. */
  cacheStats(): { hits: number; misses: number; stale: number; entries: number; arpHits: number; arpEntries: number } {
    const c = this.cache;
    return { hits: c?.hits ?? 0, misses: c?.misses ?? 0, stale: c?.stale ?? 0, entries: c?.size ?? 0, arpHits: this.arpHits, arpEntries: this.arpCache?.size ?? 0 };
  }

  /** True when simulated time has something due (a scheduled change, an announcement): entries made now would not hold. */
  dueNow(): boolean {
    return this.now >= this.nextDue;
  }

  /**
   * The hot path: `frame[0, length)` enters from the outside at simulated time `now` (ms). Counters, conntrack,
   * pods and MetalLB change exactly as with {@link inject}, but no steps are recorded and nothing is returned
   * but the verdict; frames reaching the outside go to {@link onOutside}. Pure ACKs of established flows replay
   * the path up to the OVN switch from the flow cache (flow-cache.ts), then run the switch and the pod for real;
   * the rest take the full path.
   * `frame` is not modified.
   */
  process(frame: Uint8Array, length: number, now: number): TraceLine['verdict'] {
    // One comparison pair: NaN and Infinity fail it (the hot path keeps the check inline).
    if (!(now >= 0 && now <= Number.MAX_SAFE_INTEGER)) checkTime(now, 'process now');
    if (now >= this.nextDue) this.sendBackground(now);
    return this.fromOutside(frame, length, now, false);
  }

  /**
   * A frame from the outside, through the flow cache when it can be. `result`: {@link inject} wants the whole
   * result in `this.r` (with steps when tracing); {@link process} only the verdict and its callbacks.
   */
  private fromOutside(frame: Uint8Array, length: number, now: number, result: boolean): TraceLine['verdict'] {
    const cache = this.cache;
    const buf = this.scratch;
    if (length > 65536) length = 65536;
    buf.set(length === frame.length ? frame : frame.subarray(0, length));
    const d = this.hd;
    if (cache !== undefined) {
      const v = this.cachedHit(buf, length, now, result);
      if (v !== undefined) return v;
    }
    this.decoder.decode(buf, d, length);
    // ARP requests for what the owner answers: the same request is answered from the ARP cache.
    const arpCandidate = this.arpCache !== undefined && !this.onWire && !this.onPort && !this.onTap && d.status === 0 && d.vlanCount === 1 && d.l3 === L3.ARP && d.arpOp === 1 && length >= 46 && (buf[0]! & buf[1]! & buf[2]! & buf[3]! & buf[4]! & buf[5]!) === 0xff;
    let arpHash = 0;
    if (arpCandidate) {
      arpHash = FlowCache.hash((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!, d.arpSpa, d.arpTpa, length, (buf[6]! << 8) | buf[7]!, d.vlanTci[0]!);
      const e = this.arpCache!.get(arpHash);
      if (e && e.length === length && sameBytes(buf, e.head, 46) && this.arpUsable(e) && !(result && this.tracing && e.stages === undefined)) return this.arpReplay(e, now, result);
    }
    // The only shape cached: one 802.1Q tag, IPv4 without options or fragments, TCP, a pure ACK without data.
    const candidate = cache !== undefined && !this.onWire && !this.onPort && !this.onTap && d.status === 0 && d.vlanCount === 1 && d.l3 === L3.IPV4 && d.ipProto === 6 && d.ipHeaderLength === 20 && !d.ipFragment && d.tcpFlags === ACK && d.payloadLength === 0 && d.l4Offset >= 0;
    let hash = 0;
    if (candidate) {
      const srcHi = (buf[6]! << 8) | buf[7]!;
      const srcLo = (buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!;
      const dstHi = (buf[0]! << 8) | buf[1]!;
      const dstLo = (buf[2]! << 24) | (buf[3]! << 16) | (buf[4]! << 8) | buf[5]!;
      const ports = (d.srcPort << 16) | d.dstPort;
      hash = FlowCache.hash(srcLo, dstLo, d.ipSrc, d.ipDst, ports, d.tcpFlags);
      const e = cache.get(hash);
      if (e && e.srcLo === srcLo && e.dstLo === dstLo && e.srcHi === srcHi && e.dstHi === dstHi && e.ipSrc === d.ipSrc && e.ipDst === d.ipDst && e.ports === ports && e.flags === d.tcpFlags && e.length === length && e.tci === d.vlanTci[0]) {
        // An entry made without steps (on process's path) cannot answer a traced inject: that one takes the full
        // path once more and records them.
        if (this.usable(e) && !(result && this.tracing && e.stages === undefined)) {
          return this.hit(e, buf, length, now, result);
        }
        cache.stale++;
        cache.delete(hash);
      }
      cache.misses++;
    }
    // The full path, watched when the packet could become a cache entry (with its steps when they are wanted).
    const watch = candidate || arpCandidate ? this.watchBegin() : undefined;
    const dropsBefore = arpCandidate ? new Map(this.dropCounts) : undefined;
    const speakerBefore = arpCandidate ? [...this.state.metallb.speakers.values()].map((sp) => ({ drops: sp.drops as Partial<Record<string, number>>, was: { ...sp.drops } as Partial<Record<string, number>> })) : undefined;
    if (arpCandidate) for (const b of this.bridges.values()) b.learnLog = [];
    const saved = this.tracing;
    this.tracing = result && saved;
    this.begin(now);
    const copy = buf.slice(0, length);
    this.decoder.decode(copy, this.d);
    if (completeOffloadChecksum(copy, this.d)) this.offloadChecksumsCompleted++;
    this.wire('outside', copy, 0);
    const r = this.finish();
    this.tracing = saved;
    this.tracingEntry = result && saved;
    if (watch && arpCandidate) this.arpWatchEnd(watch, arpHash, r, buf, length, dropsBefore!, speakerBefore!);
    else if (watch) this.watchEnd(watch, hash, r, frame, length, now);
    if (!result) {
      for (const out of r.outside) this.onOutside?.(out);
      if (this.onDeliver) for (const x of r.delivered) this.onDeliver(this.pod(x.pod)!, x.frame, x.frame.length);
    }
    return r.verdict;
  }

  /**
   * The cache's fast lane: the one cached layout (802.1Q, IPv4 without options or fragments, a pure TCP ACK
   * without data) recognised from fixed offsets — the checks FrameDecoder makes for that layout, nothing more —
   * and served when its entry is usable. Anything else (another layout, no entry, a stale one) goes the general
   * way, which decodes in full and does the cache's bookkeeping.
   */
  private cachedHit(buf: Uint8Array, length: number, now: number, result: boolean): TraceLine['verdict'] | undefined {
    if (length < 58 || this.onWire || this.onPort || this.onTap || buf[12] !== 0x81 || buf[13] !== 0 || buf[16] !== 8 || buf[17] !== 0 || buf[18] !== 0x45 || buf[27] !== 6) return undefined;
    if (((buf[24]! & 0x3f) | buf[25]!) !== 0) return undefined;
    const total = (buf[20]! << 8) | buf[21]!;
    const hl = (buf[46]! >> 4) << 2;
    if ((((buf[46]! & 1) << 8) | buf[47]!) !== ACK || total < 40 || 18 + total > length || hl < 20 || hl !== total - 20) return undefined;
    const srcLo = (buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!;
    const dstLo = (buf[2]! << 24) | (buf[3]! << 16) | (buf[4]! << 8) | buf[5]!;
    const ipSrc = readIPv4(buf, 30);
    const ipDst = readIPv4(buf, 34);
    const sport = (buf[38]! << 8) | buf[39]!;
    const dport = (buf[40]! << 8) | buf[41]!;
    const ports = (sport << 16) | dport;
    const e = this.cache!.get(FlowCache.hash(srcLo, dstLo, ipSrc, ipDst, ports, ACK));
    if (!e || e.srcLo !== srcLo || e.dstLo !== dstLo || e.srcHi !== ((buf[6]! << 8) | buf[7]!) || e.dstHi !== ((buf[0]! << 8) | buf[1]!) || e.ipSrc !== ipSrc || e.ipDst !== ipDst || e.ports !== ports || e.flags !== ACK || e.length !== length || e.tci !== ((buf[14]! << 8) | buf[15]!)) return undefined;
    if (!this.usable(e) || (result && this.tracing && e.stages === undefined)) return undefined;
    // What replay() and the edits read of the decoded frame, as the decoder would have set it.
    const d = this.hd;
    d.status = 0;
    d.l3 = L3.IPV4;
    d.l3Offset = 18;
    d.l3End = 18 + total;
    d.l4Offset = 38;
    d.l4Length = total - 20;
    d.ipProto = 6;
    d.ipHeaderLength = 20;
    d.ipFragment = false;
    d.ipSrc = ipSrc;
    d.ipDst = ipDst;
    d.srcPort = sport;
    d.dstPort = dport;
    d.tcpFlags = ACK;
    d.payloadOffset = 38 + hl;
    d.payloadLength = 0;
    d.vlanCount = 1;
    return this.hit(e, buf, length, now, result);
  }

  /**
   * A flow-cache hit: the path up to the OVN switch replayed, then the switch, the pods and whatever they answer
   * run for real (their state — conntrack above all — changes as on the full path), reported as {@link inject} or
   * {@link process} wants it.
   */
  private hit(e: CacheEntry, buf: Uint8Array, length: number, now: number, result: boolean): TraceLine['verdict'] {
    const len = this.replay(e, buf, length);
    const saved = this.tracing;
    this.tracing = result && saved;
    this.begin(now);
    if (this.tracing) for (const st of e.stages!) this.r.stages.push(st);
    this.ovn(e.node, buf.subarray(0, len), this.localnet, e.from, e.depth);
    const r = this.finish();
    this.tracing = saved;
    if (!result) {
      for (const out of r.outside) this.onOutside?.(out);
      if (this.onDeliver) for (const x of r.delivered) this.onDeliver(this.pod(x.pod)!, x.frame, x.frame.length);
    }
    return r.verdict;
  }

  /** Whether what ARP entry `e` rests on still holds: versions, the wire's MAC table, the bridges' MAC entries. */
  private arpUsable(e: ArpEntry): boolean {
    if (e.generation !== this.generation || e.lsVersion !== this.ls.version) return false;
    for (let i = 0; i < e.bridgeVersions.length; i++) if (e.bridgeVersions[i]!.bridge.version !== e.bridgeVersions[i]!.version) return false;
    if (e.fdbStamp !== this.fdbChanges) {
      if (this.fdb.get(e.clientMac) !== 'outside' || this.fdb.get(e.ownerMac) !== e.owner) return false;
      e.fdbStamp = this.fdbChanges;
    }
    for (let i = 0; i < e.learns.length; i++) {
      const l = e.learns[i]!;
      if (l.table.get(l.mac) !== l.entry || l.entry.port !== l.port) return false;
    }
    return true;
  }

  /** Replays an ARP entry: the refreshes, the counters, the owner's reply. */
  private arpReplay(e: ArpEntry, now: number, result: boolean): 'answered' {
    this.arpHits++;
    // What the full path's wire learn did: the client's and the owner's MACs seen again.
    this.fdb.touch(e.clientMac);
    this.fdb.touch(e.ownerMac);
    for (let i = 0; i < e.learns.length; i++) e.learns[i]!.entry.seen = now;
    for (let i = 0; i < e.flows.length; i++) {
      const f = e.flows[i]!;
      f.flow.nPackets++;
      f.flow.nBytes += f.bytes;
    }
    for (let i = 0; i < e.speakerDrops.length; i++) {
      const x = e.speakerDrops[i]!;
      x.drops[x.reason] = (x.drops[x.reason] ?? 0) + x.delta;
    }
    this.credit(e.stageDelta, e.edgeIds, e.edgeDelta);
    for (let i = 0; i < e.dropDeltas.length; i++) {
      const x = e.dropDeltas[i]!;
      this.dropCounts.set(x.code, (this.dropCounts.get(x.code) ?? 0) + x.delta);
    }
    if (result) {
      this.now = now;
      this.r = { outside: [e.reply.slice()], background: [], delivered: [], stages: this.tracing ? e.stages!.slice() : [], drops: this.tracing ? e.drops.slice() : e.drops.map((x) => ({ at: x.at, code: x.code, reason: DROP_KEY[x.code] })), verdict: 'answered' };
    } else this.onOutside?.(e.reply);
    return 'answered';
  }

  /** Makes an ARP entry from a watched full-path run, when everything it did is something a replay reproduces. */
  private arpWatchEnd(w: ReturnType<SimulatedCluster['watchBegin']>, hash: number, r: InjectResult, buf: Uint8Array, length: number, dropsBefore: Map<string, number>, speakerBefore: Array<{ drops: Partial<Record<string, number>>; was: Partial<Record<string, number>> }>): void {
    const effects = this.ls.effects!;
    this.ls.effects = undefined;
    const learns = w.bridges.flatMap((b) => b.learnLog!);
    const flows = w.bridges.flatMap((b) => b.hitLog!);
    for (const b of w.bridges) {
      b.hitLog = undefined;
      b.learnLog = undefined;
    }
    if (r.verdict !== 'answered' || r.outside.length !== 1 || r.delivered.length || w.fdb !== this.fdbChanges) return;
    if (effects.ctCalls || learns.some((l) => l.created) || this.dueNow()) return;
    const reply = r.outside[0]!;
    const ownerMac = macNumber(reply, 6);
    const owner = this.nodeByMac.get(ownerMac);
    if (!owner) return;
    const { stageDelta, edgeIds, edgeDelta } = this.deltas(w);
    const dropDeltas = [...this.dropCounts].map(([code, n]) => ({ code, delta: n - (dropsBefore.get(code) ?? 0) })).filter((x) => x.delta !== 0);
    const speakerDrops = speakerBefore.flatMap(({ drops, was }) => Object.entries(drops).map(([reason, n]) => ({ drops, reason, delta: (n ?? 0) - (was[reason] ?? 0) })).filter((x) => x.delta !== 0));
    this.arpCache!.set(hash, {
      head: buf.slice(0, 46), length, generation: this.generation, fdbStamp: this.fdbChanges, clientMac: macNumber(buf, 6), ownerMac, owner,
      bridgeVersions: w.bridges.map((bridge) => ({ bridge, version: bridge.version })), lsVersion: this.ls.version,
      learns: learns.map((l) => ({ table: l.table, mac: l.mac, entry: l.entry, port: l.port })), flows, speakerDrops,
      stageDelta, edgeIds, edgeDelta, dropDeltas, drops: r.drops.slice(), reply: reply.slice(), stages: this.tracingEntry ? r.stages.slice() : undefined,
    });
  }

  /** Counter changes since `w` (stages; edges as ids and deltas). */
  private deltas(w: ReturnType<SimulatedCluster['watchBegin']>): { stageDelta: Int32Array; edgeIds: Int32Array; edgeDelta: Int32Array } {
    const stageDelta = this.stageVector().map((v, i) => v - w.stages[i]!);
    const ids: number[] = [];
    const delta: number[] = [];
    for (let i = 0; i < this.edgeFrames.length; i++) {
      const dlt = this.edgeFrames[i]! - (w.edges[i] ?? 0);
      if (dlt) {
        ids.push(i);
        delta.push(dlt);
      }
    }
    return { stageDelta, edgeIds: Int32Array.from(ids), edgeDelta: Int32Array.from(delta) };
  }

  /** Adds an entry's counter deltas. */
  private credit(stageDelta: Int32Array, edgeIds: Int32Array, edgeDelta: Int32Array): void {
    const sc = this.stageCounts;
    sc.wire += stageDelta[0]!;
    sc['underlay0.341'] += stageDelta[1]!;
    sc.metallb += stageDelta[2]!;
    sc['br-provider'] += stageDelta[3]!;
    sc.ovn += stageDelta[4]!;
    sc['lb-dnat'] += stageDelta[5]!;
    sc.pod += stageDelta[6]!;
    sc.host += stageDelta[7]!;
    for (let i = 0; i < edgeIds.length; i++) this.edgeFrames[edgeIds[i]!]! += edgeDelta[i]!;
  }

  private sendBackground(now: number): void {
    const saved = this.tracing;
    this.tracing = false;
    const r = this.advance(now);
    this.tracing = saved;
    for (const out of r.outside) this.onOutside?.(out);
  }

  /** Whether every fact entry `e` rests on still holds: versions, and the wire's MAC table. */
  private usable(e: CacheEntry): boolean {
    if (e.generation !== this.generation || e.bridge.version !== e.bridgeVersion) return false;
    // The wire's table: unchanged since the last check, or checked again now.
    if (e.fdbStamp !== this.fdbChanges) {
      if (this.fdb.get(e.srcMac) !== 'outside' || this.fdb.get(e.dstMac) !== e.node) return false;
      e.fdbStamp = this.fdbChanges;
    }
    return true;
  }

  /** Replays the path up to the switch: its counters, and its edits of the bytes (untag, br-provider's mod_dl_dst). */
  private replay(e: CacheEntry, buf: Uint8Array, length: number): number {
    const d = this.hd;
    this.cache!.hits++;
    e.hits++;
    this.fdb.touch(e.srcMac);
    if (completeOffloadChecksum(buf, d)) this.offloadChecksumsCompleted++;
    const len = popVlan(buf, length);
    rewriteMac(buf, 0, e.dstMacBytes);
    this.credit(e.stageDelta, e.edgeIds, e.edgeDelta);
    for (let i = 0; i < e.flows.length; i++) {
      const f = e.flows[i]!;
      f.flow.nPackets++;
      f.flow.nBytes += f.bytes;
    }
    return len;
  }

  /** Called with each frame a pod accepts during {@link process} (bytes valid during the call). */
  onDeliver: ((pod: PodHost, frame: Uint8Array, length: number) => void) | undefined;

  /** The stage counters in {@link credit}'s order. */
  private stageVector(): Int32Array {
    const sc = this.stageCounts;
    return Int32Array.of(sc.wire, sc['underlay0.341'], sc.metallb, sc['br-provider'], sc.ovn, sc['lb-dnat'], sc.pod, sc.host);
  }

  private watchBegin(): { stages: Int32Array; edges: number[]; fdb: number; bridges: Bridge[]; normal: number[] } {
    const bridges = [...this.bridges.values()];
    for (const b of bridges) b.hitLog = [];
    this.ls.effects = { ctCalls: 0, packets: 0 };
    this.split = undefined;
    this.watching = true;
    return { stages: this.stageVector(), edges: [...this.edgeFrames], fdb: this.fdbChanges, bridges, normal: bridges.map((b) => b.normalUsed) };
  }

  /** Where a watched full-path run first reached the OVN switch: the state then, and how it got there. */
  private split: {
    stages: Int32Array; edges: number[]; fdb: number; hits: number[]; normal: number[]; steps: number; quiet: boolean;
    frame: Uint8Array; inport: string; from: string; depth: number; node: string;
  } | undefined;
  private watching = false;

  /** Called as the OVN hop begins: on a watched run, the first time, the state the cache entry will stop at. */
  private noteSplit(node: string, frame: Uint8Array, inport: string, from: string, depth: number): void {
    const bridges = [...this.bridges.values()];
    this.split = {
      stages: this.stageVector(), edges: [...this.edgeFrames], fdb: this.fdbChanges, hits: bridges.map((b) => b.hitLog?.length ?? 0), normal: bridges.map((b) => b.normalUsed),
      steps: this.r.stages.length, quiet: this.r.outside.length === 0 && this.r.delivered.length === 0 && this.r.drops.length === 0,
      frame: frame.slice(), inport, from, depth, node,
    };
  }

  /**
   * Makes a cache entry from a watched full-path run: the part up to the OVN switch, when it was one wire hop to
   * one node, br-provider's own rule (no NORMAL, no learning) to the patch port, and nothing else. The switch and
   * what follows it run for real on every hit, so whatever they do (conntrack, drops, answers) is exact.
   */
  private watchEnd(w: ReturnType<SimulatedCluster['watchBegin']>, hash: number, r: InjectResult, frame: Uint8Array, length: number, now: number): void {
    this.ls.effects = undefined;
    this.watching = false;
    const sp = this.split;
    this.split = undefined;
    const hitsBefore = w.bridges.map((b) => b.hitLog!.slice(0, sp ? sp.hits[w.bridges.indexOf(b)] : 0));
    for (const b of w.bridges) b.hitLog = undefined;
    if (!sp || !sp.quiet || sp.inport !== this.localnet || sp.fdb !== w.fdb || sp.fdb !== this.fdbChanges || now >= this.nextDue) return;
    if (w.bridges.some((b, i) => sp.normal[i] !== w.normal[i])) return;
    const hitBridges = w.bridges.filter((_, i) => hitsBefore[i]!.length > 0);
    if (hitBridges.length !== 1 || hitBridges[0] !== this.bridges.get(sp.node)) return;
    const flows = hitsBefore.flat();
    const stageDelta = sp.stages.map((v, i) => v - w.stages[i]!);
    const ids: number[] = [];
    const delta: number[] = [];
    for (let i = 0; i < sp.edges.length; i++) {
      const dlt = sp.edges[i]! - (w.edges[i] ?? 0);
      if (dlt) {
        ids.push(i);
        delta.push(dlt);
      }
    }
    const d = this.hd;
    this.decoder.decode(frame, d, length);
    const node = this.fdb.get(macNumber(frame, 0));
    if (node !== sp.node || this.fdb.get(macNumber(frame, 6)) !== 'outside') return;
    const entry: CacheEntry = {
      srcHi: (frame[6]! << 8) | frame[7]!, srcLo: (frame[8]! << 24) | (frame[9]! << 16) | (frame[10]! << 8) | frame[11]!,
      dstHi: (frame[0]! << 8) | frame[1]!, dstLo: (frame[2]! << 24) | (frame[3]! << 16) | (frame[4]! << 8) | frame[5]!,
      srcMac: macNumber(frame, 6), dstMac: macNumber(frame, 0), tci: d.vlanTci[0]!, ipSrc: d.ipSrc, ipDst: d.ipDst, ports: (d.srcPort << 16) | d.dstPort, flags: d.tcpFlags, length,
      generation: this.generation, fdbStamp: this.fdbChanges, node, bridge: hitBridges[0]!, bridgeVersion: hitBridges[0]!.version,
      stageDelta, edgeIds: Int32Array.from(ids), edgeDelta: Int32Array.from(delta), flows,
      dstMacBytes: sp.frame.slice(0, 6), from: sp.from, depth: sp.depth, hits: 0,
      stages: this.tracingEntry ? r.stages.slice(0, sp.steps) : undefined,
    };
    // The compiled edits must give the bytes that reached the switch exactly, or the flow is not cached.
    const test = new Uint8Array(length);
    test.set(frame.subarray(0, length));
    const td = new DecodedFrame();
    this.decoder.decode(test, td, length);
    completeOffloadChecksum(test, td);
    const len = popVlan(test, length);
    rewriteMac(test, 0, entry.dstMacBytes);
    if (len !== sp.frame.length || !test.subarray(0, len).every((b, i) => b === sp.frame[i])) return;
    this.cache!.set(hash, entry);
  }

  /** Frames along each edge of the path diagram, over the whole run. */
  edges(): Array<{ from: string; to: string; frames: number }> {
    return this.edgeNames.map(([from, to], i) => ({ from, to, frames: this.edgeFrames[i]! })).filter((e) => e.frames > 0);
  }

  private edgeId(from: string, to: string): number {
    let row = this.edgeRows.get(from);
    if (!row) this.edgeRows.set(from, (row = new Map()));
    let id = row.get(to);
    if (id === undefined) {
      const key = `${from}→${to}`;
      id = this.edgeNames.length;
      this.edgeIndex.set(key, id);
      row.set(to, id);
      this.edgeNames.push([from, to]);
      this.edgeFrames.push(0);
    }
    return id;
  }

  /** Throws a `BAD_INGRESS` error (a `VippathError`) unless `ingress` names a place frames can enter. */
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
    // What no NIC would hand over is dropped where it enters (the wire does the same for the outside).
    if (frame.length < 14) return this.drop(ingress, 'wire.runt');
    if (where.kind === 'nic') return this.nic(node, frame, 'outside', 0);
    if (where.kind === 'vlan') return this.bridge(node, frame, this.names.get(node)!.upPort, `${node}/${this.nicOf(node)}.${this.cluster.vlan}`, 0);
    if (where.kind === 'local') return this.bridge(node, frame, Port.LOCAL, `${node}/br-provider`, 0);
    return this.ovn(node, frame, where.pod!.pod.lsp, `${node}/${where.pod!.pod.name}`, 0);
  }

  private requireNode(node: string): void {
    if (!this.cluster.nodes.some((n) => n.name === node)) throw new VippathError('NO_SUCH_NODE', `no node named ${node}; nodes: ${this.cluster.nodes.map((n) => n.name).join(', ')}`);
  }

  private schedule(time: number, run: () => void): void {
    this.nextDue = Math.min(this.nextDue, time);
    let i = this.scheduled.length;
    while (i > 0 && this.scheduled[i - 1]!.time > time) i--;
    this.scheduled.splice(i, 0, { time, run });
  }

  private refreshLoadBalancers(): void {
    this.generation++;
    this.state.loadBalancers = ovnLoadBalancers(this.objects, this.state.pods, this.cluster, this.state.metallb);
    const collected = this.ls.southboundReplaced === undefined;
    this.ls.setNorthbound(northboundFor(this.objects, this.state.pods, this.cluster, this.state.loadBalancers).nb);
    if (collected && this.ls.southboundReplaced !== undefined) this.events.push({ time: this.now, kind: 'endpoint', text: `OVN: ${this.ls.southboundReplaced}` });
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
    this.r = { outside: [], background: [], delivered: [], stages: [], drops: [], verdict: 'dropped' };
  }

  private finish(): InjectResult {
    const r = this.r;
    r.verdict = r.delivered.length > 0 ? 'delivered' : this.answered ? 'answered' : r.outside.length > 0 ? 'forwarded' : r.drops.length > 0 ? 'dropped' : 'forwarded';
    return r;
  }

  private step(stage: StageName, at: string, decision: string, from: string | undefined): void {
    this.stageCounts[stage]++;
    if (from !== undefined && from !== at) this.edgeFrames[this.edgeId(from, at)]!++;
    if (this.tracing) this.r.stages.push({ stage, at, decision });
  }

  /**
   * A copy of the frame ends here. The code is what is counted; `detail` (the particulars: which VLAN, which
   * address) is put into words only for traces (callers on flooded paths pass it only when tracing, so an
   * untraced drop allocates nothing but its entry).
   */
  private drop(at: string, code: DropCode, detail?: () => string): void {
    this.r.drops.push({ at, code, reason: this.tracing && detail ? detail() : DROP_KEY[code] });
    this.dropCounts.set(code, (this.dropCounts.get(code) ?? 0) + 1);
  }

  private port(name: string, frame: Uint8Array): void {
    this.onPort?.(name, frame, this.now);
  }

  private learn(fdb: LruTable<number, string>, mac: number, port: string): void {
    // A switch ages an entry from when its MAC was last seen, not first learned: a busy sender (the node that
    // answers every ARP) must not be the one forgotten when the table fills with new clients.
    if (fdb.get(mac) === port) {
      fdb.touch(mac);
      return;
    }
    this.fdbChanges++;
    fdb.set(mac, port);
  }

  /**
   * The MAC table of a frame's VLAN: the outer 802.1Q tag's VID, 0 when untagged. A switch learns per VLAN
   * (independent VLAN learning; ovs-vswitchd's NORMAL does): a MAC learned on VLAN 341 is unknown on VLAN 100,
   * so such a frame floods. (802.1ad outer tags count as untagged: a C-VLAN switch does not parse them.)
   */
  private fdbOf(frame: Uint8Array): LruTable<number, string> {
    const vid = frame[12] === 0x81 && frame[13] === 0 && frame.length >= 16 ? ((frame[14]! & 0x0f) << 8) | frame[15]! : 0;
    if (vid === this.cluster.vlan) return this.fdb;
    let t = this.otherFdbs.get(vid);
    if (!t) this.otherFdbs.set(vid, (t = new LruTable(this.options.wireMacLimit)));
    return t;
  }

  private wire(from: string, frame: Uint8Array, depth: number): void {
    if (depth > MAX_DEPTH) return this.drop('wire', 'wire.hop-limit');
    if (frame.length < 14) return this.drop('wire', 'wire.runt');
    const src = macNumber(frame, 6);
    const dst = macNumber(frame, 0);
    const fdb = this.fdbOf(frame);
    if ((frame[6]! & 1) === 0) this.learn(fdb, src, from);
    this.onWire?.(from, frame, this.now);
    const known = (frame[0]! & 1) === 0 ? fdb.get(dst) : undefined;
    const to = known !== undefined ? (known === from ? [] : [known]) : this.floodFrom(from);
    this.step('wire', 'wire', this.tracing ? `${macText(src)} → ${macText(dst)} from ${from}${known === undefined ? ' flooded' : ''} to ${to.join(', ') || 'nobody (the port it came from)'}` : '', from === 'outside' ? 'outside' : this.names.get(from)!.vif);
    if (to.length === 0) this.drop('wire', 'wire.same-port');
    // Each port gets its own copy (a NIC untags in place), but the last can have the frame itself: the
    // caller handed it over and never looks at it again.
    for (let i = 0; i < to.length; i++) {
      const t = to[i]!;
      const f = i === to.length - 1 ? frame : new Uint8Array(frame);
      if (t === 'outside') {
        this.r.outside.push(f);
        this.onTap?.('outside', f);
        this.bump('wire', 'outside');
      } else this.nic(t, f, 'wire', depth + 1);
    }
  }

  /** Every port of the wire but `from`: where a broadcast or unknown destination goes. */
  private floodFrom(from: string): string[] {
    let list = this.floods.get(from);
    if (!list) this.floods.set(from, (list = ['outside', ...this.cluster.nodes.map((n) => n.name)].filter((t) => t !== from)));
    return list;
  }

  private bump(from: string, to: string): void {
    this.edgeFrames[this.edgeId(from, to)]!++;
  }

  private nicOf(node: string): string {
    return this.cluster.nodes.find((n) => n.name === node)?.nic ?? 'underlay0';
  }

  private nic(node: string, frame: Uint8Array, from: string, depth: number): void {
    const n = this.names.get(node)!;
    const vif = n.vif;
    if (this.down.has(node)) return this.drop(n.nicAt, 'nic.node-down');
    this.port(n.nicAt, frame);
    this.onTap?.(n.nicIn, frame);
    this.decoder.decode(frame, this.d);
    if (this.d.vlanCount === 0 || this.d.vid(0) !== this.cluster.vlan) {
      const vid = this.d.vlanCount === 0 ? -1 : this.d.vid(0);
      return this.drop(n.nicAt, vid < 0 ? 'nic.untagged' : 'nic.other-vlan', this.tracing ? () => `${vid < 0 ? 'untagged frame' : `VLAN ${vid}`}: not for ${n.nic}.${this.cluster.vlan}` : undefined);
    }
    const len = popVlan(frame, frame.length);
    const untagged = frame.subarray(0, len);
    this.step('underlay0.341', vif, this.tracing ? `untagged VLAN ${this.cluster.vlan}` : '', from);
    this.port(vif, untagged);
    this.bridge(node, untagged, n.upPort, vif, depth + 1);
  }

  private bridge(node: string, frame: Uint8Array, inPort: number, from: string, depth: number): void {
    const n = this.names.get(node)!;
    const at = n.br;
    if (depth > MAX_DEPTH) return this.drop(at, 'br-provider.hop-limit');
    this.bridgeOptions.now = this.now;
    // Traced, the bridge records its own steps (ofproto/trace's story): the rules behind this one-line decision.
    const steps: BridgeStep[] | undefined = this.tracing ? [] : undefined;
    const res = n.bridge.process(frame, inPort, steps ? { now: this.now, trace: steps } : this.bridgeOptions);
    const name = (p: number): string => (p === Port.LOCAL ? 'LOCAL' : p === n.upPort ? `${n.nic}.${this.cluster.vlan}` : p === n.patchPort ? 'patch' : String(p));
    this.step('br-provider', at, this.tracing ? `in_port ${name(inPort)} → ${res.outputs.map((o) => name(o.port)).join(', ') || 'drop'}` : '', from);
    if (steps) {
      const full = (p: number): string => (p === n.patchPort ? this.patchName : name(p));
      this.r.stages[this.r.stages.length - 1]!.openflow = bridgeTrace(n.bridge.name, inPort, full, frame, steps, res);
    }
    if (res.error) this.drop(at, res.error === 'RECURSION_TOO_DEEP' ? 'br-provider.recursion-too-deep' : 'br-provider.too-many-resubmits');
    else if (res.drop || res.outputs.length === 0) this.drop(at, 'br-provider.no-output');
    for (const o of res.outputs) {
      if (o.port === n.upPort) {
        if (this.down.has(node)) {
          this.drop(n.nicAt, 'nic.node-down');
          continue;
        }
        const vif = n.vif;
        this.port(vif, o.packet);
        const tagged = new Uint8Array(o.packet.length + 4);
        tagged.set(o.packet);
        const len = pushVlan(tagged, o.packet.length, this.cluster.vlan);
        this.step('underlay0.341', vif, this.tracing ? `tagged VLAN ${this.cluster.vlan}` : '', at);
        this.port(n.nicAt, tagged.subarray(0, len));
        this.onTap?.(n.nicOut, tagged.subarray(0, len));
        this.wire(node, tagged.subarray(0, len), depth + 1);
      } else if (o.port === n.patchPort) {
        this.port(n.patchAt, o.packet);
        this.ovn(node, o.packet, this.localnet, at, depth + 1);
      } else if (o.port === Port.LOCAL) {
        this.port(at, o.packet);
        this.onTap?.(at, o.packet);
        this.local(node, o.packet, depth + 1);
      } else this.drop(at, 'br-provider.unknown-port', () => `output to unknown port ${o.port}`);
    }
  }

  private local(node: string, frame: Uint8Array, depth: number): void {
    const n = this.names.get(node)!;
    const at = n.metallb;
    const v = this.state.metallb.receive(node, 'br-provider', frame);
    if (v.verdict === 'reply') {
      this.step('metallb', at, 'ARP/NDP reply for an announced VIP', n.br);
      this.answered = true;
      this.port(n.br, v.frame);
      this.bridge(node, v.frame, Port.LOCAL, at, depth + 1);
    } else if (v.verdict === 'drop') {
      this.step('metallb', at, this.tracing ? `no reply: ${DROP_TEXT[`metallb.${v.reason}`]}` : '', n.br);
      // The host stack has no such address either, so nothing answers from this node.
      this.drop(at, METALLB_DROP_CODE[v.reason]!);
    } else this.host(node, frame);
  }

  private host(node: string, frame: Uint8Array): void {
    const n = this.names.get(node)!;
    const at = n.host;
    // The node's own stack takes frames to its MAC; it holds no pod or VIP address, so anything else dies there.
    const mine = macNumber(frame, 0) === n.mac;
    this.step('host', at, mine ? 'to the node\'s own stack' : 'not for the node', n.br);
    this.drop(at, mine ? 'host.not-held' : 'host.not-addressed');
  }

  private ovn(node: string, frame: Uint8Array, inport: string, from: string, depth: number): void {
    if (this.watching && this.split === undefined) this.noteSplit(node, frame, inport, from, depth);
    const at = this.names.get(node)!.ls;
    if (depth > MAX_DEPTH) return this.drop(at, 'ovn.hop-limit');
    const steps: StageStep[] | undefined = this.tracing ? [] : undefined;
    const res = this.ls.process(frame, inport, node, this.now, steps);
    this.step('ovn', at, this.tracing ? `inport ${inport}` : '', from);
    if (steps) {
      for (const s of steps) {
        const lb = /ct_lb|ct_snat/.test(s.actions);
        this.r.stages.push({ stage: lb ? 'lb-dnat' : 'ovn', at: `${s.chassis}/${lb ? 'lb-dnat' : this.lsName}`, decision: `${s.stage} ${s.priority}: ${s.match} → ${s.actions}${s.note ? ` (${s.note})` : ''}`, ovn: { pipeline: s.pipeline, table: s.table, stage: s.stage, priority: s.priority, match: s.match, actions: s.actions } });
      }
    }
    if (res.verdict === 'drop') return this.drop(at, ovnDropCode(res.code), this.tracing ? () => `ovn: ${switchDropReason(res)}` : undefined);
    this.decoder.decode(frame, this.d);
    const inDst = this.d.l3 === L3.IPV4 ? this.d.ipDst : 0;
    const inSrc = this.d.l3 === L3.IPV4 ? this.d.ipSrc : 0;
    const syn = this.d.l3 === L3.IPV4 && this.d.ipProto === 6 && (this.d.tcpFlags & (SYN | ACK)) === SYN;
    for (const o of res.outputs) {
      const on = this.names.get(o.chassis)!;
      const outAt = on.ls;
      let prev = at;
      // DNAT (request) or un-DNAT (reply) shows as changed addresses: the LB stage was on this frame's path.
      const ipv4Out = this.d.l3 === L3.IPV4 && o.frame.length >= this.d.l3Offset + 20;
      const dnat = ipv4Out && readIPv4(o.frame, this.d.l3Offset + 16) !== inDst;
      const undnat = ipv4Out && readIPv4(o.frame, this.d.l3Offset + 12) !== inSrc;
      if (dnat || undnat) {
        const lbAt = this.names.get(node)!.lb;
        this.step('lb-dnat', lbAt, !this.tracing ? '' : dnat ? `DNAT to ${formatIPv4(readIPv4(o.frame, this.d.l3Offset + 16))}` : `un-DNAT: source ${formatIPv4(readIPv4(o.frame, this.d.l3Offset + 12))}`, at);
        prev = lbAt;
      }
      if (o.port === this.localnet) {
        const patch = this.names.get(o.chassis)!.patchPort;
        // A collected br-provider without the patch port (ovn-controller makes it only where the switch is local).
        if (patch < 0) {
          this.drop(outAt, 'ovn.no-patch-port', () => `ovn: ${o.chassis}'s br-provider has no patch port to br-int`);
          continue;
        }
        this.port(on.patchAt, o.frame);
        this.bridge(o.chassis, o.frame, patch, prev === at ? outAt : prev, depth + 1);
        continue;
      }
      const pod = this.pods.get(o.port);
      if (!pod) {
        this.drop(outAt, 'ovn.unmodelled-output', () => `ovn: output to ${o.port}, which vippath does not model`);
        continue;
      }
      const podAt = this.podAt.get(o.port)!;
      if (this.down.has(pod.pod.node)) {
        this.drop(podAt, 'pod.node-down');
        continue;
      }
      this.port(podAt, o.frame);
      this.onTap?.(podAt, o.frame);
      if (dnat && syn) this.backendCounts.set(pod.pod.name, (this.backendCounts.get(pod.pod.name) ?? 0) + 1);
      const replies = pod.receive(o.frame, this.now);
      if (pod.ignoredCode !== undefined) {
        this.step('pod', podAt, this.tracing ? `ignored: ${pod.ignored}` : '', prev);
        this.drop(podAt, POD_DROP_CODE[pod.ignoredCode], this.tracing ? () => `pod: ${pod.ignored}` : undefined);
      } else {
        this.step('pod', podAt, this.tracing ? `accepted${replies.length ? `, ${replies.length} frame(s) in answer` : ''}` : '', prev);
        this.r.delivered.push({ pod: pod.pod.name, node: pod.pod.node, frame: o.frame });
      }
      for (const reply of replies) {
        this.port(podAt, reply);
        this.ovn(pod.pod.node, reply, o.port, podAt, depth + 1);
      }
    }
  }
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

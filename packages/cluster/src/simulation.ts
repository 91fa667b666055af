/**
 * The cluster composed per node, in the design card's order: the wire (a learning switch carrying VLAN 341
 * between the outside and every node's NIC) → `underlay0.341` (untag 341 in, tag out) → `br-provider` (the
 * node's OpenFlow bridge with Kube-OVN's flows; MetalLB's responder on its LOCAL port) → patch → the OVN logical
 * switch (chassis = node) → LB DNAT → pod; and back. Every hop is recorded, so each injected frame has a story,
 * and every copy of a frame ends delivered, sent out, or dropped with a counted reason.
 *
 * The class composes modules with one job each: the scheduler (timed changes, scheduler.ts), the physical
 * segment (the wire's learning switch, segment.ts), the per-node path (datapath.ts: NIC → br-provider →
 * LOCAL/host or OVN → pod and back, hop to hop), the caches in front of it (caches.ts) and the trace recorder
 * (recorder.ts: steps, drops, counters).
 */
import { Bridge, Port, resolvePortName } from '@vippath/openflow';
import type { Speaker } from '@vippath/metallb';
import { LogicalSwitch, type OvnVersion } from '@vippath/ovn';
import { buildFrame, checkTime, completeOffloadChecksum, VippathError } from '@vippath/wire';
import { PathCaches, type CacheHost } from './caches.js';
import { Datapath, macNumber, NodePath } from './datapath.js';
import { backs, derive, northboundFor, northdProfile, ovnLoadBalancers, podReadinessChanged, type DerivedState, type PodState } from './derive.js';
import { describeFrame } from './describe.js';
import type { DropCode } from './drops.js';
import { isLoadBalancerService, type K8sObject } from './manifests.js';
import type { StageName, TimelineEvent, TraceLine } from './outputs.js';
import { PodHost } from './pods.js';
import { NOTHING, TraceRecorder, type InjectResult } from './recorder.js';
import type { ClusterSpec } from './scenario.js';
import { Scheduler } from './scheduler.js';
import { WireSegment } from './segment.js';

export type { InjectResult } from './recorder.js';

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
  /** Serve established flows and repeated ARP requests from the caches (default true); see caches.ts. */
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
  /**
   * Refuse a collected Southbound (`cluster.southbound`) with flows whose actions vippath does not model (DHCP's
   * `put_dhcp_opts`, `dns_lookup`…): the constructor throws LflowError `UNSUPPORTED_LFLOW` naming the flow and the
   * action (@vippath/ovn SwitchOptions.strict). Default off: they load, and a frame reaching one is dropped
   * (`ovn.unmodelled-action`). loadSnapshot's `strictLflows` refuses the same flows when the snapshot is read.
   */
  strictLflows?: boolean;
}

/** When ovn-controller announces a newly bound VIF, after binding (ms): a doubling backoff, five times. */
export const VIF_GARP_OFFSETS = [0, 2000, 6000, 14000, 30000] as const;

/** Where a frame can enter: the outside, a node's NIC (tagged), its VLAN interface or LOCAL port (untagged), a pod. */
export type Ingress = string;

/** A frame's range inside the buffer a caller hands over: whole non-negative numbers (>>> 0 keeps exactly those below 2^32), inside it. */
function checkFrameRange(buffer: Uint8Array, offset: number, length: number): void {
  if ((offset >>> 0) !== offset || (length >>> 0) !== length || offset + length > buffer.length) throw new VippathError('BAD_FRAME_RANGE', `frame range [${offset}, ${offset} + ${length}) outside the buffer's ${buffer.length} bytes`);
}

/**
 * What the caches read of the simulation ({@link CacheHost}), as an instance of a class: an object literal with a
 * getter is made with its properties in a dictionary, and V8's optimized code then reads each of them (`host.dp`,
 * `host.generation`: several per frame) through the generic load IC's hash lookup instead of a fixed offset.
 */
class SimCacheHost implements CacheHost {
  constructor(
    readonly dp: Datapath,
    readonly bridges: readonly Bridge[],
    readonly speakers: readonly Speaker[],
    readonly nodeByMac: ReadonlyMap<number, string>,
    private readonly generationNow: () => number,
    private readonly due: () => boolean,
    private readonly completed: () => void,
  ) {}

  get generation(): number {
    return this.generationNow();
  }

  dueNow(): boolean {
    return this.due();
  }

  checksumCompleted(): void {
    this.completed();
  }
}

/** The simulated cluster. */
export class SimulatedCluster {
  readonly state: DerivedState;
  readonly ls: LogicalSwitch;
  readonly bridges = new Map<string, Bridge>();
  /** Pods by logical switch port name (`<pod>.<namespace>`). */
  readonly pods = new Map<string, PodHost>();
  /** Things that happened in simulated time (node loss, GARP bursts, owner changes). */
  readonly events: TimelineEvent[] = [];
  /** Injected frames whose offload-partial L4 checksum was completed as the sender's NIC would have. */
  offloadChecksumsCompleted = 0;
  // The callbacks as processAt reads them per frame: undefined when unset, whatever a caller assigned to unset one
  // (null from JavaScript included), so that the hot path compares with undefined (one compare, not V8's ToBoolean).
  private outsideFn: ((frame: Uint8Array) => void) | undefined = undefined;
  private deliverFn: ((pod: PodHost, frame: Uint8Array, length: number) => void) | undefined = undefined;

  /** Frames that reached the outside during {@link process} (valid only during the call). */
  get onOutside(): ((frame: Uint8Array) => void) | undefined {
    return this.outsideFn;
  }

  set onOutside(f: ((frame: Uint8Array) => void) | undefined) {
    this.outsideFn = f ?? undefined;
  }

  /** Called with each frame a pod accepts during {@link process} (bytes valid during the call). */
  get onDeliver(): ((pod: PodHost, frame: Uint8Array, length: number) => void) | undefined {
    return this.deliverFn;
  }

  set onDeliver(f: ((pod: PodHost, frame: Uint8Array, length: number) => void) | undefined) {
    this.deliverFn = f ?? undefined;
  }

  private readonly options: Required<Omit<SimulationOptions, 'ovnVersion' | 'strictLflows'>>;
  private readonly rec: TraceRecorder;
  private readonly segment: WireSegment;
  private readonly dp: Datapath;
  private readonly scheduler = new Scheduler();
  private readonly caches: PathCaches | undefined;
  private readonly lsName: string;
  private readonly patchName: string;
  /**
   * The cluster's MACs (node NICs, pods) by their upper three bytes, then the lower three: both halves are small
   * integers, so the replay's per-record lookup boxes nothing (a Set of 48-bit numbers boxed the key, 16 B a
   * record).
   */
  private readonly clusterMacs = new Map<number, Set<number>>();
  private readonly nodeByMac = new Map<number, string>();
  private readonly podByName = new Map<string, PodHost>();
  private metallbEventsSeen = 0;
  private lastOwners = new Map<string, string>();
  private lastGarp = new Map<string, number>();
  /** Bumped when anything a cached flow could rest on changes (events, readiness, ownership, load balancers). */
  private generation = 0;
  /** When simulated time next has something to do (a scheduled change, a MetalLB event or announcement). */
  private nextDue = 0;

  /** Drops by reason over the whole run. */
  get dropCounts(): Map<DropCode, number> {
    return this.rec.dropCounts;
  }

  /** Visits per stage over the whole run. */
  get stageCounts(): Record<StageName, number> {
    return this.rec.stageCounts;
  }

  /** New connections per backend pod (LB selections), over the whole run: a copy made at each read. */
  get backendCounts(): Map<string, number> {
    return this.dp.backendCountsNow();
  }

  /** Nodes whose machine is down (their NIC receives nothing). */
  get down(): Set<string> {
    return this.dp.down;
  }

  /** MAC addresses the wire forgot because its table was full. */
  get wireMacEvictions(): number {
    return this.segment.evictions;
  }

  /** MAC addresses the wire knows now (over every VLAN). */
  get wireMacs(): number {
    return this.segment.size;
  }

  /**
   * Called with every frame put on the wire (by the outside or a node's NIC), as it is on the wire (tagged).
   * The caches replay these frames too, so capturing the wire keeps them on.
   */
  get onWire(): ((from: string, frame: Uint8Array, now: number) => void) | undefined {
    return this.dp.onWire;
  }

  set onWire(f: ((from: string, frame: Uint8Array, now: number) => void) | undefined) {
    this.dp.onWire = f ?? undefined;
  }

  /**
   * Called with every frame crossing a node port (`<node>/<port>`) or reaching or leaving a pod (`<node>/<pod>`).
   * Setting it turns the caches' shortcuts off (they replay the wire, not every port).
   */
  get onPort(): ((port: string, frame: Uint8Array, now: number) => void) | undefined {
    return this.dp.onPort;
  }

  set onPort(f: ((port: string, frame: Uint8Array, now: number) => void) | undefined) {
    this.dp.onPort = f ?? undefined;
  }

  /**
   * Called with every frame a port sends towards an end of the path, by direction — what a capture on that
   * port's far side records: `outside` (to the client), `<node>/<nic>:in` (the wire to the node's NIC, tagged),
   * `<node>/<nic>:out` (the node's NIC to the wire, tagged), `<node>/br-provider` (br-provider to its LOCAL port,
   * i.e. MetalLB and the host stack) and `<node>/<pod>` (to the pod). The real-cluster testbed records the same
   * ports, so the two compare frame by frame. Setting it turns the caches' shortcuts off, as onPort does.
   */
  get onTap(): ((tap: string, frame: Uint8Array) => void) | undefined {
    return this.dp.onTap;
  }

  set onTap(f: ((tap: string, frame: Uint8Array) => void) | undefined) {
    this.dp.onTap = f ?? undefined;
  }

  constructor(readonly objects: K8sObject[], readonly cluster: ClusterSpec, options: SimulationOptions = {}) {
    this.options = { trace: options.trace ?? true, notReadyAfterMs: options.notReadyAfterMs ?? 40_000, wireMacLimit: options.wireMacLimit ?? 8192, flowCache: options.flowCache ?? true, podConnLimit: options.podConnLimit ?? 65536, vifBoundAt: options.vifBoundAt ?? Number.NaN };
    this.rec = new TraceRecorder(this.options.trace);
    this.segment = new WireSegment(cluster.vlan, this.options.wireMacLimit, ['outside', ...cluster.nodes.map((n) => n.name)]);
    this.state = derive(objects, cluster);
    const subnet = objects.find((o) => o.kind === 'Subnet');
    this.lsName = subnet?.metadata.name ?? 'underlay-subnet';
    const localnet = `localnet.${this.lsName}`;
    this.patchName = `patch-${localnet}-to-br-int`;
    for (const p of this.state.pods) {
      const host = new PodHost(p, 80, this.options.podConnLimit);
      this.pods.set(p.lsp, host);
      this.podByName.set(p.name, host);
    }
    // The switch runs from the logical flows northd makes of the Northbound Kube-OVN's controller writes.
    const { nb, chassis } = northboundFor(objects, this.state.pods, cluster, this.state.loadBalancers);
    this.ls = new LogicalSwitch(nb, this.lsName, chassis, { profile: northdProfile(cluster), ...(options.ovnVersion ? { ovnVersion: options.ovnVersion } : {}), ...(cluster.southbound ? { southbound: cluster.southbound.state } : {}), ...(options.strictLflows ? { strict: true } : {}) });
    this.dp = new Datapath(this.rec, this.segment, this.ls, this.state.metallb, cluster.vlan, this.lsName, localnet, this.patchName);
    for (const [lsp, host] of this.pods) this.dp.setPod(lsp, host);
    for (const n of cluster.nodes) {
      const vif = `${n.nic}.${cluster.vlan}`;
      const snap = cluster.brProvider?.[n.name];
      let br: Bridge;
      let up = 1;
      let patch = 2;
      if (snap) {
        // The ports as collected (`ovs-ofctl show`): their numbers are the node's, the names possibly cut to 15.
        br = new Bridge('br-provider', snap.ports);
        const names = br.portNames;
        up = resolvePortName(vif, names) ?? snap.ports.find((p) => !p.name.startsWith('patch-'))?.ofport ?? -1;
        patch = resolvePortName(this.patchName, names) ?? -1;
      } else br = new Bridge('br-provider', [{ name: vif, ofport: 1 }, { name: this.patchName, ofport: 2 }]);
      br.addFlows(this.state.brProviderFlows[n.name]!.join('\n'));
      this.bridges.set(n.name, br);
      const mac = macNumber(Uint8Array.from(n.mac.split(':').map((x) => parseInt(x, 16))), 0);
      this.addClusterMac(mac);
      this.nodeByMac.set(mac, n.name);
      const nicAt = `${n.name}/${n.nic}`;
      const names = {
        nic: n.nic, nicAt, vif: `${nicAt}.${cluster.vlan}`, br: `${n.name}/br-provider`, patchAt: `${n.name}/${this.patchName}`, metallb: `${n.name}/metallb`,
        host: `${n.name}/host`, ls: `${n.name}/${this.lsName}`, lb: `${n.name}/lb-dnat`, nicIn: `${nicAt}:in`, nicOut: `${nicAt}:out`,
      };
      this.dp.nodes.set(n.name, new NodePath(this.dp, n.name, names, mac, br, up, patch));
    }
    for (const p of this.state.pods) this.addClusterMac(macNumber(Uint8Array.from(p.mac.split(':').map((x) => parseInt(x, 16))), 0));
    if (this.options.flowCache) {
      this.caches = new PathCaches(new SimCacheHost(this.dp, [...this.bridges.values()], [...this.state.metallb.speakers.values()], this.nodeByMac, () => this.generation, () => this.dueNow(), () => {
        this.offloadChecksumsCompleted++;
      }));
    }
    this.noteOwners();
    const bound = this.options.vifBoundAt;
    if (Number.isFinite(bound)) for (const at of VIF_GARP_OFFSETS) this.schedule(bound + at, () => this.vifGarps(bound + at));
  }

  /**
   * Whether steps are recorded for the frames to come ({@link inject}'s results; never on {@link process}'s
   * path). A replay turns it off once what shows steps (the report's first frames) has what it embeds.
   */
  get tracing(): boolean {
    return this.rec.tracing;
  }

  set tracing(on: boolean) {
    this.rec.tracing = !!on; // a real boolean: see TraceRecorder.tracing
  }

  /**
   * ovn-controller's announcement of the VIFs bound on each chassis (ovn controller/pinctrl.c, send_garp_rarp):
   * a broadcast ARP request, SHA = the VIF's MAC, SPA = TPA = its IPv4, THA zero, unpadded (42 bytes), sent
   * out of the localnet port — so it enters br-provider from the patch port.
   */
  private vifGarps(at: number): void {
    for (const p of this.state.pods) {
      if (this.dp.down.has(p.node) || p.ip.includes(':')) continue;
      const frame = buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: p.mac, arp: { op: 1, senderMac: p.mac, senderIp: p.ip, targetMac: '00:00:00:00:00:00', targetIp: p.ip } });
      const n = this.dp.nodes.get(p.node)!;
      // A collected br-provider without the patch port: nothing leaves through the localnet port there.
      if (n.patchPort < 0) continue;
      this.events.push({ time: at, kind: 'garp', text: `ovn-controller on ${p.node} announces ${p.name} (${p.ip} is-at ${p.mac})` });
      this.rec.step('ovn', n.names.ls, 'ovn-controller: gratuitous ARP for a bound VIF, out of the localnet port', undefined);
      this.dp.port(n.names.patchAt, frame);
      n.toBridge(frame, frame.length, n.patchPort, n.ids.patchAt, 0);
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
    return this.fromClusterAt(frame, 0, frame.length);
  }

  /** {@link fromCluster} of the frame at `buffer[offset, offset + length)` (a capture's chunk: no view). */
  fromClusterAt(buffer: Uint8Array, offset: number, length: number): boolean {
    if (length < 12) return false;
    const o = offset + 6;
    const low = this.clusterMacs.get((buffer[o]! << 16) | (buffer[o + 1]! << 8) | buffer[o + 2]!);
    return low !== undefined && low.has((buffer[o + 3]! << 16) | (buffer[o + 4]! << 8) | buffer[o + 5]!);
  }

  private addClusterMac(mac: number): void {
    const high = Math.floor(mac / 0x1000000);
    let low = this.clusterMacs.get(high);
    if (!low) this.clusterMacs.set(high, (low = new Set()));
    low.add(mac % 0x1000000);
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
      this.dp.down.add(node);
      this.events.push({ time: at, kind: 'node-down', text: `${node} lost (NIC, speaker and pods gone${options.linkDown ? ', switch port link down' : ''})` });
      // The switch forgets the MACs learned on a port whose link went (seen on the real testbed when a node's
      // port goes), so frames to them flood to the nodes left.
      if (options.linkDown) this.segment.forgetPort(node);
    });
    for (const p of this.state.pods) if (p.node === node) this.setPodReady(p.name, false, at + this.options.notReadyAfterMs);
  }

  /** Brings `node` back at `at`; its pods turn ready again at once. */
  nodeUp(node: string, at: number): void {
    checkTime(at, 'nodeUp at');
    this.requireNode(node);
    this.state.metallb.nodeUp(node, at);
    this.schedule(at, () => {
      this.dp.down.delete(node);
      this.events.push({ time: at, kind: 'node-up', text: `${node} back` });
    });
    for (const p of this.state.pods) if (p.node === node) this.setPodReady(p.name, true, at);
  }

  /**
   * Forgets every connection, as `ovs-appctl dpctl/flush-conntrack` on every node and restarted pods do: each
   * chassis' conntrack is emptied and each pod starts with no TCP state. What was learned (the wire's and
   * br-provider's MACs, OVN's FDB and hairpin flows) and MetalLB stay. Lets a differential run start the next
   * conversation from a clean slate without building the cluster again (the real testbed does the same).
   */
  resetConnections(): void {
    for (const { conntrack } of this.ls.conntracks()) conntrack.flush();
    for (const p of this.state.pods) {
      const host = new PodHost(p, 80, this.options.podConnLimit);
      this.pods.set(p.lsp, host);
      this.podByName.set(p.name, host);
      this.dp.setPod(p.lsp, host);
    }
    this.generation++;
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
      podReadinessChanged(pod);
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
    return this.runTime(now, true);
  }

  /** {@link advance}'s work; `keep`: the result is the caller's (else valid until the next frame). */
  private runTime(now: number, keep: boolean): InjectResult {
    this.dp.now = now;
    // Nothing due before `now`: MetalLB would only move its clock, and the owners are as they were.
    if (now < this.nextDue) return NOTHING;
    this.rec.begin(keep);
    for (;;) {
      const next = this.scheduler.next;
      const frames = this.state.metallb.advance(next <= now ? next : now);
      this.sendSpontaneous(frames);
      if (next > now) break;
      this.scheduler.runNext();
      this.generation++;
    }
    this.nextDue = Math.min(this.scheduler.next, this.state.metallb.nextDue());
    return this.rec.finish();
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
    return this.injectAfter(frame, 0, frame.length, now, ingress, this.advance(now));
  }

  /**
   * {@link inject}, but the result (not its background, which is the caller's) is the simulation's own: valid
   * until the next frame. For a caller that reads it at once (replay's summary lines): no result made per frame.
   */
  injectTransient(frame: Uint8Array, now: number, ingress: Ingress = 'outside'): InjectResult {
    return this.injectTransientAt(frame, 0, frame.length, now, ingress);
  }

  /**
   * {@link injectTransient} of the frame at `buffer[offset, offset + length)` (a capture's chunk: no view made
   * of it). The caller has run time forward to `now` ({@link advance}) when it wants the background apart.
   */
  injectTransientAt(buffer: Uint8Array, offset: number, length: number, now: number, ingress: Ingress = 'outside'): InjectResult {
    checkTime(now, 'inject now');
    checkFrameRange(buffer, offset, length);
    const background = this.advance(now);
    this.rec.reuseNext = true;
    try {
      return this.injectAfter(buffer, offset, length, now, ingress, background);
    } finally {
      this.rec.reuseNext = false;
    }
  }

  private injectAfter(frame: Uint8Array, offset: number, length: number, now: number, ingress: Ingress, background: InjectResult): InjectResult {
    if (ingress === 'outside' && this.caches) {
      // From the outside, established flows come from the caches here too — with the very steps the full path
      // recorded for them.
      const r = this.caches.serve(frame, offset, length, now, true);
      r.background = background.outside;
      return r;
    }
    this.rec.begin(true);
    this.dp.now = now;
    // Frames the cluster sent on its own before this one are reported too, apart from this frame's.
    this.rec.r.background = background.outside;
    const copy = copyRange(frame, offset, length);
    const where = this.resolveIngress(ingress);
    if (where === undefined || where.kind === 'nic') {
      // Captures taken on the sending host hold offload-partial checksums that its NIC completes on the way out;
      // on the wire (where this frame enters) they are complete.
      this.dp.decoder.decode(copy, this.dp.d);
      if (completeOffloadChecksum(copy, this.dp.d)) this.offloadChecksumsCompleted++;
    }
    if (ingress === 'outside') this.dp.wire('outside', copy, 0);
    else this.injectAt(where!, ingress, copy);
    return this.rec.finish();
  }

  /**
   * The caches' counts: the way-in flow cache's hits, misses (full path), stale entries refused and entries; the
   * ARP cache's hits and entries (neighbor solicitations for an IPv6 VIP among them); the way-back cache's (out of
   * the localnet port to the wire); new clients' first ARP requests served without their sender in the key
   * (`newArpHits`, `newArpEntries`); of the way-in hits, those of frames br-provider hands to the node's own stack,
   * which drops them (host entries: an ICMP error or echo request to the VIP), and those entries.
   */
  cacheStats(): { hits: number; misses: number; stale: number; entries: number; arpHits: number; arpEntries: number; newArpHits: number; newArpEntries: number; backHits: number; backMisses: number; backEntries: number; hostHits: number; hostEntries: number } {
    return this.caches?.stats() ?? { hits: 0, misses: 0, stale: 0, entries: 0, arpHits: 0, arpEntries: 0, newArpHits: 0, newArpEntries: 0, backHits: 0, backMisses: 0, backEntries: 0, hostHits: 0, hostEntries: 0 };
  }

  /** True when simulated time has something due (a scheduled change, an announcement): entries made now would not hold. */
  dueNow(): boolean {
    return this.dp.now >= this.nextDue;
  }

  /**
   * The hot path: `frame[0, length)` enters from the outside at simulated time `now` (ms). Counters, conntrack,
   * pods and MetalLB change exactly as with {@link inject}, but no steps are recorded and nothing is returned
   * but the verdict; frames reaching the outside go to {@link onOutside}. Pure ACKs of established flows replay
   * the path up to the OVN switch from the flow cache (caches.ts), then run the switch and the pod for real;
   * the rest take the full path.
   * `frame` is not modified.
   */
  process(frame: Uint8Array, length: number, now: number): TraceLine['verdict'] {
    return this.processAt(frame, 0, length, now);
  }

  /**
   * {@link process} of the frame at `buffer[offset, offset + length)`: a reader that holds records in a larger
   * buffer (a capture's chunk) hands them without making a view of each. `buffer` is not modified.
   */
  processAt(buffer: Uint8Array, offset: number, length: number, now: number): TraceLine['verdict'] {
    // One comparison pair: NaN and Infinity fail it (the hot path keeps the check inline).
    if (!(now >= 0 && now <= Number.MAX_SAFE_INTEGER)) checkTime(now, 'process now');
    checkFrameRange(buffer, offset, length);
    if (now >= this.nextDue) this.sendBackground(now);
    if (this.caches !== undefined) {
      const r = this.caches.serve(buffer, offset, length, now, false, this.deliverFn === undefined);
      if (this.outsideFn !== undefined) for (let i = 0; i < r.outside.length; i++) this.outsideFn(r.outside[i]!);
      if (this.deliverFn !== undefined) for (let i = 0; i < r.delivered.length; i++) this.deliverFn(this.pod(r.delivered[i]!.pod)!, r.delivered[i]!.frame, r.delivered[i]!.frame.length);
      return r.verdict;
    }
    const frame = buffer;
    const saved = this.rec.tracing;
    this.rec.tracing = false;
    this.rec.begin(false);
    this.rec.lean = true;
    this.dp.now = now;
    if (length > 65536) length = 65536;
    const copy = copyRange(frame, offset, length);
    this.dp.decoder.decode(copy, this.dp.d);
    if (completeOffloadChecksum(copy, this.dp.d)) this.offloadChecksumsCompleted++;
    this.dp.wire('outside', copy, 0);
    const r = this.rec.finish();
    this.rec.tracing = saved;
    if (this.outsideFn !== undefined) for (let i = 0; i < r.outside.length; i++) this.outsideFn(r.outside[i]!);
    if (this.deliverFn !== undefined) for (let i = 0; i < r.delivered.length; i++) this.deliverFn(this.pod(r.delivered[i]!.pod)!, r.delivered[i]!.frame, r.delivered[i]!.frame.length);
    return r.verdict;
  }

  private sendBackground(now: number): void {
    const saved = this.rec.tracing;
    this.rec.tracing = false;
    const r = this.runTime(now, false);
    this.rec.tracing = saved;
    if (this.outsideFn !== undefined) for (let i = 0; i < r.outside.length; i++) this.outsideFn(r.outside[i]!);
  }

  /** Frames along each edge of the path diagram, over the whole run. */
  edges(): Array<{ from: string; to: string; frames: number }> {
    return this.rec.edges();
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

  private injectAt(where: { node: string; kind: 'nic' | 'vlan' | 'local' | 'pod'; pod?: PodHost }, ingress: string, frame: Uint8Array): void {
    const n = this.dp.nodes.get(where.node)!;
    // What no NIC would hand over is dropped where it enters (the wire does the same for the outside).
    if (frame.length < 14) return this.rec.drop(ingress, 'wire.runt');
    if (where.kind === 'nic') return n.nic(frame, this.dp.outsideAt, 0);
    if (where.kind === 'vlan') return n.toBridge(frame, frame.length, n.upPort, n.ids.vif, 0);
    if (where.kind === 'local') return n.toBridge(frame, frame.length, Port.LOCAL, n.ids.br, 0);
    return n.ovn(frame, where.pod!.pod.lsp, `${where.node}/${where.pod!.pod.name}`, 0);
  }

  private requireNode(node: string): void {
    if (!this.cluster.nodes.some((n) => n.name === node)) throw new VippathError('NO_SUCH_NODE', `no node named ${node}; nodes: ${this.cluster.nodes.map((n) => n.name).join(', ')}`);
  }

  private schedule(time: number, run: () => void): void {
    this.nextDue = Math.min(this.nextDue, time);
    this.scheduler.schedule(time, run);
  }

  private refreshLoadBalancers(): void {
    this.generation++;
    this.state.loadBalancers = ovnLoadBalancers(this.objects, this.state.pods, this.cluster, this.state.metallb);
    const collected = this.ls.southboundReplaced === undefined;
    this.ls.setNorthbound(northboundFor(this.objects, this.state.pods, this.cluster, this.state.loadBalancers).nb);
    if (collected && this.ls.southboundReplaced !== undefined) this.events.push({ time: this.dp.now, kind: 'endpoint', text: `OVN: ${this.ls.southboundReplaced}` });
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
      const n = this.dp.nodes.get(g.node)!;
      this.rec.step('metallb', n.names.metallb, 'gratuitous announcement', undefined);
      this.dp.port(n.names.br, g.frame);
      n.toBridge(new Uint8Array(g.frame), g.frame.length, Port.LOCAL, n.ids.metallb, 0);
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

/**
 * A copy of `buffer[offset, offset + length)` the path may edit. Not `buffer.slice()`: on a Node Buffer (a
 * capture read from a file is one) that is a view, and the path's edits (DNAT, checksums) would land in the
 * caller's bytes.
 */
function copyRange(buffer: Uint8Array, offset: number, length: number): Uint8Array {
  return Uint8Array.prototype.slice.call(buffer, offset, offset + length);
}

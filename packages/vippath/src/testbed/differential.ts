/**
 * The frame-by-frame driver: every input frame goes, in lockstep, into vippath's {@link SimulatedCluster} and
 * into the real {@link Testbed}; the real side is left until it is quiet (no port sent anything for the settle
 * time, the pods' and MetalLB's answers fed back); then what every port sent because of that frame is compared,
 * port by port, byte for byte. MetalLB's own announcements due by the frame's time go first on both sides.
 *
 * Exclusions are named and counted, never silent: {@link EXCLUSIONS} says why each exists.
 */
import { SimulatedCluster, describeFrame, type InjectResult, type TraceStep } from '@vippath/cluster';
import { completeOffloadChecksum, DecodedFrame, FrameDecoder, L3, parseIPv4, parseMac } from '@vippath/wire';
import type { TapFrame, Testbed } from './testbed.js';

/** SimulationOptions.notReadyAfterMs's default: how long after a node is lost its endpoints turn not ready. */
const NOT_READY_AFTER_MS = 40_000;

/** One frame to feed. */
export interface DriveFrame {
  /** `outside` (the client on the wire, tagged) or `<node>/<pod>` (sent by that pod). */
  at: string;
  frame: Uint8Array;
  /** Simulated time, ms (MetalLB's announcements and the pods' clocks follow it). */
  time: number;
  /** What the input is, for reports (e.g. its capture record number). */
  label?: string;
}

/** Frames one port sent for one input, both sides. */
export interface PortFrames {
  port: string;
  real: Uint8Array[];
  simulated: Uint8Array[];
}

/** The first place where one port's frames differ for one input. */
export interface Difference {
  /** 1-based input number. */
  input: number;
  label: string;
  port: string;
  /** 0-based position among the frames this port sent for this input. */
  position: number;
  /** The real cluster's frame there (hex), or null: it sent nothing more. */
  real: string | null;
  simulated: string | null;
  realText: string | null;
  simulatedText: string | null;
  /** vippath's stage trace of the input frame. */
  stages: TraceStep[];
  /** What this kind of difference has turned out to be, when it matches one already understood (see {@link hintFor}). */
  hint?: string;
}

/** What one input did on both sides. */
export interface StepResult {
  input: number;
  label: string;
  ports: PortFrames[];
  differences: Difference[];
  stages: TraceStep[];
}

/** The documented exclusions: frames left out of the comparison, and why. */
export const EXCLUSIONS = {
  'ovn-controller-garp': 'ovn-controller announces every bound VIF address with gratuitous ARP out of the localnet port at 0, 2, 6, 14 and 30 s after binding on the wall clock; vippath models them on simulated time (SimulationOptions.vifBoundAt; bytes, count and offsets checked against the real ones in test/testbed.test.ts), so they cannot fall on the same input and are left out of the per-input comparison, counted',
  'cluster-frame-in-capture': 'the capture shows the cluster sending it: not injected (both sides make their own)',
  'not-ethernet': 'not an Ethernet frame',
} as const;
export type ExclusionReason = keyof typeof EXCLUSIONS;

/** Totals, `vippath verify --json`'s shape. */
export interface DifferentialTotals {
  /** Frame positions compared (per input and port, the longer side's count). */
  compared: number;
  real: number;
  simulated: number;
  differences: Difference[];
  excluded: Partial<Record<ExclusionReason, number>>;
  /**
   * Ports (per input) whose frames came from more than one machine through the physical switch and arrived in
   * another order on the two sides, each machine's own frames in the same order: compared in the order of
   * their sources instead (see {@link Differential.feed}); counted, not excluded.
   */
  interleaved: number;
}

function hex(f: Uint8Array): string {
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('hex');
}

/**
 * What the simulation is watched through. `taps` (the default): every port of every node, as the testbed
 * records them — which turns the cluster's caches off (they replay the wire, not the ports inside). `wire`: only
 * what a capture of the wire and the replay's callbacks show, so every cache stays on, as in `vippath replay`:
 * what each machine put on the wire (`onWire`: the client's frame as the port `outside:out`, each node NIC's as
 * `<node>/<nic>:out`), what reached the client (`onOutside`, port `outside`) and what each pod took (`onDeliver`,
 * its port: the real side's frames its model accepted). Frames from the outside go through
 * {@link SimulatedCluster.process}, the replay's hot path; the simulation should be made with `trace: false`
 * (traced, br-provider's, the switch's and the way-back megaflows stand aside).
 */
export type Observe = 'taps' | 'wire';

/** `wire` observation's port for the client's frames on the wire (the simulation's `onWire` from `outside`); the testbed has no tap there. */
const CLIENT_ON_WIRE = 'outside:out';

/** Lockstep driver over a simulation and a real testbed built from the same objects and cluster. */
export class Differential {
  readonly totals: DifferentialTotals = { compared: 0, real: 0, simulated: 0, differences: [], excluded: {}, interleaved: 0 };
  private inputs = 0;
  private readonly decoder = new FrameDecoder();
  private readonly d = new DecodedFrame();
  private readonly garpOf = new Map<number, bigint>();
  private simTaps: Array<{ tap: string; frame: Uint8Array }> = [];

  /**
   * Everything the real side's ports sent for the last input, compared or not: with `wire` observation a port the
   * simulation reports nothing of (a node's LOCAL port) is left out of the comparison, but a driver playing the
   * host behind it still reads its answers here (the oracle's).
   */
  lastTaken: readonly TapFrame[] = [];

  /** How much longer to wait for frames the simulation sent and the real cluster has not (ms). */
  lateMs = 300;

  private readonly podPorts: Set<string>;

  constructor(readonly sim: SimulatedCluster, readonly bed: Testbed, readonly observe: Observe = 'taps') {
    this.podPorts = new Set(sim.state.pods.map((p) => `${p.node}/${p.name}`));
    for (const p of sim.state.pods) garpKey(this.garpOf, p.ip, p.mac);
    if (observe === 'taps') {
      sim.onTap = (tap, frame) => this.simTaps.push({ tap, frame: frame.slice() });
      return;
    }
    const outOf = new Map(sim.cluster.nodes.map((n) => [n.name, `${n.name}/${n.nic}:out`]));
    sim.onWire = (from, frame) => this.simTaps.push({ tap: outOf.get(from) ?? `${from}:out`, frame: frame.slice() });
    sim.onOutside = (frame) => this.simTaps.push({ tap: 'outside', frame: frame.slice() });
    sim.onDeliver = (pod, frame, length) => this.simTaps.push({ tap: `${pod.pod.node}/${pod.pod.name}`, frame: frame.slice(0, length) });
  }

  /** Frames of a result that `wire` observation takes from it (inject's and advance's are not reported to the callbacks). */
  private fromResult(r: InjectResult): void {
    for (const f of r.outside) this.simTaps.push({ tap: 'outside', frame: f.slice() });
    for (const x of r.delivered) this.simTaps.push({ tap: `${x.node}/${x.pod}`, frame: x.frame.slice() });
  }

  /** The real side's frames that `wire` observation has a counterpart of: see {@link Observe}. */
  private comparable(x: TapFrame): boolean {
    if (this.observe === 'taps') return true;
    if (x.tap === 'outside' || x.tap.endsWith(':out')) return true;
    return this.podPorts.has(x.tap) && x.accepted === true;
  }

  /**
   * Takes `node` down at `at` (ms) on both sides: the testbed deletes its switch port, so the simulation's node
   * goes down with its link (see {@link Testbed.nodeDown} and SimulatedCluster.nodeDown).
   */
  nodeDown(node: string, at: number): void {
    this.sim.nodeDown(node, at, { linkDown: true });
    this.bed.nodeDown(node, at);
    // The simulation turns the node's endpoints not ready after its notReadyAfterMs (default 40 s; verifyFrames
    // and the suites use the default): the testbed's controller does the same.
    for (const p of this.bed.state.pods) if (p.node === node) this.bed.setPodReady(p.name, false, at + NOT_READY_AFTER_MS);
  }

  /** Brings `node` back at `at` (ms) on both sides (its pods ready again at once). */
  nodeUp(node: string, at: number): void {
    this.sim.nodeUp(node, at);
    this.bed.nodeUp(node, at);
  }

  /** Changes a pod's readiness at `at` (ms) on both sides: endpoints, MetalLB, the OVN load balancers. */
  setPodReady(pod: string, ready: boolean, at: number): void {
    this.sim.setPodReady(pod, ready, at);
    this.bed.setPodReady(pod, ready, at);
  }

  /** Forgets every connection on both sides (conntrack flushed, pods fresh): the next input starts clean. */
  resetConnections(): void {
    this.sim.resetConnections();
    this.bed.resetConnections();
  }

  /** Counts an input left out (and why). */
  exclude(reason: ExclusionReason, n = 1): void {
    this.totals.excluded[reason] = (this.totals.excluded[reason] ?? 0) + n;
  }

  /** ovn-controller's gratuitous ARP for a bound VIF: broadcast request, SPA = TPA = the VIF's IP, SHA = its MAC. */
  private isOvnGarp(f: Uint8Array): boolean {
    const d = this.d;
    if (f.length < 14 || f[0] !== 0xff || this.decoder.decode(f, d) !== 0 || d.l3 !== L3.ARP || d.arpOp !== 1 || d.arpSpa !== d.arpTpa) return false;
    const mac = this.garpOf.get(d.arpSpa >>> 0);
    if (mac === undefined) return false;
    let sha = 0n;
    for (let i = 0; i < 6; i++) sha = (sha << 8n) | BigInt(f[d.l3Offset + 8 + i]!);
    return sha === mac;
  }

  private keep(frames: Array<{ tap: string; frame: Uint8Array }>, count: boolean): Array<{ tap: string; frame: Uint8Array }> {
    return frames.filter((x) => {
      if (!this.isOvnGarp(x.frame)) return true;
      if (count) this.exclude('ovn-controller-garp');
      return false;
    });
  }

  /**
   * Which machine put each frame on the wire, by its bytes: 0 the client (the input frame), 1 + i node i's
   * NIC (what its `:out` tap sent) — one entry per occurrence, in order.
   */
  private sources(frames: Array<{ tap: string; frame: Uint8Array }>, input: Uint8Array | undefined): Map<string, number[]> {
    const m = new Map<string, number[]>();
    const add = (f: Uint8Array, k: number): void => {
      const h = hex(f);
      const l = m.get(h);
      if (l) l.push(k);
      else m.set(h, [k]);
    };
    if (input) add(input, 0);
    const outs = new Map(this.sim.cluster.nodes.map((n, i) => [`${n.name}/${n.nic}:out`, i + 1]));
    for (const x of frames) {
      const k = outs.get(x.tap);
      if (k !== undefined) add(x.frame, k);
    }
    return m;
  }

  /** Feeds one frame to both sides and compares what every port sent. */
  async feed(input: DriveFrame): Promise<StepResult> {
    const index = ++this.inputs;
    const label = input.label ?? `#${index}`;
    this.simTaps = [];
    // MetalLB's announcements due by now, on both sides, settled before the frame itself.
    const background = this.sim.advance(input.time);
    if (this.observe === 'wire') this.fromResult(background);
    await this.bed.advance(input.time);
    let frame = input.frame;
    if (input.at === 'outside') {
      // A capture from the sending host holds offload-partial checksums its NIC completes: the real wire
      // carries them complete (the simulation completes them the same way on its side).
      frame = frame.slice();
      this.decoder.decode(frame, this.d);
      completeOffloadChecksum(frame, this.d);
    }
    let stages: TraceStep[] = [];
    if (this.observe === 'taps') stages = this.sim.inject(input.frame, input.time, input.at).stages;
    else if (input.at === 'outside') this.sim.process(input.frame, input.frame.length, input.time);
    else this.fromResult(this.sim.inject(input.frame, input.time, input.at));
    this.bed.send(input.at, frame);
    await this.bed.settle();
    const simulated = this.keep(this.simTaps, false);
    // Where the simulation sent more than the real cluster has so far, give the real one a little longer: a slow
    // frame must not be blamed on the next input. (Real drops cost this wait; agreement costs nothing.)
    const wanted = new Map<string, number>();
    // Not the client's own frame on the wire ({@link CLIENT_ON_WIRE}): the real side has no such port, that frame is
    // the input itself, put in below. Counted, it was never seen, so every input from the outside waited out lateMs
    // (300 ms) in testbed-caches.test.ts.
    for (const x of simulated) if (x.tap !== CLIENT_ON_WIRE) wanted.set(x.tap, (wanted.get(x.tap) ?? 0) + 1);
    await this.bed.settleUntil((seen) => {
      const got = new Map<string, number>();
      for (const x of seen) if (wanted.has(x.tap) && this.comparable(x) && !this.isOvnGarp(x.frame)) got.set(x.tap, (got.get(x.tap) ?? 0) + 1);
      for (const [tap, n] of wanted) if ((got.get(tap) ?? 0) < n) return false;
      return true;
    }, this.lateMs);
    const taken = this.bed.take();
    this.lastTaken = taken;
    const real = this.keep(this.observe === 'taps' ? taken : taken.filter((x) => this.comparable(x)), true);
    // The client's own frame on the wire: what the real client sent (the testbed has no tap there, it is the input).
    if (this.observe === 'wire' && input.at === 'outside') real.unshift({ tap: CLIENT_ON_WIRE, frame });
    this.simTaps = [];
    const ports: PortFrames[] = [];
    const byPort = new Map<string, PortFrames>();
    const at = (port: string): PortFrames => {
      let p = byPort.get(port);
      if (!p) {
        byPort.set(port, (p = { port, real: [], simulated: [] }));
        ports.push(p);
      }
      return p;
    };
    for (const x of real) at(x.tap).real.push(x.frame);
    for (const x of simulated) at(x.tap).simulated.push(x.frame);
    const inputFrame = input.at === 'outside' ? frame : undefined;
    const realSources = this.sources(real, inputFrame);
    const simSources = this.sources(simulated, inputFrame);
    const differences: Difference[] = [];
    for (const p of ports) {
      if (isWireOutput(p.port) && !sameFrames(p.real, p.simulated)) {
        // What the physical switch sends out of one port comes from several machines (the client, each node
        // NIC) that run at the same time: after a failover a client's frame to the dead node's MAC floods to
        // every node left, each of them answers from its own backend, and which answer reaches the client first
        // is a race between two real ovs-vswitchd processes (seen both ways on the same seed). Each machine's
        // own frames keep their order; the interleaving is no property of either side, so both are compared
        // grouped by the machine that sent them.
        const r = bySource(p.real, realSources);
        const m = bySource(p.simulated, simSources);
        if (sameFrames(r, m)) {
          this.totals.interleaved++;
          p.real = r;
          p.simulated = m;
        }
      }
      const n = Math.max(p.real.length, p.simulated.length);
      this.totals.compared += n;
      this.totals.real += p.real.length;
      this.totals.simulated += p.simulated.length;
      for (let i = 0; i < n; i++) {
        const a = p.real[i];
        const b = p.simulated[i];
        if (a && b && hex(a) === hex(b)) continue;
        const hint = hintFor(input.frame, a, b, p.port, this.podPorts);
        differences.push({
          input: index, label, port: p.port, position: i,
          real: a ? hex(a) : null, simulated: b ? hex(b) : null,
          realText: a ? describeFrame(a) : null, simulatedText: b ? describeFrame(b) : null,
          stages,
          ...(hint ? { hint } : {}),
        });
        // The first difference per port: what follows it is usually its consequence.
        break;
      }
    }
    this.totals.differences.push(...differences);
    return { input: index, label, ports, differences, stages };
  }
}

/** Ports the physical switch sends out of (the client's, and each node NIC's receiving side). */
function isWireOutput(port: string): boolean {
  return port === 'outside' || port.endsWith(':in');
}

function sameFrames(a: Uint8Array[], b: Uint8Array[]): boolean {
  return a.length === b.length && a.every((f, i) => hex(f) === hex(b[i]!));
}

/** Stable grouping of a wire port's frames by the machine that put them on the wire (see Differential.sources). */
function bySource(frames: Uint8Array[], sources: Map<string, number[]>): Uint8Array[] {
  const left = new Map([...sources].map(([k, v]) => [k, [...v]]));
  const keyed = frames.map((f, i) => {
    const q = left.get(hex(f));
    return { f, i, key: q?.length ? q.shift()! : Number.MAX_SAFE_INTEGER };
  });
  keyed.sort((a, b) => a.key - b.key || a.i - b.i);
  return keyed.map((x) => x.f);
}

/** The same TCP SYN but for the source port (and so the checksum). */
function sameSynButSourcePort(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length || hd.decode(a, hdd) !== 0 || hdd.l3 !== L3.IPV4 || hdd.ipProto !== 6 || (hdd.tcpFlags & 0x12) !== 0x02) return false;
  const l4 = hdd.l4Offset;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(i >= l4 && i < l4 + 2) && !(i >= l4 + 16 && i < l4 + 18)) return false;
  return a[l4] !== b[l4] || a[l4 + 1] !== b[l4 + 1];
}

function garpKey(m: Map<number, bigint>, ip: string, mac: string): void {
  if (ip.includes(':')) return;
  let v = 0n;
  for (const b of parseMac(mac)) v = (v << 8n) | BigInt(b);
  m.set(parseIPv4(ip) >>> 0, v);
}

const hd = new FrameDecoder();
const hdd = new DecodedFrame();

/**
 * Differences already understood (found with this testbed; issue 16), said in one line so a user of `vippath
 * verify` knows what they are looking at. A hint is a reading, not an excuse: the difference still counts.
 * (The TCP-window and hairpin eth.src readings that stood here were fixed in vippath and in the testbed's NB.)
 */
export function hintFor(input: Uint8Array, real: Uint8Array | undefined, simulated: Uint8Array | undefined, port: string, podPorts: ReadonlySet<string>): string | undefined {
  const tcp = (f: Uint8Array): number | undefined => (hd.decode(f, hdd) === 0 && (hdd.l3 === L3.IPV4 || hdd.l3 === L3.IPV6) && hdd.ipProto === 6 ? hdd.tcpFlags : undefined);
  if (podPorts.has(port) && real && simulated && sameSynButSourcePort(real, simulated)) {
    return 'a SYN reopening a connection whose previous one is in TIME_WAIT: ovs-vswitchd 3.1.0 keeps the old connection\'s un-NAT entry until its clean thread sweeps it and moves the new DNAT\'s source port; vippath follows branch-3.1 as fixed in v3.1.3 ("conntrack: Remove nat_conn introducing key directionality")';
  }
  if (podPorts.has(port) && ((real && !simulated && tcp(real) !== undefined && (tcp(real)! & 0x12) === 0x02) || (simulated && !real && tcp(simulated) !== undefined && (tcp(simulated)! & 0x12) === 0x02))) {
    return 'a new connection reached another backend: vippath picks the bucket OVS 3.1\'s select group picks (dp_hash of the 5-tuple the packet entered the datapath with, baseline x86-64 hashing); an OVS built with SSE4.2 hashing, another OVS version, or a packet NATed earlier in the same datapath pass picks differently';
  }
  return undefined;
}

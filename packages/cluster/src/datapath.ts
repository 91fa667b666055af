/**
 * The datapath: the physical segment's hop and, per node, the straight path a frame walks — NIC (untag 341) →
 * br-provider → LOCAL (MetalLB's responder, the host stack) or patch → the OVN logical switch (LB DNAT) → pod,
 * and back out the same way. Each hop hands the frame to the next directly; the trace recorder is told what
 * happened, and nothing returns to a hub between hops.
 */
import { BridgeOutcome, Port, type Bridge, type TraceStep as BridgeStep } from '@vippath/openflow';
import type { LogicalSwitch, StageStep, SwitchDrop } from '@vippath/ovn';
import { SwitchOutcome, switchDropReason } from '@vippath/ovn';
import type { MetalLB } from '@vippath/metallb';
import { DecodedFrame, FrameDecoder, formatIPv4, formatIPv6, isVlanTpid as isVlanTpidImport, MAX_VLAN_TAGS as MAX_VLAN_TAGSImport, popVlan as popVlanImport, pushVlan as pushVlanImport, readIPv4 as readIPv4Import, walkIpv6, type Ipv6Walk } from '@vippath/wire';
import { bridgeTrace } from './bridge-trace.js';
import { DROP_TEXT, METALLB_DROP_CODE, ovnDropCode as ovnDropCodeImport, POD_DROP_CODE } from './drops.js';
import type { PodHost } from './pods.js';
import { ST_BRIDGE as ST_BRIDGEImport, ST_HOST as ST_HOSTImport, ST_LB as ST_LBImport, ST_METALLB as ST_METALLBImport, ST_OVN as ST_OVNImport, ST_POD as ST_PODImport, ST_VLAN as ST_VLANImport, ST_WIRE as ST_WIREImport, type StepCount, type TraceRecorder } from './recorder.js';
import type { WireSegment } from './segment.js';

// Imports used per frame bound to module constants, which TurboFan folds (an enum object's fields and a number
// become immediates, a function is called or inlined without a check), where every use of an import loads its
// binding's cell and checks it (bench/README "Imports bound in the cluster's hops (session 34)"; executor.ts and
// ct/engine.ts do the same).
const isVlanTpid = isVlanTpidImport;
const MAX_VLAN_TAGS = MAX_VLAN_TAGSImport;
const popVlan = popVlanImport;
const pushVlan = pushVlanImport;
const readIPv4 = readIPv4Import;
const ovnDropCode = ovnDropCodeImport;
const ST_BRIDGE = ST_BRIDGEImport;
const ST_HOST = ST_HOSTImport;
const ST_LB = ST_LBImport;
const ST_METALLB = ST_METALLBImport;
const ST_OVN = ST_OVNImport;
const ST_POD = ST_PODImport;
const ST_VLAN = ST_VLANImport;
const ST_WIRE = ST_WIREImport;

/**
 * Hops a frame may take before it is taken for a loop and dropped. The hops compare with a constant of the module's
 * own: an exported binding is read from its cell and checked for the hole at every use (5 instructions an OVN hop in
 * the caches' hit, which inlines ovnAt).
 */
const HOP_LIMIT = 256;
export const MAX_DEPTH = HOP_LIMIT;
const SYN = 0x02;
const ACK = 0x10;

export function macNumber(buf: Uint8Array, offset: number): number {
  return (buf[offset]! * 0x10000 + buf[offset + 1]! * 0x100 + buf[offset + 2]!) * 0x1000000 + buf[offset + 3]! * 0x10000 + buf[offset + 4]! * 0x100 + buf[offset + 5]!;
}

/** Where the network header starts behind any 802.1Q/802.1ad tags if the EtherType is `type`, else -0x10000. */
const l3At = (frame: Uint8Array, n: number, type: number): number => {
  if (n < 14) return -0x10000;
  let at = 12;
  let t = (frame[12]! << 8) | frame[13]!;
  let tags = 0;
  while (isVlanTpid(t)) {
    if (tags === MAX_VLAN_TAGS || at + 6 > n) return -0x10000;
    tags++;
    at += 4;
    t = (frame[at]! << 8) | frame[at + 1]!;
  }
  return t === type ? at + 2 : -0x10000;
};

/**
 * Where an IPv4 header starts in an Ethernet frame, behind any 802.1Q/802.1ad tags, as FrameDecoder finds it:
 * positive when the header is valid (version, IHL, total length within the frame — the decoder then reads the
 * addresses), negative (−offset) when the EtherType is IPv4 but the header is not, -0x10000 when not IPv4.
 */
const ipv4At = (frame: Uint8Array, n: number): number => {
  const l3 = l3At(frame, n, 0x0800);
  if (l3 < 0) return l3;
  if (l3 + 20 > n || frame[l3]! >> 4 !== 4) return -l3;
  const ihl = (frame[l3]! & 15) << 2;
  const total = (frame[l3 + 2]! << 8) | frame[l3 + 3]!;
  if (ihl < 20 || l3 + ihl > n || total < ihl || l3 + total > n) return -l3;
  return l3;
};

/**
 * {@link ipv4At} for IPv6: where a valid IPv6 header starts (version 6, the fixed header and the payload its length
 * gives within the frame), negative (−offset) when the EtherType is IPv6 but the header is not, -0x10000 when not
 * IPv6. Asked only of frames {@link ipv4At} found not IPv4, so IPv4 pays nothing for it.
 */
const ipv6At = (frame: Uint8Array, n: number): number => {
  const l3 = l3At(frame, n, 0x86dd);
  if (l3 < 0) return l3;
  if (l3 + 40 > n || frame[l3]! >> 4 !== 6 || l3 + 40 + ((frame[l3 + 4]! << 8) | frame[l3 + 5]!) > n) return -l3;
  return l3;
};

/** The extension-header walk of {@link class6}: one object, written per call (nothing allocated per frame). */
const walk6: Ipv6Walk = { protocol: 0, upperOffset: 0, extensionCount: 0, fragmented: false, fragmentOffset: 0 };

/**
 * What the LB step needs of the valid IPv6 header at `l3`: 0 for an ICMPv6 neighbor-discovery message (types
 * 133–137: the switch's ND responder answers one with addresses of its own, which is no LB translation), 2 for a
 * TCP SYN without ACK (not a later fragment), 1 otherwise. TCP or ICMPv6 right behind the fixed header (the
 * commonest) is read there; only extension headers are walked.
 */
const class6 = (frame: Uint8Array, l3: number): number => {
  const end = l3 + 40 + ((frame[l3 + 4]! << 8) | frame[l3 + 5]!);
  let proto = frame[l3 + 6]!;
  let upper = l3 + 40;
  if (proto !== 6 && proto !== 58) {
    if (walkIpv6(frame, l3, end, walk6) !== 0 || walk6.fragmentOffset !== 0) return 1;
    proto = walk6.protocol;
    upper = walk6.upperOffset;
  }
  if (proto === 58) {
    if (upper >= end) return 1;
    const type = frame[upper]!;
    return type >= 133 && type <= 137 ? 0 : 1;
  }
  if (proto !== 6 || upper + 20 > end) return 1;
  const hl = (frame[upper + 12]! >> 4) << 2;
  if (hl < 20 || upper + hl > end) return 1;
  return (frame[upper + 13]! & (SYN | ACK)) === SYN ? 2 : 1;
};

/**
 * The big-endian 32-bit word at `at`, signed: a small integer, never a heap number when returned or passed
 * (readIPv4's unsigned value is one above 2^31, as every fd00::/8 address's first word).
 */
const word = (x: Uint8Array, at: number): number => {
  return (x[at]! << 24) | (x[at + 1]! << 16) | (x[at + 2]! << 8) | x[at + 3]!;
};

/** Whether the IPv6 address at `a` in `x` differs from the one read as the {@link word}s `w0`–`w3`. */
const differ16 = (x: Uint8Array, a: number, w0: number, w1: number, w2: number, w3: number): boolean => {
  return word(x, a) !== w0 || word(x, a + 4) !== w1 || word(x, a + 8) !== w2 || word(x, a + 12) !== w3;
};

/** A TCP SYN without ACK, behind the valid IPv4 header at `l3` (the decoder's conditions for reading the flags). */
// A drop's words, made by these helpers only when a drop happens: a closure written inside a hop would make the
// hop capture what it names, and V8 then allocates a context for those variables on every call (or every turn of
// the loop that declares them), drop or not.
const nicVlanDetail = (vid: number, nic: string, vlan: number) => (): string => `${vid < 0 ? 'untagged frame' : `VLAN ${vid}`}: not for ${nic}.${vlan}`;
const unknownPortDetail = (port: number) => (): string => `output to unknown port ${port}`;
const switchDropDetail = (res: SwitchDrop) => (): string => `ovn: ${switchDropReason(res)}`;
const noPatchDetail = (chassis: string) => (): string => `ovn: ${chassis}'s br-provider has no patch port to br-int`;
const unmodelledDetail = (port: string) => (): string => `ovn: output to ${port}, which vippath does not model`;
const podIgnoredDetail = (pod: PodHost) => (): string => `pod: ${pod.ignored}`;

/**
 * The counter of the pod step into `pp`'s pod place from place `from` (made when first taken: its edge then, as
 * stepAt makes it), kept on the port by place (PodPort.steps) and as the last one (PodPort.stepFrom) for the OVN
 * hop's next step there.
 */
const podStep = (rec: TraceRecorder, pp: PodPort, from: number): StepCount => {
  let c = pp.steps[from];
  if (c === undefined) c = pp.steps[from] = rec.stepCounter(ST_POD, pp.atId, from);
  pp.stepFrom = from;
  pp.step = c;
  return c;
};

const isSyn = (frame: Uint8Array, l3: number): boolean => {
  if (frame[l3 + 9] !== 6 || (((frame[l3 + 6]! & 0x1f) << 8) | frame[l3 + 7]!) !== 0) return false;
  const ihl = (frame[l3]! & 15) << 2;
  const len = ((frame[l3 + 2]! << 8) | frame[l3 + 3]!) - ihl;
  const tcp = l3 + ihl;
  if (len < 20) return false;
  const hl = (frame[tcp + 12]! >> 4) << 2;
  if (hl < 20 || hl > len) return false;
  return (frame[tcp + 13]! & (SYN | ACK)) === SYN;
};

function macText(n: number): string {
  return n.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/**
 * A reused buffer handing out copies as exact-length views (one view per length, made once): a copy that is dead
 * before the next one is made costs no allocation.
 */
export class ScratchCopy {
  private buf = new Uint8Array(2048);
  private views: Array<Uint8Array | undefined> = [];

  copy(src: Uint8Array): Uint8Array {
    const n = src.length;
    if (n > this.buf.length) {
      this.buf = new Uint8Array(n);
      this.views = [];
    }
    this.buf.set(src);
    return this.views[n] ?? (this.views[n] = this.buf.subarray(0, n));
  }
}

/** Who watches the path for a cache entry: told where a frame first reaches the OVN switch. */
export interface PathWatch {
  atSwitch(node: string, frame: Uint8Array, inport: string, from: string, depth: number): void;
  /** The OVN hop {@link atSwitch} announced is done (hops nest: a pod's answer enters the switch again). */
  afterSwitch(): void;
  /** A frame reached `node`'s br-provider LOCAL port (MetalLB's responder, then the host stack). */
  atLocal(node: string): void;
}

/**
 * A cache of the way back out: `frame[0, length)`, sent by the switch out of the localnet port into `path`'s
 * br-provider (and on through the NIC and the wire), coming from place `from`. `fromPatch` either does that whole
 * hop (a replay, or a watched run) and returns true, or declines and the hop runs as usual.
 */
export interface OutPathCache {
  fromPatch(path: NodePath, frame: Uint8Array, length: number, from: number, depth: number): boolean;
}

/** Observers of the frames crossing places (capture outputs); see {@link SimulatedCluster}'s fields of the same names. */
export interface PathTaps {
  onWire: ((from: string, frame: Uint8Array, now: number) => void) | undefined;
  onPort: ((port: string, frame: Uint8Array, now: number) => void) | undefined;
  onTap: ((tap: string, frame: Uint8Array) => void) | undefined;
}

/**
 * `s` as V8's internalized string of its text (a property name is one, and the string table holds one per text): the
 * very string other internalized copies of the text are. A `===` site that only ever met internalized strings compares
 * pointers; one that met another string calls V8's StringEqual builtin at every compare. A name parsed or concatenated
 * is made internalized in place only when first used as a key (a ThinString until a scavenge replaces the references
 * to it, which depends on the GC's timing), so names compared per frame are internalized where they are made
 * (bench/README "The StringEqual trio is a state of one run (session 35)").
 */
function internalized(s: string): string {
  return Object.keys({ [s]: 0 })[0]!;
}

/** A pod's logical switch port as the OVN hop delivers to it: the pod, where it sits, that place's number. */
export interface PodPort {
  /** The pod's model (replaced when connections are reset). */
  host: PodHost;
  /**
   * The pod's node, as an internalized string (see internalized): the OVN hop compares it with its own node's name per
   * frame, whichever way the pod's state was made (a Deployment's replicas, the user's Pod objects).
   */
  node: string;
  /** `<node>/<pod>`, and its place number. */
  at: string;
  atId: number;
  /**
   * The LB selections counter of the pod last counted through this port, and that pod's model: a SYN to the same
   * model counts there (a model's pod keeps its name) with an object compare — its name, a string parsed from the
   * manifests and not internalized, compared per SYN was a call of V8's StringEqual.
   */
  counted: { n: number } | undefined;
  countedHost: PodHost | undefined;
  /**
   * The counter of the pod step into this pod's place from place `stepFrom` (-1: none yet), the one the OVN hop counted
   * last: a pod's frames come from one switch or LB place mostly, and the hop counts the step itself (see ovnHop).
   * {@link steps} holds them all, by the place they come from.
   */
  stepFrom: number;
  step: StepCount | undefined;
  steps: Array<StepCount | undefined>;
}

/** What every hop shares: the recorder, the segment, the switch, the pods, time, and the observers. */
export class Datapath implements PathTaps {
  readonly nodes = new Map<string, NodePath>();
  /** The pods by logical switch port name. */
  readonly podPorts = new Map<string, PodPort>();
  /**
   * {@link podPorts} keyed by the switch's own strings for the names (its outcomes' port names, one string per port),
   * filled as outputs meet them: a lookup with the very key the map holds compares no characters, where the pods'
   * names as the cluster spelled them are other strings of the same text (a StringEqual per delivery). Entries of
   * podPorts are never replaced (setPod updates one in place).
   */
  private readonly podPortsOut = new Map<string, PodPort>();
  /**
   * The localnet port's name as the switch's outcomes spell it, once one was met ({@link localnet} until then): the
   * same text, the switch's own string. Handed back as the inport of frames from br-provider, it meets the switch's
   * and the executor's comparisons of the inport with their last one, and the OVN hop's with its outputs' ports, as
   * the very string they hold (no characters compared: bench/README "The cluster's hops: four small cuts (session 26)").
   */
  localnetIn: string;

  /** Keeps the switch's string for the localnet port's name (an outcome's, equal to {@link localnet}). */
  noteLocalnet(name: string): void {
    this.localnetIn = name;
  }

  /**
   * The pod port {@link podPortOut} found last, and its name: consecutive deliveries mostly go to one pod (Kube-OVN's
   * prefer_local_backend sends a VIP's connections to the pods on the node that owns it), and the switch's port names
   * being internalized strings, the name compares as a pointer where the map lookup hashes and probes (V8's
   * FindOrderedHashMapEntry, ≈ 55 instructions). Found pods only; entries of podPorts are never replaced.
   */
  private lastOut: PodPort | undefined = undefined;
  private lastOutName = '';

  /** The pod port named `name` (an outcome's port), if any. */
  podPortOut(name: string): PodPort | undefined {
    const last = this.lastOut;
    if (last !== undefined && name === this.lastOutName) return last;
    let pp = this.podPortsOut.get(name);
    if (pp === undefined) {
      pp = this.podPorts.get(name);
      if (pp !== undefined) this.podPortsOut.set(name, pp);
    }
    if (pp !== undefined) {
      this.lastOut = pp;
      this.lastOutName = name;
    }
    return pp;
  }
  /** Nodes whose machine is down (their NIC receives nothing). */
  readonly down = new Set<string>();
  /**
   * New connections per backend pod (LB selections), over the whole run: a cell per pod name, in the order each was
   * first selected (read as a Map by {@link backendCountsNow}). A SYN counts in its pod port's cell, not in a Map keyed
   * by the pod's name (a Map.get and a Map.set per new connection: ≈ 250 instructions a SYN on full-cold, bench/README
   * session 24).
   */
  private readonly backendCells = new Map<string, { n: number }>();

  /** The selections so far by pod name, in first-selection order: a new Map made from the cells at each call. */
  backendCountsNow(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [name, c] of this.backendCells) counts.set(name, c.n);
    return counts;
  }

  /** The selections counter of the pod behind `pp` (made at its pod name's first selection, which fixes its order). */
  backendCell(pp: PodPort): { n: number } {
    const host = pp.host;
    if (pp.counted !== undefined && pp.countedHost === host) return pp.counted;
    const name = host.pod.name;
    let c = this.backendCells.get(name);
    if (c === undefined) this.backendCells.set(name, (c = { n: 0 }));
    pp.counted = c;
    pp.countedHost = host;
    return c;
  }
  /**
   * Simulated time (ms), in a slot of its own. As a tagged field, every frame's store of its time (a heap number
   * made by the driver) into this long-lived object took V8's write barrier's call once the datapath was old (the
   * caches' hit ≈ 51 instructions a frame); a slot's store is a plain one. A read for a call boxes the number again, so
   * the OVN hop — the switch, the pods, the answers' way back in — is handed the caller's time as an argument
   * ({@link NodePath.ovnAt}'s `now`) instead of reading it here.
   */
  readonly clock = new Float64Array(1);
  get now(): number {
    return this.clock[0]!;
  }
  set now(t: number) {
    this.clock[0] = t;
  }
  onWire: PathTaps['onWire'] = undefined;
  onPort: PathTaps['onPort'] = undefined;
  onTap: PathTaps['onTap'] = undefined;
  /** Set while a cache watches a full-path run. */
  watch: PathWatch | undefined;
  /** Set when a cache serves the way back out of the switch's localnet port. */
  outCache: OutPathCache | undefined;
  /** Set while a cache watches a captured run: the frames put on the wire, copied (an entry replays them). */
  wireSeen: Array<{ from: string; frame: Uint8Array }> | undefined;
  readonly decoder = new FrameDecoder();
  readonly d = new DecodedFrame();
  private readonly floodCopy = new ScratchCopy();
  /** Place numbers of the wire, the outside and the outside's end of the wire (see {@link TraceRecorder.place}). */
  readonly wireAt: number;
  readonly outsideAt: number;
  /**
   * The switch's outcomes, one per nesting level of the OVN hop: a pod's answer or a frame sent out the localnet
   * port re-enters the switch while the outer hop still walks its own outputs.
   */
  private readonly outcomes: SwitchOutcome[] = [];
  private ovnLevel = 0;

  /**
   * The outcome the next OVN hop writes into (its level's; {@link leaveOvn} when done with it). Inlined into the OVN hop
   * (a pod's answer's re-entry) only while the hop's inlining budget has room: the level's first outcome is made by a
   * method of its own, and the count read once, so that this stays small (bench/README, session 44).
   */
  enterOvn(): SwitchOutcome {
    const i = this.ovnLevel;
    this.ovnLevel = i + 1;
    return this.outcomes[i] ?? this.newOutcome(i);
  }

  private newOutcome(i: number): SwitchOutcome {
    return (this.outcomes[i] = new SwitchOutcome());
  }

  leaveOvn(): void {
    this.ovnLevel--;
  }

  /** br-provider's outcomes, one per nesting level of that hop (as {@link outcomes}: a bridge's output can come back to a bridge). */
  private readonly brOutcomes: BridgeOutcome[] = [];
  private brLevel = 0;

  enterBridge(): BridgeOutcome {
    const i = this.brLevel++;
    return this.brOutcomes[i] ?? (this.brOutcomes[i] = new BridgeOutcome());
  }

  leaveBridge(): void {
    this.brLevel--;
  }

  constructor(
    readonly rec: TraceRecorder,
    readonly segment: WireSegment,
    readonly ls: LogicalSwitch,
    readonly metallb: MetalLB,
    readonly vlan: number,
    readonly lsName: string,
    readonly localnet: string,
    readonly patchName: string,
  ) {
    // The switch's port names are internalized strings (one per text), `localnet` a concatenation: handed to the switch
    // as an inport before the first outcome shows the switch's own string (noteLocalnet), it would leave the switch's
    // and the executor's inport compares expecting any string — V8's StringEqual called at every compare from then on.
    this.localnetIn = internalized(localnet);
    this.wireAt = rec.place('wire');
    this.outsideAt = rec.place('outside');
    this.now = 0;
  }

  /** Adds (or, after a reset of the pods' connections, replaces) the pod behind logical switch port `lsp`. */
  setPod(lsp: string, host: PodHost): void {
    const known = this.podPorts.get(lsp);
    if (known) known.host = host;
    else {
      const at = `${host.pod.node}/${host.pod.name}`;
      this.podPorts.set(lsp, { host, node: internalized(host.pod.node), at, atId: this.rec.place(at), counted: undefined, countedHost: undefined, stepFrom: -1, step: undefined, steps: [] });
    }
  }

  /**
   * A copy of `frame` for the result of the frame being processed: a buffer of the recorder's when that result
   * is transient (valid until the next frame), else an array of its own.
   */
  keep(frame: Uint8Array, length: number): Uint8Array {
    return this.rec.transient && !this.portTapped ? this.rec.copyOf(frame, length) : frame.slice(0, length);
  }

  /**
   * Set by a caller that reads only the verdict of the frame being processed (no deliveries' bytes, no observers
   * of them): the OVN hop then hands a pod the switch's buffer instead of a copy for the result.
   */
  deliveriesUnread = false;

  /** Whether any observer wants frames: the caches replay only what they recorded for the wire. */
  get portTapped(): boolean {
    return this.onPort !== undefined || this.onTap !== undefined;
  }

  port(name: string, frame: Uint8Array): void {
    this.onPort?.(name, frame, this.now);
  }

  /** The segment's hop: learn the source, then one NIC (known destination), or every port but `from` (flood). */
  wire(from: string, frame: Uint8Array, depth: number): void {
    this.wireFrom(from, from === 'outside' ? undefined : this.nodes.get(from)!, frame, depth);
  }

  /** {@link wire} from node `path` (undefined: the outside), whose port name is `from`. */
  wireFrom(from: string, path: NodePath | undefined, frame: Uint8Array, depth: number): void {
    const rec = this.rec;
    if (depth > HOP_LIMIT) return rec.dropAt(this.wireAt, 'wire.hop-limit');
    if (frame.length < 14) return rec.dropAt(this.wireAt, 'wire.runt');
    const seg = this.segment;
    const fdb = seg.tableOf(frame);
    if ((frame[6]! & 1) === 0) seg.learn(fdb, macNumber(frame, 6), from);
    if (this.onWire) {
      this.onWire(from, frame, this.now);
      this.wireSeen?.push({ from, frame: frame.slice() });
    }
    const known = (frame[0]! & 1) === 0 ? fdb.get(macNumber(frame, 0)) : undefined;
    const flood = known === undefined ? seg.floodFrom(from) : undefined;
    rec.stepAt(ST_WIRE, this.wireAt, rec.tracing ? this.wireDecision(frame, from, known, flood) : '', path === undefined ? this.outsideAt : path.ids.vif);
    if (known !== undefined) {
      if (known === from) return rec.dropAt(this.wireAt, 'wire.same-port');
      return this.carry(known, frame, depth);
    }
    // Each port gets its own copy (a NIC untags in place), but the last can have the frame itself: the
    // caller handed it over and never looks at it again. A node's copy is used up before the next is made
    // (br-provider copies it in first), so one scratch serves them all — unless something keeps it: the
    // outside's list (the result's: transient, a buffer of the recorder's), or observers.
    const last = flood!.length - 1;
    for (let i = 0; i <= last; i++) {
      const to = flood![i]!;
      this.carry(to, i === last ? frame : to === 'outside' ? this.keep(frame, frame.length) : this.portTapped ? new Uint8Array(frame) : this.floodCopy.copy(frame), depth);
    }
  }

  private wireDecision(frame: Uint8Array, from: string, known: string | undefined, flood: string[] | undefined): string {
    const to = known !== undefined ? (known === from ? [] : [known]) : flood!;
    return `${macText(macNumber(frame, 6))} → ${macText(macNumber(frame, 0))} from ${from}${known === undefined ? ' flooded' : ''} to ${to.join(', ') || 'nobody (the port it came from)'}`;
  }

  private carry(to: string, frame: Uint8Array, depth: number): void {
    if (to === 'outside') {
      this.rec.r.outside.push(frame);
      this.onTap?.('outside', frame);
      this.rec.bump(this.wireAt, this.outsideAt);
    } else this.nodes.get(to)!.nic(frame, this.wireAt, depth + 1);
  }
}

/** A node's places, named once (the path builds no strings unless it traces). */
export interface NodeNames {
  nic: string;
  nicAt: string;
  vif: string;
  br: string;
  patchAt: string;
  metallb: string;
  host: string;
  ls: string;
  lb: string;
  nicIn: string;
  nicOut: string;
}

/** A node's places as the recorder numbers them (resolved once: the hops count steps by number). */
export type NodeIds = { [K in keyof NodeNames]: number };

/** One node's path. */
export class NodePath {
  readonly ids: NodeIds;
  readonly node: string;
  /**
   * The counter of the OVN hop's untraced LB step (TraceRecorder.stepCounter: this node's switch place to its LB place),
   * made when first taken; the switch's steps' are {@link ovnSteps}.
   */
  private lbStep: StepCount | undefined = undefined;
  /**
   * {@link ids}' switch and LB places as fields of their own, for the OVN hop: `ids` is made key by key (a map V8 reads
   * through a chain of checks), ≈ 8 instructions a read in the hop's code against one load.
   */
  private readonly lsAt: number;
  private readonly lbAt: number;
  /** The counters of the switch's untraced steps by the place they came from (made when each is first taken). */
  private readonly ovnSteps: Array<StepCount | undefined> = [];
  private ovnStepNowhere: StepCount | undefined = undefined;

  constructor(
    private readonly dp: Datapath,
    node: string,
    readonly names: NodeNames,
    /** The node NIC's MAC, as a number. */
    readonly mac: number,
    readonly bridge: Bridge,
    /** br-provider's ofport for the VLAN interface and for the patch to br-int (-1: none; snapshots number their own). */
    readonly upPort: number,
    readonly patchPort: number,
  ) {
    // The chassis name handed to the switch per frame and compared with pods' nodes: internalized (see internalized).
    this.node = internalized(node);
    const ids = {} as NodeIds;
    for (const k of Object.keys(names) as Array<keyof NodeNames>) ids[k] = dp.rec.place(names[k]);
    this.ids = ids;
    this.lsAt = ids.ls;
    this.lbAt = ids.lb;
  }

  /** The counter of the switch's step from place `from` (made on its first step from there). */
  private ovnStep(rec: TraceRecorder, from: number): StepCount {
    const at = this.ids.ls;
    if (from < 0) return (this.ovnStepNowhere ??= rec.stepCounter(ST_OVN, at, from));
    return (this.ovnSteps[from] = rec.stepCounter(ST_OVN, at, from));
  }

  /** The counter of the LB step (made on the first). */
  private newLbStep(rec: TraceRecorder): StepCount {
    return (this.lbStep = rec.stepCounter(ST_LB, this.ids.lb, this.ids.ls));
  }

  /** Whether this node's machine is down (the common case — nothing down — costs no lookup). */
  private get isDown(): boolean {
    const down = this.dp.down;
    return down.size !== 0 && down.has(this.node);
  }

  /** The NIC: frames of the cluster's VLAN are untagged into `underlay0.341` and enter br-provider. */
  nic(frame: Uint8Array, from: number, depth: number): void {
    const dp = this.dp;
    const rec = dp.rec;
    const n = this.names;
    const ids = this.ids;
    if (this.isDown) return rec.dropAt(ids.nicAt, 'nic.node-down');
    dp.port(n.nicAt, frame);
    dp.onTap?.(n.nicIn, frame);
    // Only the outer tag is read: the rest is br-provider's to decode.
    const tagged = frame.length >= 18 && isVlanTpid((frame[12]! << 8) | frame[13]!);
    const vid = tagged ? ((frame[14]! & 0x0f) << 8) | frame[15]! : -1;
    if (vid !== dp.vlan) return rec.dropAt(ids.nicAt, vid < 0 ? 'nic.untagged' : 'nic.other-vlan', rec.tracing ? nicVlanDetail(vid, n.nic, dp.vlan) : undefined);
    // Untagged in place: br-provider reads `frame[0, len)`, so no view of it is made (observers get one).
    const len = popVlan(frame, frame.length);
    rec.stepAt(ST_VLAN, ids.vif, rec.tracing ? `untagged VLAN ${dp.vlan}` : '', from);
    if (dp.onPort) dp.port(n.vif, frame.subarray(0, len));
    this.toBridge(frame, len, this.upPort, ids.vif, depth + 1);
  }

  private portName(p: number): string {
    return p === Port.LOCAL ? 'LOCAL' : p === this.upPort ? `${this.names.nic}.${this.dp.vlan}` : p === this.patchPort ? 'patch' : String(p);
  }

  /** br-provider: Kube-OVN's flows on `frame[0, length)`; its outputs go on to the VLAN interface, the patch port or LOCAL. */
  toBridge(frame: Uint8Array, length: number, inPort: number, from: number, depth: number): void {
    const dp = this.dp;
    if (depth > HOP_LIMIT) return dp.rec.dropAt(this.ids.br, 'br-provider.hop-limit');
    const out = dp.enterBridge();
    try {
      this.bridgeHop(frame, length, inPort, from, depth, out);
    } finally {
      dp.leaveBridge();
    }
  }

  /**
   * br-provider traced: the bridge records its own steps (ofproto/trace's story), the rules behind the hop's
   * one-line decision. A method of its own: the closures naming ports would otherwise make every untraced hop
   * allocate a context for what they capture.
   */
  private tracedBridge(frame: Uint8Array, inPort: number, from: number, out: BridgeOutcome): void {
    const dp = this.dp;
    const rec = dp.rec;
    const steps: BridgeStep[] = [];
    const res = this.bridge.process(frame, inPort, { now: dp.now, trace: steps });
    rec.stepAt(ST_BRIDGE, this.ids.br, `in_port ${this.portName(inPort)} → ${res.outputs.map((o) => this.portName(o.port)).join(', ') || 'drop'}`, from);
    const full = (p: number): string => (p === this.patchPort ? dp.patchName : this.portName(p));
    rec.r.stages[rec.r.stages.length - 1]!.openflow = bridgeTrace(this.bridge.name, inPort, full, frame, steps, res);
    out.error = res.error;
    out.count = res.outputs.length;
    for (let i = 0; i < out.count; i++) {
      out.ports[i] = res.outputs[i]!.port;
      out.packets[i] = res.outputs[i]!.packet;
    }
  }

  private bridgeHop(frame: Uint8Array, length: number, inPort: number, from: number, depth: number, out: BridgeOutcome): void {
    const dp = this.dp;
    const rec = dp.rec;
    const n = this.names;
    const ids = this.ids;
    const at = ids.br;
    if (rec.tracing) this.tracedBridge(length !== frame.length ? frame.subarray(0, length) : frame, inPort, from, out);
    else {
      this.bridge.processInto(frame, length, inPort, dp.now, out);
      rec.stepAt(ST_BRIDGE, at, '', from);
      // The packets are this level's buffers, used up before the level is left; observers, which may keep
      // what they are shown, get copies.
      if (dp.portTapped) for (let i = 0; i < out.count; i++) out.packets[i] = out.packets[i]!.slice();
    }
    if (out.error) rec.dropAt(at, out.error === 'RECURSION_TOO_DEEP' ? 'br-provider.recursion-too-deep' : 'br-provider.too-many-resubmits');
    else if (out.count === 0) rec.dropAt(at, 'br-provider.no-output');
    const count = out.count;
    for (let i = 0; i < count; i++) {
      const port = out.ports[i]!;
      const packet = out.packets[i]!;
      if (port === this.upPort) {
        if (this.isDown) {
          rec.dropAt(ids.nicAt, 'nic.node-down');
          continue;
        }
        dp.port(n.vif, packet);
        // The tagged frame may end in the result's outside list: its own array when the result is the caller's,
        // a buffer of the recorder's when it is transient.
        const tagged = dp.rec.transient && !dp.portTapped ? rec.buffer(packet.length + 4) : new Uint8Array(packet.length + 4);
        tagged.set(packet);
        const len = pushVlan(tagged, packet.length, dp.vlan);
        rec.stepAt(ST_VLAN, ids.vif, rec.tracing ? `tagged VLAN ${dp.vlan}` : '', at);
        const wired = len === tagged.length ? tagged : tagged.subarray(0, len);
        dp.port(n.nicAt, wired);
        dp.onTap?.(n.nicOut, wired);
        dp.wireFrom(this.node, this, wired, depth + 1);
      } else if (port === this.patchPort) {
        dp.port(n.patchAt, packet);
        this.ovnAt(packet, dp.localnetIn, at, depth + 1, packet.length, false, undefined, false, dp.now);
      } else if (port === Port.LOCAL) {
        dp.port(n.br, packet);
        dp.onTap?.(n.br, packet);
        this.local(packet, depth + 1);
      } else rec.dropAt(at, 'br-provider.unknown-port', unknownPortDetail(port));
    }
  }

  /** LOCAL: MetalLB's responder answers ARP/NDP for what this node announces; anything else reaches the host stack. */
  local(frame: Uint8Array, depth: number): void {
    const dp = this.dp;
    const rec = dp.rec;
    const n = this.names;
    dp.watch?.atLocal(this.node);
    const v = dp.metallb.receive(this.node, 'br-provider', frame);
    const ids = this.ids;
    if (v.verdict === 'reply') {
      rec.stepAt(ST_METALLB, ids.metallb, 'ARP/NDP reply for an announced VIP', ids.br);
      rec.answered = true;
      dp.port(n.br, v.frame);
      this.toBridge(v.frame, v.frame.length, Port.LOCAL, ids.metallb, depth + 1);
    } else if (v.verdict === 'drop') {
      rec.stepAt(ST_METALLB, ids.metallb, rec.tracing ? `no reply: ${DROP_TEXT[`metallb.${v.reason}`]}` : '', ids.br);
      // The host stack has no such address either, so nothing answers from this node.
      rec.dropAt(ids.metallb, METALLB_DROP_CODE[v.reason]!);
    } else this.host(frame);
  }

  private host(frame: Uint8Array): void {
    const rec = this.dp.rec;
    const ids = this.ids;
    // The node's own stack takes frames to its MAC; it holds no pod or VIP address, so anything else dies there.
    const mine = macNumber(frame, 0) === this.mac;
    rec.stepAt(ST_HOST, ids.host, mine ? 'to the node\'s own stack' : 'not for the node', ids.br);
    rec.dropAt(ids.host, mine ? 'host.not-held' : 'host.not-addressed');
  }

  /**
   * The OVN logical switch, run on this node's chassis: its outputs go to a pod (whose answers enter the switch
   * again) or out of the localnet port into the output chassis' br-provider. `from` by name: for callers off the
   * hop-to-hop path (a cache's replay, an injection at a pod).
   */
  ovn(frame: Uint8Array, inport: string, from: string, depth: number): void {
    this.ovnAt(frame, inport, this.dp.rec.place(from), depth, frame.length, false, undefined, false, this.dp.now);
  }

  /**
   * {@link ovn} from place number `from`, on `frame[0, length)`. `checksumsGood`: the frame is a pod's own, whose
   * checksums its stack computed (PodHost.receive): the switch's conntrack does not verify them (LogicalSwitch.process).
   * `decoded`: the pod's decode of its answer (PodHost.replyDecode), which the switch takes instead of decoding it
   * (LogicalSwitch.processInto's). `lend`: the frame is lent to the switch (LogicalSwitch.processInto's): `frame` has 8
   * bytes' room past `length`, and the caller reads none of its bytes after the call. `now`: the datapath's time
   * ({@link Datapath.now}), as the caller holds it — the number it was handed, not boxed again from the slot. No
   * argument has a default: a default's bytecode counts against the OVN hop's inlining budget, which inlines this
   * method (bench/README, session 44).
   */
  ovnAt(frame: Uint8Array, inport: string, from: number, depth: number, length: number, checksumsGood: boolean, decoded: Readonly<DecodedFrame> | undefined, lend: boolean, now: number): void {
    const dp = this.dp;
    const rec = dp.rec;
    const watch = dp.watch;
    if (watch !== undefined) {
      if (length !== frame.length) frame = frame.subarray(0, length);
      watch.atSwitch(this.node, frame, inport, rec.placeName(from), depth);
    }
    if (depth > HOP_LIMIT) rec.dropAt(this.ids.ls, 'ovn.hop-limit');
    else {
      const out = dp.enterOvn();
      try {
        this.ovnHop(frame, length, inport, from, depth, out, checksumsGood, decoded, lend, now);
      } finally {
        dp.leaveOvn();
      }
    }
    if (watch !== undefined) watch.afterSwitch();
  }

  /**
   * The switch traced: its steps recorded (the LB's as `lb-dnat`), its outputs written into `out`; false when it
   * dropped the frame (recorded). A method of its own, as {@link tracedBridge}: the steps' strings, regular
   * expression and objects stay out of the hop V8 optimizes for every frame (bench/README, session 14: the hop's
   * own instructions fell by ≈ 150 a frame; its `word` reads are still calls).
   */
  private tracedSwitch(frame: Uint8Array, inport: string, from: number, out: SwitchOutcome, checksumsGood: boolean): boolean {
    const dp = this.dp;
    const rec = dp.rec;
    const at = this.ids.ls;
    const steps: StageStep[] = [];
    const traced = dp.ls.process(frame, inport, this.node, dp.now, steps, checksumsGood);
    rec.stepAt(ST_OVN, at, `inport ${inport}`, from);
    for (const s of steps) {
      const lb = /ct_lb|ct_snat/.test(s.actions);
      rec.r.stages.push({ stage: lb ? 'lb-dnat' : 'ovn', at: `${s.chassis}/${lb ? 'lb-dnat' : dp.lsName}`, decision: `${s.stage} ${s.priority}: ${s.match} → ${s.actions}${s.note ? ` (${s.note})` : ''}`, ovn: { pipeline: s.pipeline, table: s.table, stage: s.stage, priority: s.priority, match: s.match, actions: s.actions } });
    }
    if (traced.verdict === 'drop') {
      rec.dropAt(at, ovnDropCode(traced.code), switchDropDetail(traced));
      return false;
    }
    out.count = traced.outputs.length;
    // process() hands out no decode of the input (the hop reads its header) nor of an output (the pods decode theirs).
    out.inL3 = 0;
    out.decodedFor = -1;
    for (let i = 0; i < out.count; i++) {
      const o = traced.outputs[i]!;
      out.ports[i] = o.port;
      out.frames[i] = o.frame;
      out.lengths[i] = o.frame.length;
      out.chassis = o.chassis;
    }
    return true;
  }

  private ovnHop(frame: Uint8Array, length: number, inport: string, from: number, depth: number, out: SwitchOutcome, checksumsGood: boolean, decoded: Readonly<DecodedFrame> | undefined, lend: boolean, now: number): void {
    const dp = this.dp;
    const rec = dp.rec;
    const at = this.lsAt;
    // Booleans compared with true/false and the taps with undefined: a plain test of a field is V8's ToBoolean chain
    // (bench/README "Booleans tested as booleans (session 35)"), per frame here.
    // Read once: what the hop calls leaves it as it found it (a cache that traces its own run restores it), and a
    // field read after each call is reloaded — five to seven times an output.
    const traced = rec.tracing === true;
    if (traced) {
      if (length !== frame.length) frame = frame.subarray(0, length);
      if (!this.tracedSwitch(frame, inport, from, out, checksumsGood)) return;
    } else {
      dp.ls.processInto(frame, length, inport, this.node, now, out, checksumsGood, decoded, lend);
      // The switch's step counted here, as the LB's and the pod's below (stepAt untraced: its bytecode counts against the
      // hop's inlining budget, which then had no room left for ovnAt, the pods' answers' re-entry) — owed, one increment:
      // the stage's counter and the edge's are added when the recorder's counters are next read.
      const c = (from >= 0 ? this.ovnSteps[from] : undefined) ?? this.ovnStep(rec, from);
      if (c.owed++ === 0) rec.oweFirst(c);
      if (out.count === 0) return rec.dropAt(at, ovnDropCode(out.code));
      // The outputs are the switch's buffers, rewritten by the next packet through it — which a pod's answer or a
      // frame through another chassis is, before this hop is done. One output out of the localnet port is used
      // up before that (br-provider copies it in first, reading `[0, length)`): it goes on as it is. A pod's is
      // kept (the frame's deliveries: a copy, below), and several outputs or observers that may keep what they
      // are shown get copies of their own.
      if (out.count > 1 || dp.portTapped) for (let i = 0; i < out.count; i++) out.frames[i] = out.frames[i]!.slice(0, out.lengths[i]);
    }
    // What DNAT changed is seen against the input's IP header. The switch hands out its own decode of a plain
    // TCP/IPv4 input (SwitchOutcome.inL3: the offset ipv4At would find, the addresses, the SYN bit — the same
    // conditions, decodePlainTcp4's being stricter); any other input's header is read here, in place (the switch left
    // `frame` as it came). IPv6 (a dual-stack VIP) is looked for only when the frame is not IPv4, and its addresses
    // compared in place too.
    const pre = out.inL3;
    const l3 = pre !== 0 ? pre & 0xffff : ipv4At(frame, length);
    const ipv4 = l3 !== -0x10000;
    const l3v6 = ipv4 ? -0x10000 : ipv6At(frame, length);
    const v6 = l3v6 > 0 ? class6(frame, l3v6) : 0;
    const ipv6 = v6 !== 0;
    // As signed words (compared for equality only): small integers, where readIPv4's unsigned value is a heap number
    // from 128.0.0.0 up.
    const inDst = pre !== 0 ? out.inDst : l3 > 0 ? word(frame, l3 + 16) : 0;
    const inSrc = pre !== 0 ? out.inSrc : l3 > 0 ? word(frame, l3 + 12) : 0;
    // An IPv6 input's addresses as words, read before the outputs go on (a pod's answer may rewrite the buffer
    // `frame` is in before the last output is looked at), as the IPv4 ones.
    const d0 = ipv6 ? word(frame, l3v6 + 24) : 0, d1 = ipv6 ? word(frame, l3v6 + 28) : 0, d2 = ipv6 ? word(frame, l3v6 + 32) : 0, d3 = ipv6 ? word(frame, l3v6 + 36) : 0;
    const s0 = ipv6 ? word(frame, l3v6 + 8) : 0, s1 = ipv6 ? word(frame, l3v6 + 12) : 0, s2 = ipv6 ? word(frame, l3v6 + 16) : 0, s3 = ipv6 ? word(frame, l3v6 + 20) : 0;
    // The flags byte first (isSyn's last read, at the same place): most frames stop there.
    const syn = pre !== 0 ? pre > 0xffff : l3 > 0 ? (frame[l3 + ((frame[l3]! & 15) << 2) + 13]! & (SYN | ACK)) === SYN && isSyn(frame, l3) : v6 === 2;
    // Not Math.abs: its result may be 2^31, so TurboFan kept the offset a double, converted back at each use.
    const off = ipv4 ? (l3 < 0 ? -l3 : l3) : ipv6 ? l3v6 : 0;
    // The switch's outputs leave on the chassis it ran on (SwitchOutcome.chassis is the chassis it was given: this
    // node), so out of this node's patch port: no name compared per frame.
    const count = out.count;
    for (let i = 0; i < count; i++) {
      let oFrame = out.frames[i]!;
      const oLength = out.lengths[i]!;
      const oPort = out.ports[i]!;
      let prev = at;
      // The switch's decode of this output when it vouches for it (SwitchOutcome.decodedFor): its addresses as the
      // walk left them, and the pod's header read (below).
      const dd = out.decodedFor === i ? out.decoded : undefined;
      // DNAT (request) or un-DNAT (reply) shows as changed addresses: the LB stage was on this frame's path. From the
      // switch's decode when it has the input's layout (IPv4 at the same offset: the walk changes no length), else
      // the output's bytes.
      const decodedOut = ipv4 && dd !== undefined && dd.l3Offset === off;
      const ipv4Out = ipv4 && oLength >= off + 20;
      const ipv6Out = ipv6 && oLength >= off + 40;
      // The IPv4 words read in place, not through word(): whether V8 inlines that call into this large hop varies
      // from one compile to the next (session 14 counted it a call, 223 instructions a frame; bench/README, session 15).
      const dnat = decodedOut ? (dd.ipDst | 0) !== inDst : ipv4Out ? ((oFrame[off + 16]! << 24) | (oFrame[off + 17]! << 16) | (oFrame[off + 18]! << 8) | oFrame[off + 19]!) !== inDst : ipv6Out && differ16(oFrame, off + 24, d0, d1, d2, d3);
      const undnat = decodedOut ? (dd.ipSrc | 0) !== inSrc : ipv4Out ? ((oFrame[off + 12]! << 24) | (oFrame[off + 13]! << 16) | (oFrame[off + 14]! << 8) | oFrame[off + 15]!) !== inSrc : ipv6Out && differ16(oFrame, off + 8, s0, s1, s2, s3);
      if (dnat || undnat) {
        const lbAt = this.lbAt;
        // Untraced, the step is counted here, owed as the switch's (above): TurboFan's inlining budget is spent on the
        // switch's call before it reaches this site, and stepAt's call cost ≈ 130 instructions a step.
        if (!traced) {
          const c = this.lbStep ?? this.newLbStep(rec);
          if (c.owed++ === 0) rec.oweFirst(c);
        } else rec.stepAt(ST_LB, lbAt, ipv6Out ? (dnat ? `DNAT to ${formatIPv6(oFrame, off + 24)}` : `un-DNAT: source ${formatIPv6(oFrame, off + 8)}`) : dnat ? `DNAT to ${formatIPv4(readIPv4(oFrame, off + 16))}` : `un-DNAT: source ${formatIPv4(readIPv4(oFrame, off + 12))}`, at);
        prev = lbAt;
      }
      if (oPort === dp.localnetIn) {
        dp.noteLocalnet(oPort);
        // A collected br-provider without the patch port (ovn-controller makes it only where the switch is local).
        if (this.patchPort < 0) {
          rec.dropAt(at, 'ovn.no-patch-port', noPatchDetail(out.chassis));
          continue;
        }
        if (dp.onPort !== undefined) dp.port(this.names.patchAt, oFrame.length === oLength ? oFrame : oFrame.subarray(0, oLength));
        if (dp.outCache?.fromPatch(this, oFrame, oLength, prev, depth + 1) !== true) this.toBridge(oFrame, oLength, this.patchPort, prev, depth + 1);
        continue;
      }
      const pp = dp.podPortOut(oPort);
      if (pp === undefined) {
        rec.dropAt(at, 'ovn.unmodelled-output', unmodelledDetail(oPort));
        continue;
      }
      const pod = pp.host;
      const podNode = pp.node;
      const podPath = podNode === this.node ? this : dp.nodes.get(podNode)!;
      // isDown written out: the getter, the last of the hop's candidates for inlining, was a call on http (≈ 37 a frame).
      const down = dp.down;
      if (down.size !== 0 && down.has(podPath.node)) {
        rec.dropAt(pp.atId, 'pod.node-down');
        continue;
      }
      // The pod reads the decode's fields instead of the header. Nothing has run the switch since — the one output is
      // this one, and the observers that could (a tap's callback) get none handed over.
      const given = dp.onTap === undefined ? dd : undefined;
      // The pod's frame is the result's (its deliveries): a copy unless copied above — or, when nobody reads the
      // result's frames, the switch's buffer itself (the pod reads it before anything rewrites it), at the output's
      // length only for a pod that reads the header itself (with the switch's decode it reads what the decode
      // bounds): no view looked up per frame for a delivery nobody lists.
      const unread = dp.deliveriesUnread === true && !traced && !dp.portTapped;
      if (unread) {
        if (given === undefined && oFrame.length !== oLength) oFrame = rec.viewOf(oFrame, oLength);
      } else if (oFrame.length !== oLength || (out.count === 1 && !dp.portTapped && !traced)) oFrame = out.frames[i] = dp.keep(oFrame, oLength);
      if (dp.onPort !== undefined) dp.port(pp.at, oFrame);
      dp.onTap?.(pp.at, oFrame);
      if (dnat && syn) {
        // The port's cell when it is its pod's still, written out: as a call (backendCell, not inlined into this large
        // hop) it cost ≈ 55 instructions a SYN.
        const c = pp.counted !== undefined && pp.countedHost === pod ? pp.counted : dp.backendCell(pp);
        c.n++;
      }
      // The answers are the pod's buffers until released; observers, which may keep what they are shown, get copies.
      const replies = pod.answer(oFrame, now, given);
      // The pod's step counted here untraced, owed as the LB's (above); its counter the port's for the place its last step
      // came from.
      if (!traced) {
        const c = pp.stepFrom === prev ? pp.step! : podStep(rec, pp, prev);
        if (c.owed++ === 0) rec.oweFirst(c);
      }
      if (pod.ignoredCode !== undefined) {
        if (traced) rec.stepAt(ST_POD, pp.atId, `ignored: ${pod.ignored}`, prev);
        rec.dropAt(pp.atId, POD_DROP_CODE[pod.ignoredCode], traced ? podIgnoredDetail(pod) : undefined);
      } else {
        if (traced) rec.stepAt(ST_POD, pp.atId, `accepted${replies.length ? `, ${replies.length} frame(s) in answer` : ''}`, prev);
        if (unread) rec.deliverUnread();
        else rec.deliver(pod.pod.name, podNode, oFrame);
      }
      for (let j = 0; j < replies.length; j++) {
        const reply = dp.portTapped ? replies[j]!.slice() : replies[j]!;
        if (dp.onPort !== undefined) dp.port(pp.at, reply);
        // The pod's own frame: its checksums are its stack's (PodHost.receive), as the CHECKSUM_PARTIAL skb a pod's
        // veth hands OVS — conntrack does not verify them. A frame injected at a pod (SimulatedCluster.inject) is not
        // the pod's answer and is verified.
        // With the pod's decode of it (its TCP/IPv4 answers): the switch decodes nothing.
        podPath.ovnAt(reply, oPort, pp.atId, depth + 1, reply.length, true, pod.replyDecode(replies, j), false, now);
      }
      pod.release(replies);
    }
  }
}

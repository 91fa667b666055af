/**
 * An OpenFlow bridge that behaves like Open vSwitch: ports (with OVS `tag`/`trunks` VLAN modes for NORMAL),
 * tables with tuple-space classifiers, OpenFlow 1.0-style action lists applied in order to the packet as
 * it is, NORMAL as a MAC-learning switch with ageing in simulated time. The trace is produced by the same
 * code that forwards: pass a trace array and each decision is recorded as it is made.
 */
import {
  checksumAdjust16, DecodedFrame, DecodeStatus, decrementTtl, FrameDecoder, formatMac, isMulticastMac, L3, popVlan, pushVlan, read16, rewriteIpv4Address,
  rewriteMac, rewritePort, VippathError, write16,
} from '@vippath/wire';
import { formatAction, Port, type Action, type FieldRef } from './actions.js';
import { Classifier } from './classifier.js';
import { DEFAULT_PRIORITY, formatFlow, formatMatch, parseFlows, type Flow, type ParseOptions } from './flow.js';
import { extractKey, KEY_SLOTS, newKey, Slot } from './key.js';
import { MacTable } from './mac-table.js';
import { MegaflowTable, MfDst, MfEntry, MfNormal, MfOp, type MegaflowStats } from './megaflow.js';

/** A bridge port. */
export interface BridgePort {
  name: string;
  ofport: number;
  /** Access VLAN (OVS `tag`): NORMAL treats frames from it as this VLAN and sends them out untagged. */
  tag?: number;
  /** Trunk VLANs (OVS `trunks`; empty/absent with no tag = all VLANs). */
  trunks?: number[];
  /** For patch ports: the peer's name (outputs are handed over by the caller). */
  patchPeer?: string;
}

/** processInto's stand-in for the outputs list it does not fill. */
const NO_OUTPUTS: BridgeOutput[] = Object.freeze([]) as unknown as BridgeOutput[];

/** A packet leaving the bridge. */
export interface BridgeOutput {
  port: number;
  packet: Uint8Array;
}

/**
 * One decision of a trace. `indent` is the column `ofproto/trace` prints it at: a resubmit that is not the last
 * action of its list nests the table it calls (ovs-vswitchd 3.1's layout), a last one continues at its level.
 */
export type TraceStep =
  | { kind: 'lookup'; table: number; inPort: number; flow: string | null; priority: number | null; cookie: string | null; indent?: number; actionIndent?: number }
  | { kind: 'action'; table: number; action: string; note?: string; indent?: number }
  | { kind: 'output'; port: number; packet: string }
  | { kind: 'normal'; vlan: number; decision: string; indent?: number }
  | { kind: 'drop'; reason: string; indent?: number };

/** The result of processing one packet. */
export interface ProcessResult {
  outputs: BridgeOutput[];
  /** True when nothing left the bridge. */
  drop: boolean;
  /** Packets sent to the controller (counted, not delivered). */
  controller: number;
  /**
   * Set when translation hit one of OVS's limits and stopped: the whole packet is dropped, outputs composed
   * before the limit included (OVS clears the datapath actions, ofproto-dpif-xlate.c xlate_actions).
   */
  error?: XlateError;
}

/**
 * A packet's outputs written in place by {@link Bridge.processInto}: made once by the caller and reused. Output `i`
 * is `ports[i]` and `packets[i]` — exactly the packet's bytes, in a buffer the outcome owns: valid until the
 * outcome is written again (a caller that keeps a packet longer copies it).
 */
export class BridgeOutcome {
  /** Outputs written (0: dropped). */
  count = 0;
  readonly ports: number[] = [];
  readonly packets: Uint8Array[] = [];
  /** As {@link ProcessResult}'s fields of the same names. */
  controller = 0;
  error: XlateError | undefined = undefined;
  private readonly bufs: Uint8Array[] = [];
  // Views of each buffer by length: a packet of a length seen before costs no allocation.
  private readonly views: Array<Array<Uint8Array | undefined>> = [];

  /** Appends output `port` with `src[0, length)` (the bridge's; not for callers). */
  put(port: number, src: Uint8Array, length: number): void {
    const i = this.count++;
    let buf = this.bufs[i];
    let views = this.views[i];
    if (buf === undefined || buf.length < length || views === undefined) {
      buf = this.bufs[i] = new Uint8Array(Math.max(2048, length));
      views = this.views[i] = [];
    }
    for (let k = 0; k < length; k++) buf[k] = src[k]!;
    this.ports[i] = port;
    this.packets[i] = views[length] ?? (views[length] = buf.subarray(0, length));
  }
}

/**
 * Why a translation stopped, as OVS names it (ofproto/ofproto-dpif-xlate.c, enum xlate_error):
 * `RECURSION_TOO_DEEP` — more than {@link MAX_RESUBMIT_DEPTH} nested resubmits to the same or an earlier table;
 * `TOO_MANY_RESUBMITS` — more than {@link MAX_RESUBMITS} resubmits in one packet's translation, nested or not.
 */
export type XlateError = 'RECURSION_TOO_DEEP' | 'TOO_MANY_RESUBMITS';

/** Bridge construction or use that cannot work (unknown port…). */
export class BridgeError extends VippathError {
  constructor(message: string) {
    super('BRIDGE', message);
  }
}

/**
 * OVS's bound on nested resubmits (ofproto-dpif-xlate.c MAX_DEPTH): only a resubmit to the same or an earlier
 * table deepens, since strictly increasing tables end by themselves.
 */
export const MAX_RESUBMIT_DEPTH = 64;
/**
 * OVS's bound on the total work of one translation (ofproto-dpif-xlate.c MAX_RESUBMITS = MAX_DEPTH²): resubmits
 * counted whether nested or not, so k tables each resubmitting twice stop after 4 096 instead of running 2^k.
 */
export const MAX_RESUBMITS = MAX_RESUBMIT_DEPTH * MAX_RESUBMIT_DEPTH;
const STOP = Symbol('stop');
/** OVS's default MAC ageing time (`other_config:mac-aging-time`), seconds. */
export const DEFAULT_MAC_AGING_S = 300;
const HEADROOM = 16;

/**
 * Empties `list` in place. Setting `length` is a call into the runtime even on an empty array; popping the few
 * elements a translation's record holds is not (a bridge miss empties five such lists, a watched frame three more).
 */
function truncate(list: unknown[]): void {
  if (list.length > 16) list.length = 0;
  else while (list.length !== 0) list.pop();
}

/**
 * A learned MAC address: its port and when it was last seen (ms). An entry NORMAL removes (aged out, evicted,
 * flushed) gets port -1, so that whoever kept it (a megaflow) sees at once that it no longer stands.
 */
export interface MacEntry {
  port: number;
  seen: number;
}

/** A MAC learning NORMAL did (OVS's xlate cache XC_NORMAL/XC_LEARN): the entry, and whether it was new or moved. */
export interface MacLearned {
  table: MacTable<MacEntry>;
  mac: number;
  entry: MacEntry;
  port: number;
  created: boolean;
}

/**
 * What packets did to a bridge, recorded while {@link Bridge.effects} is set — as OVS's xlate cache records
 * `XC_RULE` (a rule's statistics) and `XC_NORMAL` (MAC learning) for a megaflow — so that a cache can replay them
 * through {@link Bridge.replayEffects} without running the tables again.
 */
export class BridgeEffects {
  /** Rules hit, in order, and the bytes each counted. */
  readonly rules: Flow[] = [];
  readonly bytes: number[] = [];
  /** MACs NORMAL learned or refreshed. */
  readonly macs: MacLearned[] = [];
  /** NORMAL actions run (each may flood, learn or age out: what a cache must know it did not rest on). */
  normal = 0;

  /** Empties the record, for reuse by a watcher that keeps only {@link slice}s of it. */
  clear(): void {
    truncate(this.rules);
    truncate(this.bytes);
    truncate(this.macs);
    this.normal = 0;
  }

  /** The effects recorded from `from` on (a prefix of a run stops there). */
  slice(fromRules: number, toRules = this.rules.length): BridgeEffects {
    const e = new BridgeEffects();
    for (let i = fromRules; i < toRules; i++) {
      e.rules.push(this.rules[i]!);
      e.bytes.push(this.bytes[i]!);
    }
    return e;
  }
}

/** Options of a {@link Bridge}. */
export interface BridgeOptions {
  /**
   * The megaflow cache (default on): translations kept by the fields they read, as ovs-vswitchd's datapath flows,
   * so that a packet like an earlier one skips the tables. `false` translates every packet (tests, benchmarks).
   * `maxEntries` bounds it (the cache is dropped and refilled when full; default {@link DEFAULT_MEGAFLOW_LIMIT}).
   */
  megaflows?: boolean | { maxEntries?: number };
}

/**
 * Entries a megaflow cache holds before it starts over. OVS's default flow limit is 200 000; an entry here is a
 * few hundred bytes of JavaScript objects, and a bridge's distinct translations in vippath's traffic are far fewer.
 */
export const DEFAULT_MEGAFLOW_LIMIT = 65536;
/** Translations longer than this (rules hit, datapath actions) are not cached: they are the pathological ones. */
const MF_MAX_RULES = 256;
const MF_MAX_OPS = 256;

/**
 * A translation being recorded as a megaflow (one per bridge, reused): the wildcards (what of the packet it read)
 * and the datapath actions and effects it produced.
 */
class Recording {
  /** The packet's key before any action. */
  readonly key = new Uint32Array(KEY_SLOTS);
  readonly wc = new Uint32Array(KEY_SLOTS);
  /**
   * Bits of each key word that still are the packet's own. An action's write makes its bits the rules' (decided
   * by what the megaflow already matches), so a later lookup on them un-wildcards nothing of the packet.
   */
  readonly clean = new Uint32Array(KEY_SLOTS);
  /** {@link MfOp} triples, and the rewrite of each SET by op index. */
  readonly ops: number[] = [];
  readonly actions: Array<Action | undefined> = [];
  readonly rules: Flow[] = [];
  readonly bytes: number[] = [];
  readonly normals: MfNormal[] = [];
  inLength = 0;
  macChanges = 0;
  /** Whether the packet as it came is an ARP whose SPA is its TPA (the exact words hold it: NORMAL's gratuitous test). */
  inGarp = false;

  begin(inLength: number, macChanges: number): void {
    // in_port, dl_type and the frame's layout are matched exactly, outside the mask (see megaflow.ts).
    this.wc.fill(0);
    this.clean.fill(0xffffffff, 0, Slot.METADATA_HI);
    // Metadata and registers start at 0 for every packet: what they hold is the rules' doing, never the packet's.
    this.clean.fill(0, Slot.METADATA_HI);
    truncate(this.ops);
    truncate(this.actions);
    truncate(this.rules);
    truncate(this.bytes);
    truncate(this.normals);
    this.inLength = inLength;
    this.macChanges = macChanges;
  }

  /** The translation read `mask` of key word `slot`. */
  reads(slot: number, mask: number): void {
    this.wc[slot] = this.wc[slot]! | (mask & this.clean[slot]!);
  }

  op(code: number, a: number, b: number, action?: Action): void {
    this.ops.push(code, a, b);
    this.actions.push(action);
  }

  /** A VLAN edit: what follows depends on the tag as it was (its PCP, a tag a pop exposes), so all of it is matched. */
  vlanOp(code: number, a: number): void {
    this.reads(Slot.VLAN_TCI, 0xffffffff);
    this.clean[Slot.VLAN_TCI] = 0;
    this.op(code, a, 0);
  }

  /** The megaflow of this translation for the packet whose key is `key` and exact words `w0`, `w1`. */
  entry(mf: MegaflowTable, key: Uint32Array, w0: number, w1: number, controller: number): MfEntry {
    const t = mf.subtable(this.wc);
    const normals = this.normals.slice();
    for (const n of normals) if (n.src !== undefined) n.learned = { table: n.table!, mac: n.srcMac, entry: n.src, port: n.srcPort, created: false };
    return new MfEntry(t, t.hash(key, w0, w1), w0, w1, MegaflowTable.values(t, key), mf.program(this.ops, this.actions, this.rules, this.bytes, controller), normals);
  }
}

/** NORMAL read the source MAC: its learning (a refresh or a move) and its multicast bit. */
function readsSource(rec: Recording): void {
  rec.reads(Slot.DL_SRC_HI, 0xffffffff);
  rec.reads(Slot.DL_SRC_LO, 0xffffffff);
}

interface Xlate {
  /** Set while the translation is recorded as a megaflow. */
  rec: Recording | undefined;
  buf: Uint8Array;
  length: number;
  d: DecodedFrame;
  key: Uint32Array;
  inPort: number;
  outputs: BridgeOutput[];
  /** Where outputs go instead of {@link outputs} (processInto). */
  into: BridgeOutcome | undefined;
  trace: TraceStep[] | undefined;
  depth: number;
  resubmits: number;
  error: XlateError | undefined;
  controller: number;
  now: number;
  table: number;
  /** Whether the action being executed is the last of its list (a tail resubmit does not nest in a trace). */
  last: boolean;
  /** Trace columns: where the current table's line and its actions are printed. */
  tableCol: number;
  actionCol: number;
  /** Whether NORMAL learns source MACs (not for a microflow trace). */
  learn: boolean;
}

// A traced packet names each rule and action it meets; a flow's match and actions do not change once loaded,
// so their texts are made once per flow (and dropped with it).
const matchTexts = new WeakMap<Flow, string>();
const actionTexts = new WeakMap<Action, string>();

function matchText(flow: Flow): string {
  let t = matchTexts.get(flow);
  if (t === undefined) matchTexts.set(flow, (t = formatMatch({ priority: DEFAULT_PRIORITY, match: flow.match }) || '(match all)'));
  return t;
}

function actionText(a: Action): string {
  let t = actionTexts.get(a);
  if (t === undefined) actionTexts.set(a, (t = formatAction(a)));
  return t;
}

/** Flow-table changes over every bridge of the process (see {@link Bridge.flowTableChanges}). */
let flowTableChanges = 0;

/** An OpenFlow bridge. */
export class Bridge {
  /**
   * Bumped with every bridge's {@link version}: while it stands, no bridge's flow tables changed. For a reader of
   * many bridges' versions (the cluster's flow cache checks every bridge's per frame) one comparison instead of one
   * per bridge; a bump tells it only to compare them.
   */
  static get flowTableChanges(): number {
    return flowTableChanges;
  }

  readonly name: string;
  private readonly ports = new Map<number, BridgePort>();
  private readonly tables = new Map<number, Classifier>();
  private readonly macs = new Map<number, MacTable<MacEntry>>();
  private readonly decoder = new FrameDecoder();
  private seq = 0;
  private readonly scratch: Xlate = { rec: undefined, buf: new Uint8Array(2048), length: 0, d: new DecodedFrame(), key: newKey(), inPort: 0, outputs: [], into: undefined, trace: undefined, depth: 0, resubmits: 0, error: undefined, controller: 0, now: 0, table: 0, last: true, tableCol: 0, actionCol: 4, learn: true };
  macAgingSeconds = DEFAULT_MAC_AGING_S;
  /** Bound on learned MACs; the oldest is evicted (and counted) beyond it. */
  macLimit = 8192;
  /** Learned MACs over every VLAN's table (kept as they change: a new MAC checks the bound without a walk). */
  private macTotal = 0;
  macEvictions = 0;
  /** When set, what packets do to the bridge is recorded here (see {@link BridgeEffects}). */
  effects: BridgeEffects | undefined;
  /** Bumped whenever the flow tables change: cached decisions of an older version are void. */
  version = 0;
  /** Bumped whenever the MAC table changes other than by a refresh (learned, moved, aged out, evicted, flushed). */
  private macChanges = 0;
  /** Bumped whenever a MAC is learned anew: a megaflow that flooded for want of an entry looks again. */
  private macInserts = 0;
  private readonly mf: MegaflowTable | undefined;
  private readonly mfLimit: number;
  /** The flow-table version the megaflows were made under. */
  private mfVersion = 0;
  private readonly rec = new Recording();
  private readonly mfStats = { hits: 0, misses: 0, stale: 0, uncacheable: 0, bypassed: 0, flushes: 0 };
  /** Registers and metadata kept across a re-decode. */
  private readonly kept = new Uint32Array(KEY_SLOTS - Slot.METADATA_HI);
  /** NORMAL's re-tagged copy of a packet for one port. */
  private tagBuf = new Uint8Array(2048);

  constructor(name: string, ports: BridgePort[] = [], options: BridgeOptions = {}) {
    this.name = name;
    const mega = options.megaflows ?? true;
    this.mf = mega === false ? undefined : new MegaflowTable();
    this.mfLimit = (mega === true || mega === false ? undefined : mega.maxEntries) ?? DEFAULT_MEGAFLOW_LIMIT;
    this.ports.set(Port.LOCAL, { name, ofport: Port.LOCAL });
    for (const p of ports) this.addPort(p);
  }

  /** The megaflow cache's counters (all 0 when it is off). */
  megaflowStats(): MegaflowStats {
    return { ...this.mfStats, entries: this.mf?.size ?? 0, masks: this.mf?.masks ?? 0 };
  }

  /** Drops every megaflow (what they rest on changed for all of them). */
  private flushMegaflows(): void {
    if (this.mf === undefined) return;
    if (this.mf.size > 0) this.mfStats.flushes++;
    this.mf.clear();
    this.mfVersion = this.version;
  }

  addPort(port: BridgePort): void {
    if (port.ofport <= 0 || port.ofport >= 0xff00) throw new BridgeError(`port ${port.name}: ofport ${port.ofport} is not 1–65279`);
    for (const p of this.ports.values()) if (p.name === port.name) throw new BridgeError(`port name ${port.name} is taken`);
    if (this.ports.has(port.ofport)) throw new BridgeError(`ofport ${port.ofport} is taken by ${this.ports.get(port.ofport)!.name}`);
    this.ports.set(port.ofport, port);
    this.portOrder = undefined;
    // Floods and NORMAL's VLAN decisions go through the ports.
    this.flushMegaflows();
  }

  /** Port names → ofport, for parsing flows that name ports. */
  get portNames(): ReadonlyMap<string, number> {
    return new Map([...this.ports.values()].map((p) => [p.name, p.ofport]));
  }

  portByName(name: string): BridgePort | undefined {
    return [...this.ports.values()].find((p) => p.name === name);
  }

  /** Adds flows (parsed from `ovs-ofctl` text, or already parsed). */
  addFlows(flows: string | Flow[], options: ParseOptions = {}): Flow[] {
    const list = typeof flows === 'string' ? parseFlows(flows, { ports: this.portNames, ...options }) : flows;
    this.version++;
    flowTableChanges++;
    for (const f of list) {
      f.seq = this.seq++;
      let t = this.tables.get(f.table);
      if (!t) this.tables.set(f.table, (t = new Classifier()));
      t.insert(f);
    }
    return list;
  }

  /** Removes every flow. */
  clearFlows(): void {
    this.version++;
    flowTableChanges++;
    this.tables.clear();
  }

  /** Removes one flow (as returned by {@link addFlows} or {@link flows}); false when the bridge does not hold it. */
  removeFlow(flow: Flow): boolean {
    if (this.tables.get(flow.table)?.remove(flow) !== true) return false;
    this.version++;
    flowTableChanges++;
    return true;
  }

  /** All flows by table, then priority (highest first). */
  flows(): Flow[] {
    const out: Flow[] = [];
    for (const table of [...this.tables.keys()].sort((a, b) => a - b)) {
      out.push(...[...this.tables.get(table)!.flows()].sort((a, b) => b.priority - a.priority || a.seq - b.seq));
    }
    return out;
  }

  /** `ovs-ofctl dump-flows`-style text (by table, highest priority first). */
  dumpFlows(options: { stats?: boolean } = {}): string {
    return this.flows().map((f) => formatFlow(f, options)).join('\n') + '\n';
  }

  /** What NORMAL has learned: VLAN, MAC (as a number), port and when last seen — for tests and reports. */
  learnedMacs(): Array<{ vlan: number; mac: number; port: number; seen: number }> {
    const out: Array<{ vlan: number; mac: number; port: number; seen: number }> = [];
    for (const [vlan, table] of this.macs) for (const [mac, e] of table) out.push({ vlan, mac, port: e.port, seen: e.seen });
    return out.sort((a, b) => a.vlan - b.vlan || a.mac - b.mac);
  }

  /** Credits a rule with a packet of `bytes`, as a hit would: its `n_packets` and `n_bytes`. */
  credit(flow: Flow, bytes: number): void {
    flow.nPackets++;
    flow.nBytes += bytes;
  }

  /**
   * What NORMAL's lookup of `mac`, in the MAC table learning `l` was made in (the same VLAN), does at `now`: the
   * learned port while the entry is fresh; -1 when there is no entry (it floods, the table unchanged); -2 when
   * the entry has aged out (it floods and forgets the entry: a table change). A cache replaying a NORMAL run asks
   * this rather than reading the table and repeating the ageing rule.
   */
  normalLookup(l: MacLearned, mac: number, now: number): number {
    return this.entryLookup(l.table.get(mac), now);
  }

  /**
   * {@link normalLookup} in two halves, for a cache that asks about one destination frame after frame: the entry the
   * lookup of the MAC `hi` × 2^32 + (`lo` >>> 0) finds (undefined: none), which the cache may keep while
   * {@link entryStands} … The MAC as the two words of the cache's key (MacTable.getHalves): the cache asks about a
   * new destination every few frames, and a 48-bit number passed to a call would be a new heap number each time.
   */
  normalEntry(l: MacLearned, hi: number, lo: number): MacEntry | undefined {
    return l.table.getHalves(hi, lo);
  }

  /** … and what NORMAL does with it at `now` (as normalLookup: the port, -1 for no entry, -2 aged out). */
  entryLookup(entry: MacEntry | undefined, now: number): number {
    if (entry === undefined) return -1;
    return this.isFresh(entry, now) ? entry.port : -2;
  }

  /** Whether an entry {@link normalEntry} found is still the table's for its MAC (a removed entry's port is -1: see learnedStill). */
  entryStands(entry: MacEntry): boolean {
    return entry.port !== -1;
  }

  /** Whether NORMAL still forwards on a learned entry at `now` (OVS's mac-aging-time). */
  private isFresh(entry: MacEntry, now: number): boolean {
    return now - entry.seen <= this.macAgingSeconds * 1000;
  }

  /**
   * Whether a learning recorded earlier still stands: the table holds that very entry, on that port. Every removal
   * of an entry (aged out, evicted, flushed) sets its port to -1 and a MAC is never given a second entry while
   * it has one, so the entry's port says it — no lookup of a 48-bit key (a heap number per call) in the table.
   */
  learnedStill(l: MacLearned): boolean {
    return l.entry.port === l.port;
  }

  /**
   * Replays recorded effects for one more packet: every rule credited, every MAC it refreshed seen again at
   * `now`. The caller checked the MAC entries still stand ({@link learnedStill}) and that none was new.
   */
  replayEffects(e: BridgeEffects, now: number): void {
    const rules = e.rules;
    for (let i = 0; i < rules.length; i++) {
      const f = rules[i]!;
      f.nPackets++;
      f.nBytes += e.bytes[i]!;
    }
    const macs = e.macs;
    for (let i = 0; i < macs.length; i++) macs[i]!.entry.seen = now;
  }

  /**
   * Whether NORMAL, learning `mac` in the table learning `l` was made in, would make a new entry without forgetting
   * another: that table is still the bridge's (a flush drops the tables), holds no entry for `mac` (aged or not: an
   * aged one would be refreshed, not made anew), and the bridge is below its MAC limit. A cache checks this before
   * {@link learnAnew}.
   */
  canLearnAnew(l: MacLearned, mac: number): boolean {
    if (this.macTotal >= this.macLimit || l.table.has(mac)) return false;
    for (const t of this.macs.values()) if (t === l.table) return true;
    return false;
  }

  /**
   * Replays NORMAL's learning of a MAC it held no entry for, as recorded in `l` (its table and port), for `mac` at
   * `now` — counted as a packet's learning is (the MAC table's change and insert counts the megaflows look at).
   * The caller checked {@link canLearnAnew}.
   */
  learnAnew(l: MacLearned, mac: number, now: number): void {
    this.learnNew(l.table, mac, l.port, now);
  }

  /** Forgets learned MACs. */
  flushMacs(): void {
    for (const t of this.macs.values()) for (const e of t.values()) e.port = -1;
    this.macs.clear();
    this.macTotal = 0;
    this.macChanges++;
    this.flushMegaflows();
  }

  /**
   * Processes one packet arriving on `inPort` at simulated time `now` (ms). `frame[0, length)` is copied;
   * outputs are fresh arrays. With `trace`, every decision is appended to it. `learn: false`: NORMAL learns no
   * source MAC — what `ofproto/trace` does for a microflow (ovs-vswitchd 3.1: a trace of a packet given as hex
   * learns, a trace of a microflow does not, so a microflow without MACs floods).
   */
  process(frame: Uint8Array, inPort: number, options: { length?: number; now?: number; trace?: TraceStep[]; learn?: boolean } = {}): ProcessResult {
    const x = this.run(frame, inPort, options.length ?? frame.length, options.now ?? 0, options.trace, options.learn ?? true, undefined);
    if (x.error) return { outputs: [], drop: true, controller: x.controller, error: x.error };
    return { outputs: x.outputs, drop: x.outputs.length === 0, controller: x.controller };
  }

  /**
   * {@link process} without allocation, untraced: `frame[0, length)` arriving on `inPort` at `now`, the outputs
   * written into `out` (the caller's, so a bridge a packet re-enters before its outputs are used writes elsewhere).
   * A translation error leaves `out.count` 0 and sets `out.error`.
   */
  processInto(frame: Uint8Array, length: number, inPort: number, now: number, out: BridgeOutcome): BridgeOutcome {
    out.count = 0;
    const x = this.run(frame, inPort, length, now, undefined, true, out);
    out.controller = x.controller;
    out.error = x.error;
    if (x.error) out.count = 0;
    return out;
  }

  private run(frame: Uint8Array, inPort: number, length: number, now: number, trace: TraceStep[] | undefined, learn: boolean, into: BridgeOutcome | undefined): Xlate {
    if (!this.ports.has(inPort)) throw new BridgeError(`in_port ${inPort} is not a port of ${this.name} (ports: ${[...this.ports.keys()].join(', ')})`);
    // Scratch state is reused from packet to packet (the bridge is not re-entrant): only the packets that
    // leave the bridge are new arrays (or, with `into`, the caller's buffers).
    const x = this.scratch;
    if (x.buf.length < length + HEADROOM) x.buf = new Uint8Array(length + HEADROOM);
    if (length === frame.length) x.buf.set(frame);
    else x.buf.set(frame.subarray(0, length));
    x.length = length;
    x.inPort = inPort;
    x.outputs = into === undefined ? [] : NO_OUTPUTS;
    x.into = into;
    x.trace = trace;
    x.depth = 0;
    x.resubmits = 0;
    x.error = undefined;
    x.controller = 0;
    x.now = now;
    x.learn = learn;
    x.table = 0;
    x.tableCol = 0;
    x.actionCol = 4;
    x.rec = undefined;
    this.decoder.decode(x.buf, x.d, length);
    extractKey(x.buf, x.d, inPort, x.key);
    // A traced packet tells its story table by table; a microflow trace must not learn: both take the tables.
    if (this.mf !== undefined && trace === undefined && learn) this.cached(x, this.mf);
    else this.runTable(x, 0, false);
    if (x.error) {
      // OVS: "Translation failed (<xlate_strerror>), packet is dropped." — outputs already composed go too.
      x.trace?.push({ kind: 'drop', reason: `translation failed (${x.error === 'RECURSION_TOO_DEEP' ? 'Recursion too deep' : 'Too many resubmits'}), packet is dropped`, indent: 4 });
    } else if ((into === undefined ? x.outputs.length : into.count) === 0) x.trace?.push({ kind: 'drop', reason: 'no output', indent: 4 });
    return x;
  }

  /**
   * The packet through the megaflow cache: a hit replays its entry; a miss translates through the tables while
   * recording, and installs the result when it can stand for every packet its wildcards match.
   */
  private cached(x: Xlate, mf: MegaflowTable): void {
    const d = x.d;
    const st = this.mfStats;
    // A malformed frame's key leaves out bytes the actions read (a TTL past a cut header); QinQ deeper than two
    // tags would need more tags in the key. Rare: they take the tables.
    if (d.status !== DecodeStatus.OK || d.vlanCount > 2) {
      st.bypassed++;
      this.runTable(x, 0, false);
      return;
    }
    if (this.version !== this.mfVersion) this.flushMegaflows();
    const k = x.key;
    const w0 = (k[Slot.IN_PORT]! << 16) | k[Slot.DL_TYPE]!;
    // The layout; an ARP whose SPA is its TPA (NORMAL's gratuitous test) as a layout of its own, so that NORMAL
    // need not read the addresses; and, as the sign, whether the input port's VLAN table holds no entry for the
    // packet's unicast source (NORMAL would learn it anew): such a translation is kept without the source.
    const garp = d.l3 === L3.ARP && d.arpSpa === d.arpTpa;
    const src = k[Slot.DL_SRC_HI]! * 2 ** 32 + k[Slot.DL_SRC_LO]!;
    const srcTable = this.srcTable(x);
    const srcNew = (x.buf[6]! & 1) === 0 && (srcTable === undefined || !srcTable.has(src));
    const layout = (garp ? 7 : d.l3) | (d.vlanCount << 3) | (d.l4Offset >= 0 ? 32 : 0) | (d.ipProto << 6) | ((d.vlanCount > 1 ? d.vlanTci[1]! : 0) << 14);
    const w1 = srcNew ? -1 - layout : layout;
    const e = mf.lookup(k, w0, w1);
    if (e !== undefined) {
      if (this.standing(e, x.now)) {
        st.hits++;
        this.replay(x, e, src);
        return;
      }
      mf.remove(e);
      st.stale++;
    }
    st.misses++;
    const rec = this.rec;
    // The actions edit the key as they go; the entry is keyed by the packet as it came.
    rec.key.set(k);
    rec.begin(x.length, this.macChanges);
    rec.inGarp = garp;
    x.rec = rec;
    this.runTable(x, 0, false);
    x.rec = undefined;
    // A translation that changed the MAC table decided on the table as it was before: the next packet, seeing the
    // change, may go elsewhere (a gratuitous ARP's sender learned after its lookup). It installs nothing; the next
    // packet's translation, which only refreshes, does (OVS revalidates after a learning for the same reason) —
    // except a flood of a multicast frame whose one NORMAL learned the packet's own source (no action wrote it) anew,
    // on the input port, in the table the key's sign looked in, and changed nothing else: no decision read the
    // table, and a hit learns as it did.
    const learnedAnew = rec.macChanges + 1 === this.macChanges && srcNew && srcTable !== undefined && rec.normals.length === 1 && rec.normals[0]!.srcNew && rec.normals[0]!.dstKind === MfDst.NONE && rec.normals[0]!.table === srcTable && rec.normals[0]!.srcMac === src && rec.normals[0]!.srcPort === rec.key[Slot.IN_PORT] && rec.clean[Slot.DL_SRC_HI] === 0xffffffff && rec.clean[Slot.DL_SRC_LO] === 0xffffffff;
    if (x.error !== undefined || (rec.macChanges !== this.macChanges && !learnedAnew) || rec.rules.length > MF_MAX_RULES || rec.ops.length > 3 * MF_MAX_OPS) {
      st.uncacheable++;
      return;
    }
    if (mf.size >= this.mfLimit) this.flushMegaflows();
    mf.insert(rec.entry(mf, rec.key, w0, w1, x.controller));
  }

  /**
   * Whether the MAC entries a megaflow's NORMAL decisions rest on still stand as they were: the same entries on the
   * same ports (an entry removed from its table has port -1), the destination still fresh — or, for a flood, still
   * unknown (looked up again only when a MAC was learned since).
   */
  private standing(e: MfEntry, now: number): boolean {
    const normals = e.normals;
    for (let i = 0; i < normals.length; i++) {
      const n = normals[i]!;
      if (n.src !== undefined && n.src.port !== n.srcPort) return false;
      if (n.dstKind === MfDst.LEARNED) {
        const dst = n.dst!;
        if (dst.port !== n.dstPort || now - dst.seen > this.macAgingSeconds * 1000) return false;
      } else if (n.dstKind === MfDst.ABSENT && n.inserts !== this.macInserts) {
        if (n.table!.has(n.dstMac)) return false;
        n.inserts = this.macInserts;
      }
    }
    return true;
  }

  /**
   * The VLAN table NORMAL would learn the packet's source in, as it came (its input port's VLAN for its tag), if
   * that table exists; undefined otherwise (an unknown port, a VLAN the port does not carry, a VLAN not seen yet).
   */
  private srcTable(x: Xlate): MacTable<MacEntry> | undefined {
    const inP = this.ports.get(x.key[Slot.IN_PORT]!);
    if (inP === undefined) return undefined;
    const tagged = x.d.vlanCount > 0;
    const vlan = this.portVlan(inP, tagged, tagged ? x.d.vid(0) : 0);
    return vlan < 0 ? undefined : this.macs.get(vlan);
  }

  /** A megaflow hit: the rules credited, the MACs refreshed, the datapath actions run on the packet. */
  private replay(x: Xlate, e: MfEntry, src: number): void {
    e.hits++;
    const fx = this.effects;
    const prog = e.program;
    const rules = prog.rules;
    const delta = prog.byteDelta;
    for (let i = 0; i < rules.length; i++) {
      const f = rules[i]!;
      const bytes = x.length + delta[i]!;
      f.nPackets++;
      f.nBytes += bytes;
      if (fx !== undefined) {
        fx.rules.push(f);
        fx.bytes.push(bytes);
      }
    }
    const normals = e.normals;
    for (let i = 0; i < normals.length; i++) {
      const n = normals[i]!;
      // Learned anew: the packet's own source (the key holds that it is in no entry, not which it is).
      if (n.srcNew) this.learnNew(n.table as MacTable<MacEntry>, src, n.srcPort, x.now);
      if (n.src === undefined) continue;
      n.src.seen = x.now;
      if (fx !== undefined) fx.macs.push(n.learned as MacLearned);
    }
    if (fx !== undefined) fx.normal += normals.length;
    const ops = prog.ops;
    for (let i = 0; i < ops.length; i += 3) {
      const a = ops[i + 1]!;
      switch (ops[i]) {
        case MfOp.SET:
          this.set(x, prog.actions[i / 3] as Extract<Action, { kind: 'set' }>);
          break;
        case MfOp.PUSH_VLAN:
          this.pushTag(x, a);
          break;
        case MfOp.POP_VLAN:
          this.popTag(x);
          break;
        case MfOp.WRITE_TCI:
          this.writeTci(x, a);
          break;
        case MfOp.PUSH_TCI:
          this.pushTci(x, a);
          break;
        case MfOp.DEC_TTL:
          this.decTtl(x);
          break;
        case MfOp.OUTPUT:
          this.send(x, a);
          break;
        case MfOp.OUTPUT_NORMAL:
          this.emitNormal(x, a, ops[i + 2]!);
          break;
      }
    }
    x.controller = prog.controller;
  }

  /** A lookup in `table`: the first one (table 0), or a resubmit/goto_table from the current table. */
  private runTable(x: Xlate, table: number, resubmit = true): void {
    if (x.error) return;
    if (resubmit) {
      // OVS's resource check, before the lookup (xlate_resubmit_resource_check): depth first, then the total.
      if (x.depth >= MAX_RESUBMIT_DEPTH) {
        x.error = 'RECURSION_TOO_DEEP';
        x.trace?.push({ kind: 'drop', reason: `over max translation depth ${MAX_RESUBMIT_DEPTH}`, indent: x.actionCol + 1 });
        return;
      }
      if (x.resubmits >= MAX_RESUBMITS) {
        x.error = 'TOO_MANY_RESUBMITS';
        x.trace?.push({ kind: 'drop', reason: `over ${MAX_RESUBMITS} resubmit actions`, indent: x.actionCol + 1 });
        return;
      }
    }
    const cls = this.tables.get(table);
    const rec = x.rec;
    const flow = cls === undefined ? undefined : rec === undefined ? cls.lookup(x.key) : cls.lookup(x.key, rec.wc, rec.clean);
    x.trace?.push({ kind: 'lookup', table, inPort: x.key[Slot.IN_PORT]!, flow: flow ? matchText(flow) : null, priority: flow?.priority ?? null, cookie: flow ? `0x${flow.cookie.toString(16)}` : null, indent: x.tableCol, actionIndent: x.actionCol });
    if (!flow) return; // table miss: drop (no controller in this model)
    flow.nPackets++;
    flow.nBytes += x.length;
    if (this.effects) {
      this.effects.rules.push(flow);
      this.effects.bytes.push(x.length);
    }
    if (rec !== undefined) {
      rec.rules.push(flow);
      rec.bytes.push(x.length - rec.inLength);
    }
    const saved = x.table;
    // OVS xlate_recursively: every resubmit that finds a rule counts; only one to the same or an earlier table deepens.
    const deepens = resubmit && table <= saved ? 1 : 0;
    if (resubmit) x.resubmits++;
    x.table = table;
    x.depth += deepens;
    const actions = flow.actions;
    for (let i = 0; i < actions.length; i++) {
      x.last = i === actions.length - 1;
      if (x.error || this.execute(x, actions[i]!) === STOP) break;
    }
    x.depth -= deepens;
    x.table = saved;
  }

  /** Runs one action; returns {@link STOP} when the rest of this action list must not run. */
  private execute(x: Xlate, a: Action): void | typeof STOP {
    if (x.trace) x.trace.push({ kind: 'action', table: x.table, action: actionText(a), indent: x.actionCol });
    switch (a.kind) {
      case 'output':
        return this.output(x, a.port);
      case 'drop':
        return;
      case 'set':
        return this.set(x, a);
      case 'push_vlan':
        return this.pushTag(x, a.tpid);
      case 'pop_vlan':
        // Whether there is a tag to pop is the packet's to say.
        x.rec?.reads(Slot.VLAN_TCI, 0x1000);
        if (x.d.vlanCount > 0) this.popTag(x);
        return;
      case 'load':
        return this.writeField(x, a.dst, a.value);
      case 'move':
        return this.writeField(x, a.dst, this.readField(x, a.src));
      case 'resubmit': {
        const port = a.port === undefined ? x.key[Slot.IN_PORT]! : a.port === Port.IN_PORT ? x.key[Slot.IN_PORT]! : a.port;
        const saved = x.key[Slot.IN_PORT]!;
        x.key[Slot.IN_PORT] = port;
        this.nested(x, a.table ?? x.table);
        x.key[Slot.IN_PORT] = saved;
        return;
      }
      case 'goto_table':
        return this.nested(x, a.table);
      case 'dec_ttl':
        if (x.d.l3 !== L3.IPV4 && x.d.l3 !== L3.IPV6) return;
        if (!this.decTtl(x)) {
          // OVS compose_dec_ttl: an expiring TTL goes to the controller (invalid_ttl) and the rest of this
          // action list is skipped; an enclosing resubmit's list goes on.
          x.controller++;
          x.trace?.push({ kind: 'drop', reason: 'dec_ttl: TTL expired (sent to controller, counted); rest of this action list skipped', indent: x.actionCol + 1 });
          return STOP;
        }
        return;
      case 'controller':
        x.controller++;
        return;
      case 'note':
        return;
    }
  }

  /** A table called from an action: traced nested under it, or at its level when it is the list's last action. */
  private nested(x: Xlate, table: number): void {
    const tableCol = x.tableCol;
    const actionCol = x.actionCol;
    if (x.last) x.tableCol = actionCol - 4;
    else {
      x.tableCol = actionCol;
      x.actionCol = actionCol + 8;
    }
    this.runTable(x, table);
    x.tableCol = tableCol;
    x.actionCol = actionCol;
  }

  private redecode(x: Xlate): void {
    const inPort = x.key[Slot.IN_PORT]!;
    const kept = this.kept;
    for (let i = 0; i < kept.length; i++) kept[i] = x.key[Slot.METADATA_HI + i]!;
    this.decoder.decode(x.buf, x.d, x.length);
    extractKey(x.buf, x.d, inPort, x.key);
    x.key.set(kept, Slot.METADATA_HI);
  }

  // The datapath actions: run by a translation (which records them when it becomes a megaflow) and by a replay.

  /** push_vlan: a new outer tag, a copy of the present outer TCI (or 0). */
  private pushTag(x: Xlate, tpid: number): void {
    x.rec?.vlanOp(MfOp.PUSH_VLAN, tpid);
    const tci = x.d.vlanCount > 0 ? x.d.vlanTci[0]! : 0;
    x.length = pushVlan(x.buf, x.length, tci, tpid);
    this.redecode(x);
  }

  private popTag(x: Xlate): void {
    x.rec?.vlanOp(MfOp.POP_VLAN, 0);
    x.length = popVlan(x.buf, x.length);
    this.redecode(x);
  }

  private writeTci(x: Xlate, tci: number): void {
    x.rec?.vlanOp(MfOp.WRITE_TCI, tci);
    write16(x.buf, 14, tci);
    this.redecode(x);
  }

  private pushTci(x: Xlate, tci: number): void {
    x.rec?.vlanOp(MfOp.PUSH_TCI, tci);
    x.length = pushVlan(x.buf, x.length, tci);
    this.redecode(x);
  }

  /** dec_ttl on an IP packet: false (nothing written) when the TTL expires. */
  private decTtl(x: Xlate): boolean {
    const rec = x.rec;
    if (rec !== undefined) {
      // Whether it expires is the TTL's to say.
      rec.reads(Slot.NW_TTL, 0xff);
      rec.op(MfOp.DEC_TTL, 0, 0);
    }
    if (decrementTtl(x.buf, x.d) < 0) return false;
    x.key[Slot.NW_TTL] = x.d.ipTtl;
    return true;
  }

  private set(x: Xlate, a: Extract<Action, { kind: 'set' }>): void {
    const d = x.d;
    const rec = x.rec;
    // The rewrite is recorded as it is and run again on each hit: its branches below follow the layout and the
    // protocol, which every megaflow matches, and its checksum updates follow the packet's own bytes. The words
    // it writes become the rule's constants.
    rec?.op(MfOp.SET, 0, 0, a);
    switch (a.field) {
      // Rewrites that move no header keep the decoded offsets: update the key in place, no re-decode.
      case 'dl_src':
      case 'dl_dst': {
        const m = a.mac!;
        rewriteMac(x.buf, a.field === 'dl_src' ? 6 : 0, m);
        const hi = a.field === 'dl_src' ? Slot.DL_SRC_HI : Slot.DL_DST_HI;
        x.key[hi] = (m[0]! << 8) | m[1]!;
        x.key[hi + 1] = ((m[2]! << 24) | (m[3]! << 16) | (m[4]! << 8) | m[5]!) >>> 0;
        if (rec !== undefined) rec.clean[hi] = rec.clean[hi + 1] = 0;
        return;
      }
      case 'nw_src':
      case 'nw_dst': {
        if (d.l3 !== L3.IPV4) return;
        rewriteIpv4Address(x.buf, d, a.field === 'nw_src' ? 12 : 16, a.value);
        const slot = a.field === 'nw_src' ? Slot.NW_SRC : Slot.NW_DST;
        x.key[slot] = a.value >>> 0;
        if (rec !== undefined) rec.clean[slot] = 0;
        return;
      }
      case 'tp_src':
      case 'tp_dst': {
        if (d.l4Offset < 0) return;
        const slot = a.field === 'tp_src' ? Slot.TP_SRC : Slot.TP_DST;
        if (d.ipProto === 6 || d.ipProto === 17) {
          rewritePort(x.buf, d, a.field === 'tp_src' ? 0 : 2, a.value);
          x.key[slot] = a.value;
          if (rec !== undefined) rec.clean[slot] = 0;
          return;
        }
        if ((d.ipProto === 1 && d.l3 === L3.IPV4) || (d.ipProto === 58 && d.l3 === L3.IPV6)) {
          // For ICMP, tp_src/tp_dst are the type and code (OVS flow.h): the low 8 bits are written.
          const at = d.l4Offset;
          const old = read16(x.buf, at);
          x.buf[at + (a.field === 'tp_src' ? 0 : 1)] = a.value & 0xff;
          write16(x.buf, at + 2, checksumAdjust16(read16(x.buf, at + 2), old, read16(x.buf, at)));
          if (rec !== undefined) rec.clean[slot] = 0;
          break;
        }
        return;
      }
      case 'nw_tos': {
        if (rec !== undefined) rec.clean[Slot.NW_TOS] = 0;
        const at = d.l3Offset;
        if (d.l3 === L3.IPV4) {
          const old = read16(x.buf, at);
          x.buf[at + 1] = (x.buf[at + 1]! & 3) | a.value;
          write16(x.buf, at + 10, checksumAdjust16(read16(x.buf, at + 10), old, read16(x.buf, at)));
        } else if (d.l3 === L3.IPV6) {
          // The DSCP bits of the traffic class, which straddles bytes 0–1; IPv6 has no header checksum.
          const tc = (((x.buf[at]! & 0x0f) << 4) | (x.buf[at + 1]! >> 4)) & 3 | a.value;
          x.buf[at] = 0x60 | (tc >> 4);
          x.buf[at + 1] = ((tc & 0x0f) << 4) | (x.buf[at + 1]! & 0x0f);
        } else return;
        break;
      }
      case 'vlan_vid':
      case 'vlan_pcp': {
        if (rec !== undefined) {
          // The other part of the TCI stays the packet's.
          rec.reads(Slot.VLAN_TCI, 0xffffffff);
          rec.clean[Slot.VLAN_TCI] = 0;
        }
        if (d.vlanCount === 0) {
          // OpenFlow 1.0 mod_vlan_*: on an untagged packet, push a tag first (OVS push_vlan_if_needed).
          if (!a.pushIfNeeded) return;
          x.length = pushVlan(x.buf, x.length, 0, 0x8100);
          this.redecode(x);
        }
        const tci = read16(x.buf, 14);
        write16(x.buf, 14, a.field === 'vlan_vid' ? (tci & 0xf000) | a.value : (tci & 0x1fff) | (a.value << 13));
        break;
      }
    }
    this.redecode(x);
  }

  /** The slots of a header field a load or move reads (all of it: a conservative megaflow, as OVS's for moves). */
  private static readonly HEADER_SLOTS: Record<NonNullable<FieldRef['header']>, readonly number[]> = {
    dl_src: [Slot.DL_SRC_HI, Slot.DL_SRC_LO], dl_dst: [Slot.DL_DST_HI, Slot.DL_DST_LO], nw_src: [Slot.NW_SRC], nw_dst: [Slot.NW_DST],
    tp_src: [Slot.TP_SRC], tp_dst: [Slot.TP_DST], nw_tos: [Slot.NW_TOS], vlan_vid: [Slot.VLAN_TCI], vlan_pcp: [Slot.VLAN_TCI],
    in_port: [Slot.IN_PORT], vlan_tci: [Slot.VLAN_TCI],
  };

  private readField(x: Xlate, r: FieldRef): bigint {
    if (x.rec !== undefined) {
      // A header field read into a register or another field: its value decides what follows (registers and
      // metadata start at 0, so reading them reads nothing of the packet).
      const slots = r.slot !== undefined ? (r.width === 64 ? [r.slot, r.slot + 1] : [r.slot]) : Bridge.HEADER_SLOTS[r.header!];
      for (const s of slots) x.rec.reads(s, 0xffffffff);
    }
    let v: bigint;
    if (r.slot !== undefined) {
      v = r.width === 64 ? (BigInt(x.key[r.slot]!) << 32n) | BigInt(x.key[r.slot + 1]!) : BigInt(x.key[r.slot]!);
    } else {
      switch (r.header) {
        case 'dl_src':
          v = (BigInt(x.key[Slot.DL_SRC_HI]!) << 32n) | BigInt(x.key[Slot.DL_SRC_LO]!);
          break;
        case 'dl_dst':
          v = (BigInt(x.key[Slot.DL_DST_HI]!) << 32n) | BigInt(x.key[Slot.DL_DST_LO]!);
          break;
        case 'nw_src':
          v = BigInt(x.key[Slot.NW_SRC]!);
          break;
        case 'nw_dst':
          v = BigInt(x.key[Slot.NW_DST]!);
          break;
        case 'tp_src':
          v = BigInt(x.key[Slot.TP_SRC]!);
          break;
        case 'tp_dst':
          v = BigInt(x.key[Slot.TP_DST]!);
          break;
        case 'in_port':
          v = BigInt(x.key[Slot.IN_PORT]!);
          break;
        case 'vlan_tci':
          v = BigInt(x.key[Slot.VLAN_TCI]!);
          break;
        default:
          v = 0n;
      }
    }
    return (v >> BigInt(r.ofs)) & ((1n << BigInt(r.nbits)) - 1n);
  }

  private writeField(x: Xlate, r: FieldRef, value: bigint): void {
    const mask = ((1n << BigInt(r.nbits)) - 1n) << BigInt(r.ofs);
    const merged = (this.readField(x, { ...r, ofs: 0, nbits: r.width }) & ~mask) | ((value << BigInt(r.ofs)) & mask);
    if (r.slot !== undefined) {
      if (r.width === 64) {
        x.key[r.slot] = Number(merged >> 32n);
        x.key[r.slot + 1] = Number(merged & 0xffffffffn);
      } else x.key[r.slot] = Number(merged);
      return;
    }
    const n = Number(merged & 0xffffffffn);
    switch (r.header) {
      case 'dl_src':
      case 'dl_dst': {
        const mac = Uint8Array.of(Number((merged >> 40n) & 0xffn), Number((merged >> 32n) & 0xffn), n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
        return this.set(x, { kind: 'set', field: r.header, value: 0, mac });
      }
      case 'nw_src':
      case 'nw_dst':
      case 'tp_src':
      case 'tp_dst':
        return this.set(x, { kind: 'set', field: r.header, value: n });
      case 'in_port':
        x.key[Slot.IN_PORT] = n;
        return;
      case 'vlan_tci':
        if (x.d.vlanCount > 0 && n & 0x1000) this.writeTci(x, n & 0xefff);
        else if (x.d.vlanCount > 0) this.popTag(x);
        else if (n & 0x1000) this.pushTci(x, n & 0xefff);
        return;
    }
  }

  /** The packet as it is, out of `port` (a datapath output). */
  private send(x: Xlate, port: number): void {
    x.rec?.op(MfOp.OUTPUT, port, 0);
    this.emit(x, port);
  }

  private emit(x: Xlate, port: number, buf = x.buf, length = x.length): void {
    if (x.into !== undefined) {
      x.into.put(port, buf, length);
      return;
    }
    const packet = buf.slice(0, length);
    x.outputs.push({ port, packet });
    x.trace?.push({ kind: 'output', port, packet: Buffer.from(packet).toString('hex') });
  }

  private output(x: Xlate, port: number): void {
    const inPort = x.key[Slot.IN_PORT]!;
    switch (port) {
      case Port.IN_PORT:
        return this.send(x, inPort);
      case Port.NORMAL:
        return this.normal(x);
      case Port.FLOOD:
      case Port.ALL:
        for (const p of this.sortedPorts()) if (p !== inPort) this.send(x, p);
        return;
      case Port.CONTROLLER:
        x.controller++;
        return;
      default:
        if (port === inPort) {
          x.trace?.push({ kind: 'drop', reason: `skipping output to input port ${port}`, indent: x.actionCol + 1 });
          return;
        }
        if (!this.ports.has(port)) {
          x.trace?.push({ kind: 'drop', reason: `output to nonexistent port ${port}`, indent: x.actionCol + 1 });
          return;
        }
        return this.send(x, port);
    }
  }

  /** Ports in number order (floods and NORMAL go through them), sorted once per change of ports. */
  private portOrder: number[] | undefined;

  private sortedPorts(): number[] {
    return (this.portOrder ??= [...this.ports.keys()].sort((a, b) => a - b));
  }

  private portVlan(p: BridgePort, tagged: boolean, vid: number): number {
    // OVS bridge.c/xlate: an access port takes untagged frames into its VLAN and drops tagged ones;
    // a trunk takes tagged frames of its trunks, and untagged frames as VLAN 0.
    if (p.tag !== undefined) return tagged ? -1 : p.tag;
    if (!tagged) return 0;
    if (p.trunks && p.trunks.length && !p.trunks.includes(vid)) return -1;
    return vid;
  }

  private carries(p: BridgePort, vlan: number): boolean {
    if (p.tag !== undefined) return p.tag === vlan;
    return !p.trunks || p.trunks.length === 0 || p.trunks.includes(vlan) || vlan === 0;
  }

  /** NORMAL: the MAC-learning L2 switch of OVS's xlate_normal, with VLAN port modes and ageing. */
  private normal(x: Xlate): void {
    if (this.effects) this.effects.normal++;
    const rec = x.rec;
    let dep: MfNormal | undefined;
    if (rec !== undefined) {
      // NORMAL reads the VLAN, both MACs (learning, lookup, multicast bits) and, for ARP, whether it is gratuitous.
      rec.normals.push((dep = new MfNormal()));
      rec.reads(Slot.VLAN_TCI, 0xffffffff);
      rec.reads(Slot.DL_DST_HI, 0xffffffff);
      rec.reads(Slot.DL_DST_LO, 0xffffffff);
      // The source is read below, once learned: a source learned anew is keyed by its absence, not its value.
      // Whether an ARP is gratuitous is the exact words' to say while both addresses are the packet's own.
      if (x.d.l3 === L3.ARP && !(rec.clean[Slot.NW_SRC] === 0xffffffff && rec.clean[Slot.NW_DST] === 0xffffffff && rec.inGarp === (x.d.status === 0 && x.d.arpSpa === x.d.arpTpa))) {
        rec.reads(Slot.NW_SRC, 0xffffffff);
        rec.reads(Slot.NW_DST, 0xffffffff);
      }
    }
    const inPort = x.key[Slot.IN_PORT]!;
    const inP = this.ports.get(inPort);
    if (!inP) {
      if (rec !== undefined) readsSource(rec);
      return;
    }
    const tagged = x.d.vlanCount > 0;
    const vid = tagged ? x.d.vid(0) : 0;
    const vlan = this.portVlan(inP, tagged, vid);
    if (vlan < 0) {
      if (rec !== undefined) readsSource(rec);
      x.trace?.push({ kind: 'normal', vlan: vid, decision: `dropping VLAN ${vid} packet received on port ${inP.name} not configured for it`, indent: x.actionCol + 1 });
      return;
    }
    const src = ((x.key[Slot.DL_SRC_HI]! * 2 ** 32) + x.key[Slot.DL_SRC_LO]!);
    const dst = ((x.key[Slot.DL_DST_HI]! * 2 ** 32) + x.key[Slot.DL_DST_LO]!);
    let table = this.macs.get(vlan);
    if (!table) this.macs.set(vlan, (table = new MacTable()));
    if (dep !== undefined) dep.table = table;
    // The source is learned before the destination is looked up — except for a gratuitous ARP (SPA = TPA), whose
    // learning OVS handles apart (is_gratuitous_arp in xlate_normal): a GARP addressed to its own sender floods.
    // Both observed with ovs-vswitchd 3.1 in the differential test (frames whose source and destination MACs match).
    const gratuitous = x.d.l3 === L3.ARP && x.d.status === 0 && x.d.arpSpa === x.d.arpTpa;
    if (!gratuitous) this.learnSource(x, table, src, inPort, inP, vlan, dep);
    const multicast = isMulticastMac(x.buf, 0);
    const entry = multicast ? undefined : table.get(dst);
    const fresh = entry !== undefined && this.isFresh(entry, x.now) ? entry : undefined;
    const learnedPort = fresh ? fresh.port : undefined;
    if (dep !== undefined && !multicast) {
      dep.dstMac = dst;
      if (fresh) {
        dep.dstKind = MfDst.LEARNED;
        dep.dst = fresh;
        dep.dstPort = fresh.port;
      } else {
        dep.dstKind = MfDst.ABSENT;
        dep.inserts = this.macInserts;
      }
    }
    if (gratuitous) this.learnSource(x, table, src, inPort, inP, vlan, dep);
    if (dep !== undefined && !dep.srcNew) readsSource(rec!);
    if (learnedPort !== undefined) {
      if (learnedPort === inPort) {
        x.trace?.push({ kind: 'normal', vlan, decision: 'learned port is input port, dropping', indent: x.actionCol + 1 });
        return;
      }
      x.trace?.push({ kind: 'normal', vlan, decision: `forwarding to learned port ${this.ports.get(learnedPort)?.name ?? learnedPort}`, indent: x.actionCol + 1 });
      this.emitNormal(x, learnedPort, vlan);
      return;
    }
    if (entry && !fresh) {
      table.delete(dst);
      this.macTotal--;
      entry.port = -1;
      this.macChanges++;
    }
    x.trace?.push({ kind: 'normal', vlan, decision: isMulticastMac(x.buf, 0) ? 'multicast/broadcast, flooding' : 'no learned MAC for destination, flooding', indent: x.actionCol + 1 });
    for (const p of this.sortedPorts()) {
      if (p === inPort) continue;
      const port = this.ports.get(p)!;
      if (this.carries(port, vlan)) this.emitNormal(x, p, vlan);
    }
  }

  /** NORMAL's learning of the source MAC (a method, not a closure per packet). */
  private learnSource(x: Xlate, table: MacTable<MacEntry>, src: number, inPort: number, inP: BridgePort, vlan: number, dep: MfNormal | undefined): void {
    if (!x.learn || isMulticastMac(x.buf, 6)) return;
    const e = table.get(src);
    if (e) {
      if (e.port !== inPort) this.macChanges++;
      this.effects?.macs.push({ table, mac: src, entry: e, port: inPort, created: e.port !== inPort });
      e.port = inPort;
      e.seen = x.now;
      if (dep !== undefined) {
        dep.src = e;
        dep.srcMac = src;
        dep.srcPort = inPort;
      }
    } else {
      this.learnNew(table, src, inPort, x.now);
      if (dep !== undefined) {
        dep.srcNew = true;
        dep.table = table;
        dep.srcMac = src;
        dep.srcPort = inPort;
      }
      x.trace?.push({ kind: 'normal', vlan, decision: `learned that ${formatMac(x.buf, 6)} is on port ${inP.name} in VLAN ${vlan}`, indent: x.actionCol + 1 });
    }
  }

  /** NORMAL's learning of a MAC it holds no entry for: on a translation, and on a megaflow hit that learns anew. */
  private learnNew(table: MacTable<MacEntry>, src: number, inPort: number, now: number): void {
    this.macChanges++;
    this.macInserts++;
    if (this.macTotal >= this.macLimit) this.evictOldest();
    const created = { port: inPort, seen: now };
    table.set(src, created);
    this.macTotal++;
    this.effects?.macs.push({ table, mac: src, entry: created, port: inPort, created: true });
  }

  private emitNormal(x: Xlate, out: number, vlan: number): void {
    x.rec?.op(MfOp.OUTPUT_NORMAL, out, vlan);
    const p = this.ports.get(out)!;
    const tagged = x.d.vlanCount > 0;
    // A priority-tagged frame (VID 0) in VLAN 0 leaves a trunk with its tag as it is (observed with
    // ovs-vswitchd 3.1 in the differential test).
    const wantTag = p.tag === undefined && (vlan !== 0 || (tagged && x.d.vid(0) === 0));
    if (tagged === wantTag && (!tagged || x.d.vid(0) === vlan)) return this.emit(x, out);
    // Re-tag a copy for this port: access ports send untagged, trunks tagged with the VLAN. The copy is the
    // bridge's (emit copies it out), so a hit re-tags without allocating.
    if (this.tagBuf.length < x.length + 4) this.tagBuf = new Uint8Array(x.length + HEADROOM);
    const copy = this.tagBuf;
    for (let i = 0; i < x.length; i++) copy[i] = x.buf[i]!;
    let len = x.length;
    if (tagged) len = popVlan(copy, len);
    if (wantTag) len = pushVlan(copy, len, (tagged ? x.d.vlanTci[0]! & 0xe000 : 0) | vlan);
    this.emit(x, out, copy, len);
  }

  /**
   * Forgets the entry seen longest ago over every VLAN's table — the first of equals in the tables' order, then
   * each table's learning order. Each table finds its own oldest without allocating (a walk of 8 192 entries
   * through iterators made an array per entry: ≈ 0.25 ms per new MAC once the tables were full).
   */
  private evictOldest(): void {
    let table: MacTable<MacEntry> | undefined;
    let slot = -1;
    let seen = 0;
    for (const t of this.macs.values()) {
      const s = t.oldestSlot();
      if (s < 0) continue;
      const e = t.valueAt(s);
      if (table === undefined || e.seen < seen) {
        table = t;
        slot = s;
        seen = e.seen;
      }
    }
    if (table !== undefined) {
      table.valueAt(slot).port = -1;
      table.delete(table.keyAt(slot));
      this.macTotal--;
      this.macEvictions++;
      this.macChanges++;
    }
  }
}

/** Renders a trace as text in the manner of `ovs-appctl ofproto/trace`. */
export function formatTrace(bridge: string, steps: readonly TraceStep[], result: ProcessResult): string {
  const lines: string[] = [];
  const pad = (n: number | undefined, fallback: number): string => ' '.repeat(n ?? fallback);
  for (const s of steps) {
    switch (s.kind) {
      case 'lookup': {
        const head = `${pad(s.indent, 0)}${String(s.table).padStart(2)}.`;
        lines.push(s.flow === null ? `${head} No match.\n${pad(s.actionIndent, 4)}drop` : `${head} ${s.flow}, priority ${s.priority}, cookie ${s.cookie}`);
        break;
      }
      case 'action':
        lines.push(`${pad(s.indent, 4)}${s.action}`);
        break;
      case 'normal':
        lines.push(`${pad(s.indent, 5)}-> ${s.decision}`);
        break;
      case 'output':
        lines.push(`     -> output to ${s.port === Port.LOCAL ? 'LOCAL' : s.port}`);
        break;
      case 'drop':
        lines.push(`${pad(s.indent, 5)}>> ${s.reason}`);
        break;
    }
  }
  lines.push('', `Final: ${result.drop ? 'drop' : result.outputs.map((o) => (o.port === Port.LOCAL ? 'LOCAL' : String(o.port))).join(',')}${result.controller ? ` (+${result.controller} to controller)` : ''}`);
  return `bridge("${bridge}")\n${'-'.repeat(10 + bridge.length)}\n${lines.join('\n')}\n`;
}

/** One packet through a bridge with its trace: the result, the steps, and the text `ofproto/trace` would print. */
export function trace(bridge: Bridge, frame: Uint8Array, inPort: number, options: { now?: number; learn?: boolean } = {}): { result: ProcessResult; steps: TraceStep[]; text: string } {
  const steps: TraceStep[] = [];
  const result = bridge.process(frame, inPort, { ...options, trace: steps });
  return { result, steps, text: formatTrace(bridge.name, steps, result) };
}

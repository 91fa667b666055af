/**
 * The simulation's flow cache, a megaflow cache in OVS's sense over the path from the wire to the OVN switch:
 * the first frame of a class runs every stage; what it did up to the switch — the bytes to rewrite, the rules and
 * counters to credit — is compiled into an entry whose key is only the fields that path read, and every later
 * frame agreeing on those fields replays the entry, then runs the switch (its logical flows, with the chassis'
 * conntrack), the pods and everything after them for real.
 *
 * What the path up to the switch reads: the wire the MACs and the VLAN tag (learning, its table, the lookup), the
 * NIC the tag, br-provider whatever its flows match on ({@link BridgeReads}: the union of their masks) after the
 * decoder has classified the frame (EtherType, the IPv4 header's length and fragment bits, whether the transport
 * header is there, the protocol). Nothing else: an entry made by one client's SYN serves the FIN, the data and
 * the ACKs of every client behind the same MAC to the same VIP and port, and the rules' byte counters are
 * credited with each frame's own length.
 *
 * An entry is used only while every fact it rests on still holds — the wire's MAC table, the bridge's version,
 * the simulation's generation — so a cached frame's counters, conntrack state and delivered bytes are those of
 * an uncached one (property tests check it). The switch is not replayed: its conntrack calls (OVS's TCP
 * tracking, timeouts, NAT) change state an entry could only reproduce by making them. */
import type { DropCode } from './drops.js';
import type { DecodedFrame } from '@vippath/wire';
import { Bridge, Slot, type BridgeEffects, type Flow, type MacEntry, type MacLearned } from '@vippath/openflow';
import type { ResponderDrop, Speaker } from '@vippath/metallb';
import type { NodePath } from './datapath.js';
import { LruTable } from './lru.js';
import type { TraceStep } from './outputs.js';

/**
 * What a way-in entry does up to the switch — the counters, br-provider's rules, where the switch hop starts —
 * shared by every entry whose run did the same (interned in {@link Programs}: the clients behind one MAC and VIP
 * port, the ACKs, requests and FINs of one client), as br-provider's megaflows share an `MfProgram`.
 */
export interface InProgram {
  node: string;
  /** The node's path, whose switch hop a hit resumes at. */
  path: NodePath;
  bridge: Bridge;
  stageDelta: Int32Array;
  edgeIds: Int32Array;
  edgeDelta: Int32Array;
  /** Frames whose counters are owed to the recorder (TraceRecorder.creditLater). */
  owed: number;
  /** br-provider's rules hit on the way, in order, and the bytes each counted less the frame's length. */
  rules: Flow[];
  byteDelta: Int32Array;
  /** Where the frame came from into the switch, and at what depth (for the switch's own hop). */
  from: string;
  /** {@link from} as the recorder's place number (the switch hop is entered by number: no lookup per hit). */
  fromAt: number;
  depth: number;
  /** The steps the full path recorded up to the switch (when it was traced): a cached packet's trace starts with them. Never shared. */
  stages: TraceStep[] | undefined;
}

/**
 * A compiled path prefix (wire → NIC → br-provider → the switch's localnet port): its key and the facts it rests
 * on; what it does is its {@link InProgram}. One typed array holds the key and the Ethernet addresses the frame
 * has at the switch.
 */
export interface CacheEntry {
  /**
   * Words `[0, keyLength)`: the key, the fields the path read ({@link FlowCache.keyWords}' layout), compared in
   * full on a lookup; the 3 words after it: the 12 bytes of Ethernet addresses at the switch (br-provider's
   * constant rewrites over the key's) in the host's byte order (an Int32Array over the bytes holds them so: a hit
   * stores them whole).
   */
  key: Int32Array;
  keyLength: number;
  /**
   * The source MAC for the wire's table as the key's two words hold it — its high 16 bits and its low 32 as an int32
   * (for a {@link wild} entry, the source last checked): two small integers, where a 48-bit number in a field is a
   * heap number, new each time it changes (a wild entry's source changes every few frames).
   */
  srcHi: number;
  srcLo: number;
  /** The destination MAC as a 48-bit number, for the wire's table: fixed for the entry's life. */
  dstMac: number;
  // What it rests on.
  generation: number;
  /** The wire's change counter when the facts below were last checked: unchanged ⇒ still true. */
  fdbStamp: number;
  bridgeVersion: number;
  prog: InProgram;
  /**
   * Keyed without the source MAC (its two words 0): made when no flow matches on it and the entry records no
   * steps (a trace names it), so up to the switch only the wire reads it — learning it, which for a MAC it holds
   * on the outside is a refresh, checked per frame for the frame's own source. One entry serves every client
   * with a MAC of its own, as the gateway's serves the clients behind it.
   */
  wild: boolean;
  /** For a {@link wild} entry whose rules leave the source MAC alone: the switch gets the frame's own (not the key's words). */
  keepSrc: boolean;
}

/**
 * A way-in entry. The destination MAC is a 48-bit number, which V8 stores in an unboxed double field by default and
 * boxes anew each time it is passed to a function not inlined (the wire's MAC table's lookup: 16 bytes a call).
 * Started as null, the field is generalised to a tagged one holding a number boxed once, when the entry is made. The
 * source, which a wild entry's hit changes, is two small-integer fields ({@link CacheEntry.srcHi}): no box at all.
 */
export class InEntry implements CacheEntry {
  dstMac: number = null as unknown as number;

  constructor(
    public key: Int32Array,
    public keyLength: number,
    public srcHi: number,
    public srcLo: number,
    dstMac: number,
    public generation: number,
    public fdbStamp: number,
    public bridgeVersion: number,
    public prog: InProgram,
    public wild = false,
    public keepSrc = false,
  ) {
    this.dstMac = dstMac;
  }
}

/** Programs by a hash of their content, bounded; a program pushed out stays with the entries that hold it. */
export class Programs<P> {
  private readonly table: LruTable<number, P>;
  /** Entries given a program that was already there, and programs made. */
  shared = 0;
  made = 0;

  constructor(limit: number, private readonly same: (a: P, b: P) => boolean) {
    this.table = new LruTable(limit);
  }

  get size(): number {
    return this.table.size;
  }

  /** The program equal to `p` when one is held under `hash`, else `p` (now held). */
  intern(hash: number, p: P): P {
    const q = this.table.get(hash);
    if (q !== undefined && this.same(q, p)) {
      this.shared++;
      return q;
    }
    this.table.set(hash, p);
    this.made++;
    return p;
  }
}

/** Folds `a` into hash `h`. */
export function hashInts(h: number, a: ArrayLike<number>): number {
  h = Math.imul(h ^ a.length, 0x85ebca6b);
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i]!, 0xc2b2ae35) ^ (h >>> 13);
  return h;
}

export function sameInts(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameRefs<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether two way-in programs do the same (a traced one, with its steps, is never shared). */
export function sameInProgram(a: InProgram, b: InProgram): boolean {
  return a.path === b.path && a.bridge === b.bridge && a.node === b.node && a.from === b.from && a.fromAt === b.fromAt && a.depth === b.depth &&
    a.stages === undefined && b.stages === undefined && sameRefs(a.rules, b.rules) && sameInts(a.byteDelta, b.byteDelta) &&
    sameInts(a.stageDelta, b.stageDelta) && sameInts(a.edgeIds, b.edgeIds) && sameInts(a.edgeDelta, b.edgeDelta);
}

/** The key slots the path reads whatever br-provider's flows are (words of {@link FlowCache.keyWords}). */
export const BASE_WORDS = 9;

/**
 * The same for an IPv6 frame: the MACs, the tag, the EtherType, the shape word, the destination address as four
 * words (Kube-OVN's tcp6/udp6 rules match ipv6_dst) and tp_dst.
 */
export const BASE_WORDS_6 = 12;

/** Slots {@link BASE_WORDS} covers already, or that are constant for a frame the cache takes (registers, in_port, no tag left). */
function coveredSlot(s: number): boolean {
  return s === Slot.IN_PORT || s === Slot.DL_SRC_HI || s === Slot.DL_SRC_LO || s === Slot.DL_DST_HI || s === Slot.DL_DST_LO || s === Slot.DL_TYPE || s === Slot.VLAN_TCI || s === Slot.NW_DST || s === Slot.NW_PROTO || s === Slot.TP_DST || s >= Slot.METADATA_HI;
}

/**
 * The decoder's classification of a valid IPv6 frame as a key word: the length of the header chain (40 and the
 * extension headers: at most 8 of 2 KiB, so below 2^16), whether a fragment header was met and its offset is not
 * 0, whether the transport header was read, the upper-layer protocol. (IPv4's word packs its header length into 8
 * bits; the EtherType word keeps the two layouts apart.)
 */
export function shape6(d: DecodedFrame): number {
  return d.ipHeaderLength | (d.ipFragment ? 0x10000 : 0) | (d.ipFragmentOffset !== 0 ? 0x20000 : 0) | (d.l4Offset >= 0 ? 0x40000 : 0) | (d.ipProto << 20);
}

/**
 * Slots an IPv6 frame's key covers already ({@link BASE_WORDS_6}), or that extractKey leaves 0 for it (the IPv4
 * and ARP addresses).
 */
function coveredSlot6(s: number): boolean {
  return coveredSlot(s) || s === Slot.NW_SRC || (s >= Slot.IPV6_DST && s < Slot.IPV6_DST + 4);
}

/** Slots extractKey fills only for an IPv6 frame: an IPv4 frame's key need not hold them. */
function ipv6Only(s: number): boolean {
  return s >= Slot.IPV6_SRC && s < Slot.IPV6_DST + 4;
}

/**
 * What br-provider's classifier consults, over every bridge: per key slot the union of the masks of all flows of
 * all tables (OVS's megaflow mask is at most that). Two frames that agree on these bits meet the same rule in
 * every table, whatever rule set is loaded. Recomputed when a bridge's version moves. Per family: the IPv6
 * addresses are 0 in an IPv4 frame's flow key and the IPv4 ones in an IPv6 frame's, so a dual-stack rule set
 * (Kube-OVN's tcp6 rule reads ipv6_dst) does not lengthen the IPv4 keys, nor the other way round.
 */
export class BridgeReads {
  private versions: number[] = [];
  /** The slots beyond {@link BASE_WORDS} that some flow matches on (IPv4 frames), and the union of their masks. */
  slots = new Int32Array(0);
  masks = new Uint32Array(0);
  /** The slots beyond {@link BASE_WORDS_6} that some flow matches on (IPv6 frames), and their masks. */
  slots6 = new Int32Array(0);
  masks6 = new Uint32Array(0);
  /** Whether some flow matches on the source MAC: then every way-in key holds it (see {@link CacheEntry.wild}). */
  src = false;
  /**
   * Whether some flow matches on what tells one ARP sender from another — the source MAC, the sender's hardware
   * or protocol address (arp_spa shares nw_src's slot): then a new client's ARP is not served without its sender
   * in the key (see PathCaches' new-client ARP entries).
   */
  arpSender = false;

  /** Bridge.flowTableChanges when the versions were last compared, and the bridges compared then. */
  private changesSeen = -1;
  private bridgesSeen: readonly Bridge[] | undefined;

  /** Brings the union up to date with `bridges`' flow tables (one comparison while no bridge's flows changed). */
  refresh(bridges: readonly Bridge[]): void {
    // Every version moves with the process-wide count: while it stands, the versions compared last still hold.
    // (A readonly list, as CacheHost's: the same array holds the same bridges.)
    const changes = Bridge.flowTableChanges;
    if (changes === this.changesSeen && bridges === this.bridgesSeen) return;
    const v = this.versions;
    let same = v.length === bridges.length;
    for (let i = 0; same && i < bridges.length; i++) same = v[i] === bridges[i]!.version;
    if (!same) this.rebuild(bridges);
    this.changesSeen = changes;
    this.bridgesSeen = bridges;
  }

  private rebuild(bridges: readonly Bridge[]): void {
    const union = new Map<number, number>();
    for (const b of bridges) for (const f of b.flows()) for (const m of f.match) union.set(m.slot, ((union.get(m.slot) ?? 0) | m.mask) >>> 0);
    const extra = [...union].filter(([s, m]) => m !== 0 && !coveredSlot(s) && !ipv6Only(s)).sort((a, b) => a[0] - b[0]);
    this.slots = Int32Array.from(extra.map(([s]) => s));
    this.masks = Uint32Array.from(extra.map(([, m]) => m));
    const extra6 = [...union].filter(([s, m]) => m !== 0 && !coveredSlot6(s)).sort((a, b) => a[0] - b[0]);
    this.slots6 = Int32Array.from(extra6.map(([s]) => s));
    this.masks6 = Uint32Array.from(extra6.map(([, m]) => m));
    this.src = (union.get(Slot.DL_SRC_HI) ?? 0) !== 0 || (union.get(Slot.DL_SRC_LO) ?? 0) !== 0;
    this.arpSender = this.src || (union.get(Slot.NW_SRC) ?? 0) !== 0 || (union.get(Slot.ARP_SHA_HI) ?? 0) !== 0 || (union.get(Slot.ARP_SHA_LO) ?? 0) !== 0;
    this.versions = bridges.map((b) => b.version);
  }
}

/**
 * A cached ARP request for an announced VIP from the outside — or a neighbor solicitation for an IPv6 one to its
 * solicited-node group — flooded to every node, answered by the owner's speaker, ignored elsewhere. Its effects
 * are refreshes of MAC entries the bridges already hold, counters (flows, speakers' drop reasons, stages, edges,
 * drops) and the owner's reply, whose bytes depend only on the request's first 46 bytes for ARP, on all of them
 * for a solicitation (the key, compared in full: `head`).
 */
export interface ArpEntry {
  /** The request's bytes the reply depends on: 46 of an ARP request, the whole of a neighbor solicitation. */
  head: Uint8Array;
  length: number;
  generation: number;
  fdbStamp: number;
  clientMac: number;
  ownerMac: number;
  owner: string;
  /** Every bridge, its version then, and what the request did to it (rule hits, MAC refreshes — none new). */
  bridges: Bridge[];
  bridgeVersions: number[];
  effects: BridgeEffects[];
  lsVersion: number;
  /** The reasons the speakers that did not answer counted. */
  speakerDrops: Array<{ speaker: Speaker; reason: ResponderDrop }>;
  stageDelta: Int32Array;
  edgeIds: Int32Array;
  edgeDelta: Int32Array;
  dropDeltas: Array<{ code: DropCode; delta: number }>;
  drops: Array<{ at: string; code: DropCode; reason: string }>;
  reply: Uint8Array;
  stages: TraceStep[] | undefined;
}

/**
 * What br-provider's flows that can see a frame from the patch port read (the way back out): the union of the masks
 * of every flow whose in_port, if it has one, is the patch port — a frame from there meets no other (the way back
 * takes no resubmit that changes in_port) — beyond what every back key holds.
 */
export class BackReads {
  private version = -1;
  slots = new Int32Array(0);
  masks = new Uint32Array(0);
  /**
   * Whether some flow that can see the patch port matches on the destination MAC: then every back key holds it.
   * When none does, only NORMAL's lookup and the wire's read it — both checked again per frame for an entry made
   * with the destination left out of its key (see {@link BackEntry.wild}).
   */
  dst = false;

  constructor(private readonly bridge: Bridge, private readonly patchPort: number) {}

  /** Brings the union up to date with the bridge's flow table (one comparison when it did not change). */
  refresh(): void {
    if (this.version !== this.bridge.version) this.rebuild();
  }

  // Apart from refresh: its closure captures `this`, which would make every call allocate a context.
  private rebuild(): void {
    const union = new Map<number, number>();
    for (const f of this.bridge.flows()) {
      if (f.match.some((m) => m.slot === Slot.IN_PORT && ((this.patchPort & m.mask) >>> 0) !== m.value >>> 0)) continue;
      for (const m of f.match) union.set(m.slot, ((union.get(m.slot) ?? 0) | m.mask) >>> 0);
    }
    const extra = [...union].filter(([s, m]) => m !== 0 && !backCovered(s)).sort((a, b) => a[0] - b[0]);
    this.slots = Int32Array.from(extra.map(([s]) => s));
    this.masks = Uint32Array.from(extra.map(([, m]) => m));
    this.dst = (union.get(Slot.DL_DST_HI) ?? 0) !== 0 || (union.get(Slot.DL_DST_LO) ?? 0) !== 0;
    this.version = this.bridge.version;
  }
}

function backCovered(s: number): boolean {
  return s === Slot.IN_PORT || s === Slot.DL_SRC_HI || s === Slot.DL_SRC_LO || s === Slot.DL_DST_HI || s === Slot.DL_DST_LO || s === Slot.DL_TYPE || s === Slot.VLAN_TCI || s >= Slot.METADATA_HI;
}

/** What a way-back entry does (shared by the entries that do the same, as {@link InProgram}). */
export interface BackProgram {
  path: NodePath;
  /** Where the frame came from into br-provider (a place number: the edge counted). */
  from: number;
  stageDelta: Int32Array;
  edgeIds: Int32Array;
  edgeDelta: Int32Array;
  /** Frames whose counters are owed to the recorder (TraceRecorder.creditLater). */
  owed: number;
  rules: Flow[];
  byteDelta: Int32Array;
  /** The MAC refreshes NORMAL made (none new). */
  macFx: BridgeEffects;
  /** NORMAL's learning of the source (its table is the one the destination is looked up in), when NORMAL ran. */
  normal: MacLearned | undefined;
  /** NORMAL's lookup of the destination then ({@link Bridge.normalLookup}): -1 unknown (it flooded), else the learned port. */
  dstPort: number;
  /** Whether the frame went out on the wire (to the outside). */
  wire: boolean;
  drops: Array<{ at: string; code: DropCode }>;
}

function sameLearned(a: MacLearned, b: MacLearned): boolean {
  return a.entry === b.entry && a.port === b.port && a.table === b.table && a.mac === b.mac && a.created === b.created;
}

/** Whether two way-back programs do the same: the same rules, counters, MAC entries refreshed (the same entries, on the same ports), NORMAL's answer, drops. */
export function sameBackProgram(a: BackProgram, b: BackProgram): boolean {
  if (a.path !== b.path || a.from !== b.from || a.dstPort !== b.dstPort || a.wire !== b.wire || !sameRefs(a.rules, b.rules) || !sameInts(a.byteDelta, b.byteDelta)) return false;
  if (!sameInts(a.stageDelta, b.stageDelta) || !sameInts(a.edgeIds, b.edgeIds) || !sameInts(a.edgeDelta, b.edgeDelta)) return false;
  if ((a.normal === undefined) !== (b.normal === undefined) || (a.normal !== undefined && !sameLearned(a.normal, b.normal!))) return false;
  const am = a.macFx.macs;
  const bm = b.macFx.macs;
  if (am.length !== bm.length || a.macFx.rules.length !== 0 || b.macFx.rules.length !== 0) return false;
  for (let i = 0; i < am.length; i++) if (!sameLearned(am[i]!, bm[i]!)) return false;
  if (a.drops.length !== b.drops.length) return false;
  for (let i = 0; i < a.drops.length; i++) if (a.drops[i]!.at !== b.drops[i]!.at || a.drops[i]!.code !== b.drops[i]!.code) return false;
  return true;
}

/** A compiled way back out: from the switch's localnet port through its program's br-provider, NIC and the wire. */
export interface BackEntry {
  /** The key's words; for a {@link wild} entry the destination MAC's two words are 0. */
  key: Int32Array;
  generation: number;
  bridgeVersion: number;
  fdbStamp: number;
  /**
   * The source MAC as the key's two words hold it (its high 16 bits, its low 32 as an int32), for the wire's table,
   * whose touch a hit makes: as {@link CacheEntry.srcHi}.
   */
  srcHi: number;
  srcLo: number;
  /**
   * The destination MAC the wire's table was last checked for (at {@link fdbStamp}), in the same form: two small
   * integers, where a 48-bit number in a field is a new heap number each time a wild entry's destination changes.
   */
  dstHi: number;
  dstLo: number;
  /**
   * Keyed without the destination MAC (a megaflow wildcarding it, as OVS's does for a field no rule matched):
   * made when nothing but NORMAL's lookup (a known port, not a flood) and the wire's lookup (the outside) read it,
   * and nothing went to LOCAL, whose host stack tells its own MAC from others. A hit checks both lookups again
   * for the frame's own destination — so one entry serves the answers to every client of a pod's, behind the
   * gateway or on the VLAN with a MAC of its own.
   */
  wild: boolean;
  prog: BackProgram;
  /**
   * For a {@link wild} entry: the MAC entry NORMAL's lookup of the destination ({@link dstHi}, {@link dstLo}) found
   * last (undefined until one, and again when the destination changes). While it stands (its port not -1: every removal sets that, and a MAC has one entry
   * at a time) it is what the table holds for that MAC, so its port and age answer the lookup without the hash.
   */
  normalEntry: MacEntry | undefined;
}

/** A way-back entry (its MACs as small integers, as {@link InEntry}'s source). */
export class OutEntry implements BackEntry {
  normalEntry: MacEntry | undefined = undefined;

  constructor(
    public key: Int32Array,
    public generation: number,
    public bridgeVersion: number,
    public fdbStamp: number,
    public srcHi: number,
    public srcLo: number,
    public dstHi: number,
    public dstLo: number,
    public prog: BackProgram,
    public wild: boolean,
  ) {}
}

/** Entries by a hash of the key words; collisions are compared word by word. */
export class FlowCache {
  private readonly table: LruTable<number, CacheEntry>;
  hits = 0;
  misses = 0;
  /** Entries refused because a fact they rested on changed (replaced by the next full-path packet). */
  stale = 0;
  /** Bumped by every write and deletion: a lookup's answer remembered at one stamp is the table's while it stays. */
  stamp = 0;

  constructor(readonly limit = 65536) {
    this.table = new LruTable(limit);
  }

  get size(): number {
    return this.table.size;
  }

  static hash(a: number, b: number, c: number, d: number, e: number, f: number): number {
    let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ b, 0xc2b2ae35);
    h = Math.imul(h ^ c, 0x85ebca6b);
    h = Math.imul(h ^ d, 0xc2b2ae35);
    h = Math.imul(h ^ e, 0x85ebca6b);
    h = Math.imul(h ^ f, 0xc2b2ae35);
    return (h ^ (h >>> 15)) & 0x3fffffff;
  }

  static hashWords(w: Int32Array, n: number): number {
    // Two words a turn, the even one's multiplier then the odd one's (TurboFan checks the array once a turn).
    let h = 0x9e3779b9;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      h = Math.imul(h ^ w[i]!, 0x85ebca6b);
      h = Math.imul(h ^ w[i + 1]!, 0xc2b2ae35);
    }
    if (i < n) h = Math.imul(h ^ w[i]!, 0x85ebca6b);
    return (h ^ (h >>> 15)) & 0x3fffffff;
  }

  /** The entry stored under `hash` when its key is `w[0, n)`. */
  find(hash: number, w: Int32Array, n: number): CacheEntry | undefined {
    const e = this.table.get(hash);
    if (e === undefined) return undefined;
    const k = e.key;
    if (e.keyLength !== n) return undefined;
    let i = 0;
    for (; i + 1 < n; i += 2) if (k[i] !== w[i] || k[i + 1] !== w[i + 1]) return undefined;
    return i >= n || k[i] === w[i] ? e : undefined;
  }

  set(hash: number, entry: CacheEntry): void {
    this.stamp++;
    this.table.set(hash, entry);
  }

  delete(hash: number): void {
    this.stamp++;
    this.table.delete(hash);
  }
}

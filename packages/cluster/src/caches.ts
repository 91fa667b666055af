/**
 * The caches in front of the datapath for frames from the outside: the flow cache (a megaflow cache of the path
 * up to the OVN switch for IPv4 frames of any kind, keyed on the fields that path reads) and the ARP cache (repeated ARP requests for an announced VIP). A miss runs the
 * full path watched: each package records what the frame did to it as typed effects (br-provider's rule hits
 * and MAC learnings, the speakers' unanswered reasons, the recorder's counters and drops, the frames put on the
 * wire), and an entry keeps them when a replay can reproduce the run exactly. A hit replays them through the
 * packages' own methods ({@link Bridge.replayEffects}, {@link Speaker.creditDrop}, the recorder's credits) —
 * no package's fields are written from here.
 */
import { BridgeEffects, extractKey as extractKeyImport, newKey as newKeyImport, type Bridge, type Flow, type MacLearned } from '@vippath/openflow';
import type { ResponderDrop, Speaker } from '@vippath/metallb';
import { completeOffloadChecksum as completeOffloadChecksumImport, DecodedFrame, DecodeStatus as DecodeStatusImport, FrameDecoder, L3 as L3Import, plainTcp4 as plainTcp4Import, plainTcp4At14 as plainTcp4At14Import, popVlan as popVlanImport, readTaggedTcp4Addresses as readTaggedTcp4AddressesImport, untaggedTcp4Decode } from '@vippath/wire';
import { MAX_DEPTH as MAX_DEPTHImport, macNumber as macNumberImport, ScratchCopy, type Datapath, type NodePath, type OutPathCache, type PathWatch } from './datapath.js';
import { DROP_KEY as DROP_KEYImport, type DropCode } from './drops.js';
import { BackReads, BASE_WORDS as BASE_WORDSImport, BASE_WORDS_6 as BASE_WORDS_6Import, BridgeReads, FlowCache, hashInts as hashIntsImport, InEntry, OutEntry, Programs, sameBackProgram as sameBackProgramImport, sameInProgram as sameInProgramImport, shape6 as shape6Import, type ArpEntry, type BackEntry, type BackProgram, type CacheEntry, type InProgram } from './flow-cache.js';
import { LruTable } from './lru.js';
import { tagHead, TagHeadWriter } from './tag-head.js';
import { copyInLe as copyInLeImport, copyWordsView as copyWordsViewImport, DOUBLES_EXACT, HOST_LE as COPY_LE, keptView as keptViewImport, untagWords as untagWordsImport, wordBytes as wordBytesImport } from './copy-in.js';
import { ST_BRIDGE as ST_BRIDGEImport, ST_HOST as ST_HOSTImport, ST_METALLB as ST_METALLBImport, ST_VLAN as ST_VLANImport, ST_WIRE as ST_WIREImport } from './recorder.js';
import type { InjectResult } from './recorder.js';

// Imports used per frame bound to module constants, which TurboFan folds (an enum object's fields and a number
// become immediates, a function is called or inlined without a check), where every use of an import loads its
// binding's cell and checks it (bench/README "Imports bound in the cluster's hops (session 34)"; executor.ts and
// ct/engine.ts do the same).
const extractKey = extractKeyImport;
const newKey = newKeyImport;
const completeOffloadChecksum = completeOffloadChecksumImport;
const DecodeStatus = DecodeStatusImport;
const L3 = L3Import;
const plainTcp4 = plainTcp4Import;
const popVlan = popVlanImport;
const readTaggedTcp4Addresses = readTaggedTcp4AddressesImport;
const plainTcp4At14 = plainTcp4At14Import;
const MAX_DEPTH = MAX_DEPTHImport;
const macNumber = macNumberImport;
const untagWords = untagWordsImport;
const DROP_KEY = DROP_KEYImport;
const BASE_WORDS = BASE_WORDSImport;
const BASE_WORDS_6 = BASE_WORDS_6Import;
const hashInts = hashIntsImport;
const sameBackProgram = sameBackProgramImport;
const sameInProgram = sameInProgramImport;
const shape6 = shape6Import;
const copyInLe = copyInLeImport;
const copyWordsView = copyWordsViewImport;
const wordBytes = wordBytesImport;
const keptView = keptViewImport;
const ST_BRIDGE = ST_BRIDGEImport;
const ST_HOST = ST_HOSTImport;
const ST_METALLB = ST_METALLBImport;
const ST_VLAN = ST_VLANImport;
const ST_WIRE = ST_WIREImport;

/** Makes `dst` a copy of `src` (no new array). */
function copyInto(dst: number[], src: readonly number[]): void {
  dst.length = src.length;
  for (let i = 0; i < src.length; i++) dst[i] = src[i]!;
}

/**
 * Where a way-in key holds the source MAC: its first two bytes in word SRC_HI, its last four in the word after
 * ({@link linkWords}, {@link PathCaches.fastKey}). A {@link CacheEntry.wild} entry's key has both zeroed; its
 * lookup ({@link PathCaches.findWild}) zeroes them in the frame's key and {@link sameWild} skips them.
 */
const SRC_HI = 2;
const SRC_LO = SRC_HI + 1;

/**
 * The MAC at `at` as a key's two words hold it (the entries keep a MAC they check again so: see CacheEntry.srcHi): its
 * high 16 bits, and its low 32 as an int32.
 */
function macHi(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function macLo(b: Uint8Array, at: number): number {
  return (b[at + 2]! << 24) | (b[at + 3]! << 16) | (b[at + 4]! << 8) | b[at + 5]!;
}

/** A way-in key's first words, either family: the MACs, the tag, the EtherType (what the wire and the NIC read). */
const linkWords = (w: Int32Array, buf: Uint8Array, d: DecodedFrame): void => {
  w[0] = (buf[0]! << 8) | buf[1]!;
  w[1] = (buf[2]! << 24) | (buf[3]! << 16) | (buf[4]! << 8) | buf[5]!;
  w[SRC_HI] = (buf[6]! << 8) | buf[7]!;
  w[SRC_LO] = (buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!;
  w[4] = d.vlanTci[0]!;
  w[5] = d.etherType;
};

const sameBytes = (a: Uint8Array, b: Uint8Array, n: number): boolean => {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * Whether the first `n` rules of a run only resubmit, set Ethernet addresses to constants, and output once, to
 * `patch`: what a hit replays (the addresses at the switch, one frame into it). Anything else — NORMAL, a second
 * output, an action that reads or rewrites other fields (dec_ttl, move, load, VLAN, IP or port rewrites) — would
 * make the outcome depend on more than the key, or be more than the switch hop.
 */
const onlyToPatch = (rules: readonly Flow[], n: number, patch: number): boolean => {
  let outputs = 0;
  for (let i = 0; i < n; i++) {
    const actions = rules[i]!.actions;
    for (let j = 0; j < actions.length; j++) {
      const a = actions[j]!;
      if (a.kind === 'output') {
        if (a.port !== patch || ++outputs > 1) return false;
      } else if (a.kind === 'set') {
        if ((a.field !== 'dl_dst' && a.field !== 'dl_src') || a.mac === undefined) return false;
      } else if (a.kind !== 'resubmit' && a.kind !== 'goto_table' && a.kind !== 'note') return false;
    }
  }
  return outputs === 1;
};

/** Whether any of `rules` sets the source MAC (to a constant: {@link onlyToPatch} allows no other edit of it). */
const setsSource = (rules: readonly Flow[]): boolean => {
  for (let i = 0; i < rules.length; i++) {
    const actions = rules[i]!.actions;
    for (let j = 0; j < actions.length; j++) {
      const a = actions[j]!;
      if (a.kind === 'set' && a.field === 'dl_src') return true;
    }
  }
  return false;
};

/**
 * Whether br-provider's rules on the way back out only forward: outputs (NORMAL among them), resubmits in place,
 * goto_table, notes — nothing that rewrites the frame or reads a field into a register, so what leaves is what
 * came in and the rules met are a function of the key.
 */
const onlyForward = (rules: readonly Flow[]): boolean => {
  for (let i = 0; i < rules.length; i++) {
    const actions = rules[i]!.actions;
    for (let j = 0; j < actions.length; j++) {
      const a = actions[j]!;
      if (a.kind === 'resubmit' ? a.port !== undefined : a.kind !== 'output' && a.kind !== 'goto_table' && a.kind !== 'note') return false;
    }
  }
  return true;
};

/**
 * A neighbor solicitation to a solicited-node group (33:33:ff:…), as a client sends one for the IPv6 VIP before
 * talking to it: flooded to every node, answered by the owner's speaker, ignored by the rest (the switch floods
 * it to the pods, which take only their own; OVN passes ND by conntrack). What answers it reads the whole
 * request (source, target, the source link-layer option), so an entry's key is all of its bytes: at most 256.
 */
const multicastNs = (buf: Uint8Array, d: DecodedFrame, length: number): boolean => {
  return buf[0] === 0x33 && buf[1] === 0x33 && buf[2] === 0xff && d.ipProto === 58 && d.icmpType === 135 && d.l4Offset >= 0 && !d.ipFragment && length <= 256;
};

/** A hash of `buf[0, n)`, four bytes at a time. */
const hashBytes = (buf: Uint8Array, n: number): number => {
  let h = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b);
  let i = 0;
  for (; i + 4 <= n; i += 4) h = Math.imul(h ^ ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!), 0xc2b2ae35) ^ (h >>> 13);
  for (; i < n; i++) h = Math.imul(h ^ buf[i]!, 0x85ebca6b);
  return (h ^ (h >>> 15)) & 0x3fffffff;
};

/** Whether a wild way-in entry's key (`k[0, kn)`, the source MAC's words 0) is `w[0, n)` with those words zeroed. */
const sameWild = (k: Int32Array, w: Int32Array, n: number, kn: number): boolean => {
  // Two words a turn (as sameWords): TurboFan checks both arrays once a turn.
  if (kn !== n || k[0] !== w[0] || k[1] !== w[1]) return false;
  let i = SRC_LO + 1;
  for (; i + 1 < n; i += 2) if (k[i] !== w[i] || k[i + 1] !== w[i + 1]) return false;
  return i >= n || k[i] === w[i];
};

/**
 * Whether a wild way-back key `k` is `w[0, n)` but for the destination's two words (0 in `k`, left out here). `n` is 6 or
 * more (every back key holds the MACs, the EtherType and the shape word): those four words compared written out — the
 * loop's turns cost ≈ 75 instructions a call, re-checking both arrays every turn — and any words after them in a loop.
 */
const sameBackWild = (k: Int32Array, w: Int32Array, n: number): boolean => {
  if (k.length !== n || k[2] !== w[2] || k[3] !== w[3] || k[4] !== w[4] || k[5] !== w[5]) return false;
  for (let i = 6; i < n; i++) if (k[i] !== w[i]) return false;
  return true;
};

/**
 * completeOffloadChecksum's first test for a fast-lane frame (one 802.1Q tag, IPv4 at 18 without options, TCP at 38:
 * readPlainTcp4Addresses checked that layout and read `d`'s addresses and segment length): whether the stored TCP
 * checksum is the folded pseudo-header sum or its other zero, the only values a partial one can have. False means
 * completeOffloadChecksum would answer false too; true leaves the decision to it. Its general reading of the decoded
 * frame (the protocol's field, the family's pseudo-header) cost ≈ 144 instructions a frame on http (bench/README
 * session 26).
 */
const mayBePartialTcp4At18 = (b: Uint8Array, d: DecodedFrame): boolean => {
  // wire's pseudoHeaderSumV4 and foldSum, written out: called, this function was not inlined into hit (+85
  // instructions an http frame with foldSum, pseudoHeaderSumV4 itself then called: +22; callgrind, session 26).
  const src = d.ipSrc;
  const dst = d.ipDst;
  let s = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + d.l4Length;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  // The sum is at least 6, so folded it is never 0: a partial checksum is s, or 0 for s = 0xffff. Without a branch
  // that only a rare frame takes (its first would deoptimize the caller).
  return (((b[54]! << 8) | b[55]!) || 0xffff) === s;
};

/** copy-in.ts's HOST_LE as this module's own constant: copyIn's test of it an imported binding cost ≈ 9 instructions a frame (session 18). */
const HOST_LE = COPY_LE;
/** copyIn's doubles copy: a little-endian host whose engine keeps a NaN's bits through it (copy-in.ts DOUBLES_EXACT). */
const COPY_DOUBLES = COPY_LE && DOUBLES_EXACT;

/** Mixed into the hash of a {@link BackEntry.wild} entry's key: never the slot of an exact key of the same words. */
const WILD_MIX = 0x2545f491;

/** Word 6 of a way-in key for fastKey's layout: IHL 20, transport header read, TCP (as keyOf writes it). */
const PLAIN_TCP4_SHAPE = 20 | 0x400 | (6 << 16);
/**
 * A key's length in words, below this mask in what fastKey returns; WILD_SEEN beside it says the key is
 * {@link PathCaches}' remembered wild entry's (findWild's test made).
 */
const KEY_WORDS = 0xff;
const WILD_SEEN = 0x100;

const sameWords = (a: Int32Array, w: Int32Array, n: number): boolean => {
  // Two words a turn: TurboFan reloads both arrays' maps, lengths and bases on every turn of a loop (bench/README,
  // "The cluster's hops per frame (session 17)").
  if (a.length !== n) return false;
  let i = 0;
  for (; i + 1 < n; i += 2) if (a[i] !== w[i] || a[i + 1] !== w[i + 1]) return false;
  return i >= n || a[i] === w[i];
};

/** What the caches need of the simulation around them. */
export interface CacheHost {
  readonly dp: Datapath;
  /** Bumped when anything an entry could rest on changes (events, readiness, ownership, load balancers). */
  readonly generation: number;
  /** True when simulated time has something due: entries made now would not hold. */
  dueNow(): boolean;
  readonly bridges: readonly Bridge[];
  readonly speakers: readonly Speaker[];
  /** The node owning a NIC MAC. */
  readonly nodeByMac: ReadonlyMap<number, string>;
  /** Counts an offload-partial checksum completed as the sender's NIC would have. */
  checksumCompleted(): void;
}

/** Where a watched full-path run first reached the OVN switch: the state then, and how it got there. */
interface Split {
  stages: Int32Array;
  edges: number[];
  fdb: number;
  /** Rule hits and NORMAL actions recorded per bridge by then. */
  rules: number[];
  normal: number[];
  wires: number;
  steps: number;
  quiet: boolean;
  frame: Uint8Array;
  inport: string;
  from: string;
  depth: number;
  path: NodePath;
}

/** A watched full-path run. */
interface Watch {
  stages: Int32Array;
  edges: number[];
  fdb: number;
  effects: BridgeEffects[];
  speakerEffects: ResponderDrop[][];
}

/**
 * A frame from the outside that br-provider hands to its node's own stack, which drops it (an ICMP error or echo
 * request to the VIP, a TCP/UDP port Kube-OVN's rules do not send to the switch): the whole path as counters,
 * br-provider's rule statistics, NORMAL's refresh of the source MAC (its lookup of the destination must still
 * answer the same port) and the drop. Keyed on the way-in key and the ICMP type (MetalLB's responder reads it:
 * a neighbor solicitation is answered where an ICMPv6 error of the same code is not).
 */
interface HostEntry {
  key: Int32Array;
  generation: number;
  fdbStamp: number;
  srcMac: number;
  dstMac: number;
  node: string;
  bridge: Bridge;
  bridgeVersion: number;
  rules: Flow[];
  byteDelta: Int32Array;
  macFx: BridgeEffects;
  normal: MacLearned | undefined;
  dstPort: number;
  stageDelta: Int32Array;
  edgeIds: Int32Array;
  edgeDelta: Int32Array;
  dropAt: string;
  dropCode: DropCode;
}

/**
 * A new client's first ARP request: the byte ranges of the request (one 802.1Q tag) that are its sender — the
 * Ethernet source, the sender's hardware and protocol addresses — which a {@link NewArpEntry}'s key leaves out.
 */
const ARP_HEAD = 46;
const ARP_SENDER_FROM = 26;
const ARP_SENDER_TO = 36;
/** In the owner's reply as it leaves on the wire (tagged): the client's MAC (destination, THA) and address (TPA). */
const REPLY_DST_TO = 6;
const REPLY_THA = 36;
const REPLY_TPA = 42;
const REPLY_LENGTH = 64;

/** What a new client's ARP did between two of the OVN switch's runs (or before the first, after the last). */
interface ArpWindow {
  stageDelta: Int32Array;
  edgeIds: Int32Array;
  edgeDelta: Int32Array;
  drops: Array<{ at: string; code: DropCode }>;
  /** NORMAL learning the client's MAC anew (the record of the run that made the entry, for its table and port). */
  learned: Array<{ bridge: Bridge; l: MacLearned }>;
  /** Rule hits and MAC refreshes (none new), per bridge. */
  fx: Array<{ bridge: Bridge; fx: BridgeEffects }>;
  speakerDrops: Array<{ speaker: Speaker; reason: ResponderDrop }>;
  /** The request crossing the wire from the outside (the first window), the owner's reply crossing it. */
  request: boolean;
  reply: boolean;
}

/** One of the switch's runs on a node's copy of the request, and what the full path does after it on that node. */
interface ArpSwitchRun {
  path: NodePath;
  from: number;
  depth: number;
  /** Whether the node's br-provider sends the request to LOCAL after the patch port (MetalLB then answers or drops). */
  localAfter: boolean;
}

/**
 * A new client's first ARP request for an announced VIP (the wire and the bridges learn its MAC anew), keyed
 * without its sender: the OVN switch runs for real on each node's copy (northd's flows may read arp.spa, and
 * put_fdb/lookup_fdb change the switch's state per source); everything else is replayed — the wire learning the
 * MAC, each bridge's NORMAL learning it, rule statistics, MetalLB's drop counts, the owner's reply (its bytes a
 * template with the sender's MAC and address filled in, as speaker.ts `arp()` builds it), the owner's br-provider
 * refreshing its own MAC, the counters — in the full path's order around the switch's runs.
 */
interface NewArpEntry {
  /** The request's first {@link ARP_HEAD} bytes with the sender's ranges zeroed, and its length. */
  head: Uint8Array;
  length: number;
  generation: number;
  lsVersion: number;
  bridges: Bridge[];
  bridgeVersions: number[];
  owner: string;
  ownerMac: number;
  /** The owner's reply as the wire carries it, the client's MAC and address zeroed. */
  template: Uint8Array;
  windows: ArpWindow[];
  runs: ArpSwitchRun[];
  /** The MAC refreshes every window replays, checked still standing per hit. */
  refreshed: Array<{ bridge: Bridge; l: MacLearned }>;
}

/** The state at one point of a watched new client's ARP (see {@link PathCaches.narpMark}). */
interface NarpMark {
  stages: Int32Array;
  edges: number[];
  drops: number;
  rules: number[];
  macs: number[];
  speakerFx: number[];
  outside: number;
  wires: number;
  answered: boolean;
  fdb: number;
}

/** A new client's ARP being watched: marks around each of the switch's outermost runs. */
interface NarpWatch {
  start: NarpMark;
  marks: NarpMark[];
  runs: Array<{ node: string; from: string; depth: number; frame: Uint8Array; inport: string }>;
  /** Nodes whose LOCAL port the request reached, with how many switch runs had started then. */
  locals: Array<{ node: string; runs: number }>;
  level: number;
  effects: BridgeEffects[];
  speakerFx: ResponderDrop[][];
  fdbEvictions: number;
  bridgeEvictions: number[];
}

export class PathCaches implements PathWatch, OutPathCache {
  private readonly flows = new FlowCache();
  private readonly arps = new LruTable<number, ArpEntry>(16384);
  private arpHits = 0;
  private readonly scratch = new Uint8Array(65536 + 64);
  private readonly scratchView = new DataView(this.scratch.buffer);
  private readonly scratch32 = new Int32Array(this.scratch.buffer);
  private readonly scratch64 = new Float64Array(this.scratch.buffer);
  /** The last source array {@link copyIn} read, and a DataView of it. */
  private inArray: Uint8Array | undefined;
  private readonly emptyView = new DataView(new ArrayBuffer(0));
  private inView: DataView = this.emptyView;
  /** {@link scratch} from byte 4: a frame copied into scratch with one 802.1Q tag is here untagged once its MACs move. */
  private readonly scratch4 = this.scratch.subarray(4);
  private readonly scratch4Views: Array<Uint8Array | undefined> = [];
  /** Exact-length views of {@link scratch}, made once per length: the wire's observer gets the frame without a view per frame. */
  private readonly scratchViews: Array<Uint8Array | undefined> = [];
  private readonly work = new Uint8Array(65536 + 64);
  private readonly work32 = new Int32Array(this.work.buffer);
  /** Exact-length views of {@link work}, made once per length: a new-client ARP's untagged copy needs no view per window. */
  private readonly workViews: Array<Uint8Array | undefined> = [];
  private readonly hd = new DecodedFrame();
  /** The way in's frame at the switch as decodePlainTcp4 would decode it, for a fast-lane hit ({@link hit}). */
  private readonly inDecode = untaggedTcp4Decode();
  private readonly decoder = new FrameDecoder();
  private split: Split | undefined;
  private splitStore: Split | undefined;
  private readonly splitFrame = new ScratchCopy();
  private flowWatch: Watch | undefined;
  private watching = false;
  /** Whether the full-path run being watched recorded its steps (they go into the entry). */
  private tracedEntry = false;

  /** {@link findWild}'s last entry found, its hash, and the flow table's {@link FlowCache.stamp} then. */
  private lastWild: CacheEntry | undefined;
  private lastWildHash = 0;
  private lastWildStamp = -1;
  /** What br-provider's flows match on, beyond the fields every key holds. */
  private readonly reads = new BridgeReads();
  /** The key of the frame being served ({@link keyOf}) and br-provider's flow key of it (for the extra slots). */
  private readonly kw = new Int32Array(BASE_WORDS + 64);
  private kn = 0;
  private readonly ofKey = newKey();
  /** A scratch copy for checking a new entry's compiled edits. */
  private readonly check = new Uint8Array(65536 + 64);
  private readonly checkD = new DecodedFrame();

  /** The way back out: entries by a hash of their key, and what br-provider's flows read there per node. */
  private readonly backs = new LruTable<number, BackEntry>(16384);
  /** What entries do, shared between those that do the same. */
  private readonly inPrograms = new Programs<InProgram>(4096, sameInProgram);
  private readonly backPrograms = new Programs<BackProgram>(4096, sameBackProgram);
  private readonly backReads = new Map<NodePath, BackReads>();
  /** The last path's reads (answers come from one node's switch in runs): no lookup per answer. */
  private lastBackPath: NodePath | undefined;
  private lastBackReads: BackReads | undefined;
  private lastBackMix = 0;
  /**
   * The last answer's array {@link fromPatch} read and a DataView of it: the answers come from the switch's long-lived
   * output buffer (one array over a whole http or full-cold replay), so the view is made once.
   */
  private backArray: Uint8Array | undefined;
  private backView: DataView = this.emptyView;
  /**
   * {@link fromPatch}'s last wild entry found, and {@link backStamp} then; backStamp moves whenever {@link backs} gains
   * or loses an entry (a set may evict another).
   */
  private lastBackWild: BackEntry | undefined;
  private lastBackWildStamp = -1;
  private backStamp = 0;
  private backHits = 0;
  private backMisses = 0;
  /** Set while any watch runs: the way back out then runs for real (a watch records what it does). */
  private inWatch = false;
  private readonly bd = new DecodedFrame();
  private readonly bw = new Int32Array(8 + 64);
  private readonly bExpect = new ScratchCopy();
  private readonly bTagHead = new TagHeadWriter();
  private readonly bStages = new Int32Array(16);
  private readonly bEdges: number[] = [];
  private readonly bFx = new BridgeEffects();
  private readonly bSpeakerFx: ResponderDrop[] = [];
  /** Hashes of back keys that missed once, direct-mapped (a collision only delays an entry). */
  private readonly backSeen = new Int32Array(1 << 14);
  /** Frames the node's own stack drops, by the way-in key and the ICMP type (see HostEntry). */
  private readonly hosts = new LruTable<number, HostEntry>(16384);
  private hostHits = 0;
  /** New clients' first ARP requests (see NewArpEntry), by a hash of the request without its sender. */
  private readonly newArps = new LruTable<number, NewArpEntry>(4096);
  private newArpHits = 0;
  private narp: NarpWatch | undefined;
  private readonly narpHead = new Uint8Array(ARP_HEAD);
  /**
   * The new client's MAC (the request's source) {@link newArpCandidate} read last, for {@link narpUsable} and
   * {@link narpReplay}, which serve calls after it for the same request. A 48-bit number: read here from a tagged
   * field (null first, as InEntry's MACs), it is one heap number a request, made once; computed in each (neither is
   * inlined into serve), it was boxed again for every call it was passed to — the tables', each window's (≈ 6 a request).
   */
  private narpSrc: number = null as unknown as number;
  private readonly narpBefore = new Int32Array(16);
  private readonly narpAfter = new Int32Array(16);

  constructor(private readonly host: CacheHost) {
    host.dp.outCache = this;
  }

  stats(): { hits: number; misses: number; stale: number; entries: number; arpHits: number; arpEntries: number; newArpHits: number; newArpEntries: number; backHits: number; backMisses: number; backEntries: number; hostHits: number; hostEntries: number } {
    const c = this.flows;
    return { hits: c.hits, misses: c.misses, stale: c.stale, entries: c.size, arpHits: this.arpHits, arpEntries: this.arps.size, newArpHits: this.newArpHits, newArpEntries: this.newArps.size, backHits: this.backHits, backMisses: this.backMisses, backEntries: this.backs.size, hostHits: this.hostHits, hostEntries: this.hosts.size };
  }

  /**
   * A frame from the outside, through the caches when it can be. `keep`: {@link SimulatedCluster.inject} wants
   * the whole result (with steps when tracing); {@link SimulatedCluster.process} only the verdict and callbacks,
   * which it makes itself from the result (its own fields: no getter of a host object per frame). `unread`: nobody
   * reads the delivered frames' bytes (no onDeliver), so the switch's buffer may go to a pod as it is.
   * Returns the result (for `keep`, the caller's; otherwise valid until the next frame).
   */
  serve(frame: Uint8Array, offset: number, length: number, now: number, keep: boolean, unread = false): InjectResult {
    const host = this.host;
    const dp = host.dp;
    const rec = dp.rec;
    const buf = this.scratch;
    if (length > 65536) length = 65536;
    if (offset === 0 && length === frame.length) buf.set(frame);
    else this.copyIn(frame, offset, length);
    // Compared, not tested for truth: `keep` and the field untyped are V8's ToBoolean chain each (see hit).
    const tracing = keep === true && rec.tracing === true;
    // Only the wire's capture is replayed: a capture of the node ports wants the full path.
    const usable = !dp.portTapped;
    if (usable) {
      const f = this.fastKey(length);
      if (f !== 0) {
        const n = f & KEY_WORDS;
        if (!tracing) {
          // fastKey compared the frame's words with the remembered wild entry's key as it read them (WILD_SEEN).
          const we = f !== n ? this.wildFresh(this.lastWild!, this.lastWildHash) : this.findWild(n);
          if (we !== undefined && this.wildInUsable(we, buf)) return this.hit(we, length, now, keep, unread);
        }
        const e = this.flows.find(FlowCache.hashWords(this.kw, n), this.kw, n);
        if (e !== undefined && !e.wild && this.usable(e) && !(tracing && e.prog.stages === undefined)) return this.hit(e, length, now, keep, unread);
      }
    }
    const d = this.hd;
    this.decoder.decode(buf, d, length);
    // ARP requests for what the owner answers, and their IPv6 counterpart, neighbor solicitations to a
    // solicited-node group: the same request is answered from the ARP cache.
    const arpCandidate = usable && d.status === 0 && d.vlanCount === 1 && (d.l3 === L3.ARP ? d.arpOp === 1 && length >= 46 && (buf[0]! & buf[1]! & buf[2]! & buf[3]! & buf[4]! & buf[5]!) === 0xff : d.l3 === L3.IPV6 && multicastNs(buf, d, length));
    let arpHash = 0;
    if (arpCandidate) {
      arpHash = d.l3 === L3.ARP ? FlowCache.hash((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!, d.arpSpa, d.arpTpa, length, (buf[6]! << 8) | buf[7]!, d.vlanTci[0]!) : hashBytes(buf, length);
      const e = this.arps.get(arpHash);
      if (e && e.length === length && sameBytes(buf, e.head, e.head.length) && this.arpUsable(e) && !(tracing && e.stages === undefined)) return this.arpReplay(e, buf, length, now, keep);
    }
    // A new client's first ARP request, untraced (an entry has no steps): the switch runs, the rest is replayed —
    // kept too (inject, a replay's summary lines): the windows' drops are listed between the runs' own, in the full
    // path's order.
    let narpHash = -1;
    if (arpCandidate && !tracing && d.l3 === L3.ARP && this.newArpCandidate(buf, d)) {
      narpHash = this.narpKey(buf);
      const ne = this.newArps.get(narpHash);
      if (ne !== undefined && ne.length === length && sameBytes(this.narpHead, ne.head, ARP_HEAD)) {
        if (this.narpUsable(ne, buf)) return this.narpReplay(ne, buf, length, now, keep);
        this.newArps.delete(narpHash);
      }
    }
    // The class cached: one 802.1Q tag, a valid IPv4 or IPv6 header (any protocol, flags, payload, options,
    // extension headers or fragment: the key says which).
    const candidate = usable && !arpCandidate && d.status === 0 && d.vlanCount === 1 && (d.l3 === L3.IPV4 || d.l3 === L3.IPV6);
    let hash = 0;
    if (candidate) {
      const n = (this.kn = d.l3 === L3.IPV4 ? this.keyOf(buf, d) : this.keyOf6(buf, d));
      if (!tracing) {
        const we = this.findWild(n);
        if (we !== undefined && this.wildInUsable(we, buf)) return this.hit(we, length, now, keep, unread);
      }
      hash = FlowCache.hashWords(this.kw, n);
      const found = this.flows.find(hash, this.kw, n);
      const e = found !== undefined && !found.wild ? found : undefined;
      if (e !== undefined) {
        // An entry made without steps (on process's path) cannot answer a traced inject: that one takes the full
        // path once more and records them.
        if (this.usable(e) && !(tracing && e.prog.stages === undefined)) return this.hit(e, length, now, keep, unread);
        this.flows.stale++;
        this.flows.delete(hash);
      }
      // A frame br-provider hands to its node's stack, which drops it (see HostEntry): untraced only.
      if (!tracing && this.hosts.size !== 0) {
        const he = this.hostFind(hash, d, now);
        if (he !== undefined) return this.hostReplay(he, buf, length, now, keep);
      }
      this.flows.misses++;
    }
    if (narpHash >= 0 && !host.dueNow()) {
      const nw = this.narpBegin();
      let r: InjectResult | undefined;
      try {
        r = this.fullPath(buf, length, now, keep, true);
      } finally {
        this.narpStop();
      }
      this.narpEnd(nw, narpHash, r, buf, length);
      return r;
    }
    // The full path, watched when the packet could become an entry (with its steps when they are wanted).
    const watch = (candidate && this.couldMake(buf)) || (arpCandidate && this.arpCouldMake(buf)) ? this.watchBegin(arpCandidate) : undefined;
    const saved = rec.tracing;
    rec.tracing = tracing;
    const r = this.fullPath(buf, length, now, keep, watch !== undefined);
    rec.tracing = saved;
    this.tracedEntry = tracing;
    if (watch && arpCandidate) this.arpWatchEnd(watch, arpHash, r, buf, length, d.l3 === L3.ARP ? 46 : length);
    else if (watch) this.watchEnd(watch, hash, r, buf, length);
    return r;
  }

  /**
   * Copies `frame[offset, offset + length)` into {@link scratch} without a view of it: four bytes at a time read through
   * a DataView of the source made once per source array (a capture's chunk holds thousands of frames). A byte
   * loop cost 2 % of http; set() needs a view per frame (≈ 100 bytes of garbage).
   */
  private copyIn(frame: Uint8Array, offset: number, length: number): void {
    let src = this.inView;
    if (this.inArray !== frame) {
      src = this.inView = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
      this.inArray = frame;
    }
    // The words (copy-in.ts says why each way: doubles, then the last whole word, on a little-endian host) — the frame
    // rounded up to whole words when the source has the bytes after it (wordBytes: scratch is read at the frame's
    // length) —, then any bytes after the last whole one.
    const words = wordBytes(offset, length, frame.length);
    let i = COPY_DOUBLES ? copyInLe(src, offset, words, this.scratch64, this.scratch32) : copyWordsView(src, offset, words, this.scratchView);
    const buf = this.scratch;
    for (; i < length; i++) buf[i] = frame[offset + i]!;
    // Not kept past the reader's use of it: a frame ending in its last 2 KiB (a capture's last records, a chunk's
    // last whole ones) lets it go — else the simulation would hold an 87 MiB capture in memory after a replay.
    if (offset + length > frame.length - 2048) {
      this.inArray = undefined;
      this.inView = this.emptyView;
    }
  }

  /** `scratch[0, length)`, a view kept per length (every replay's frame is in {@link scratch}: serve copies it there). */
  private scratchView0(length: number): Uint8Array {
    return keptView(this.scratchViews, this.scratch, length);
  }

  /** The path from the outside, uncached: the wire's hop onwards, on a copy of the frame. */
  private fullPath(buf: Uint8Array, length: number, now: number, keep: boolean, watched: boolean): InjectResult {
    const dp = this.host.dp;
    dp.rec.begin(keep);
    // Unwatched and unkept, nobody reads the frame's list of drops.
    dp.rec.lean = !keep && !watched;
    dp.now = now;
    // The hops edit the frame in place and copy what they keep (br-provider, the switch, the pods, the outputs):
    // a second scratch buffer holds it, not a fresh copy per frame.
    const copy = this.work.subarray(0, length);
    copy.set(buf.subarray(0, length));
    // Captures taken on the sending host hold offload-partial checksums that its NIC completes on the way out;
    // on the wire (where this frame enters) they are complete.
    this.decoder.decode(copy, dp.d);
    if (completeOffloadChecksum(copy, dp.d)) this.host.checksumCompleted();
    dp.wire('outside', copy, 0);
    return dp.rec.finish();
  }

  /**
   * The fast lane: the commonest layout (one 802.1Q tag, IPv4 without options or fragments, TCP) recognised and read
   * at fixed offsets by readTaggedTcp4Addresses (@vippath/wire's readPlainTcp4Addresses for that layout, read by
   * words) — the checks FrameDecoder makes for that layout, and of
   * the decoded frame only what a hit reads (completeOffloadChecksum's fields) and the key's port, as decode() sets
   * them; status says so — and its key written as {@link keyOf} would (0 when the layout differs or br-provider's
   * flows read more than the base words). The key's first words are the cache's own layout (`linkWords`': the MACs
   * and the tag's TCI as words, which no DecodedFrame field holds so) and the classification this layout implies;
   * its address and port come from the subset read. A frame it declines, or whose entry is missing or stale, goes the
   * general way, where serve() decodes it in full before anything else reads the decoded frame. Returns the key's
   * length in words ({@link KEY_WORDS}), with {@link WILD_SEEN} set when it is findWild's remembered entry's key.
   */
  private fastKey(length: number): number {
    const d = this.hd;
    // Big-endian words through the scratch buffer's DataView: one bounds check a word, not one a byte — the layout's
    // checks and the addresses too (readTaggedTcp4Addresses: wire's readPlainTcp4Addresses for the tagged frames).
    const v = this.scratchView;
    if (!readTaggedTcp4Addresses(v, length, d)) return 0;
    this.reads.refresh(this.host.bridges);
    if (this.reads.slots.length !== 0) return 0;
    const w = this.kw;
    const w0 = v.getUint16(0);
    const w1 = v.getInt32(2);
    const w4 = v.getUint16(14);
    const w7 = d.ipDst | 0;
    const w8 = d.dstPort;
    w[0] = w0;
    w[1] = w1;
    w[SRC_HI] = v.getUint16(6);
    w[SRC_LO] = v.getInt32(8);
    w[4] = w4;
    w[5] = 0x0800;
    w[6] = PLAIN_TCP4_SHAPE;
    w[7] = w7;
    w[8] = w8;
    // findWild's remembered entry, compared here with the words as read (not loaded again from kw in a call of its
    // own): every frame of a client behind the gateway, and of every on-link client, is its key but for the source.
    const m = this.lastWild;
    if (m !== undefined && this.lastWildStamp === this.flows.stamp && this.reads.src === false && m.keyLength === BASE_WORDS) {
      const k = m.key;
      if (k[0] === w0 && k[1] === w1 && k[4] === w4 && k[5] === 0x0800 && k[6] === PLAIN_TCP4_SHAPE && k[7] === w7 && k[8] === w8) return BASE_WORDS | WILD_SEEN;
    }
    return BASE_WORDS;
  }

  /**
   * The key of the decoded frame in `buf` into {@link kw}; returns its length in words. What the path up to the
   * switch reads: the MACs and the tag (the wire, the NIC), the decoder's classification (EtherType, IHL,
   * fragment bits, whether the transport header was read, the protocol) and what br-provider's flow key holds
   * for the fields its flows match on — the destination address and port always (Kube-OVN's rules), any other
   * slot only as far as some flow's mask reaches.
   */
  private keyOf(buf: Uint8Array, d: DecodedFrame): number {
    const w = this.kw;
    linkWords(w, buf, d);
    const l4 = d.l4Offset >= 0;
    const proto = d.ipProto;
    w[6] = d.ipHeaderLength | (d.ipFragment ? 0x100 : 0) | (d.ipFragmentOffset !== 0 ? 0x200 : 0) | (l4 ? 0x400 : 0) | (proto << 16);
    w[7] = d.ipDst;
    // tp_dst as br-provider's flow key has it (lib/flow.c: ICMP's code).
    w[8] = !l4 ? 0 : proto === 6 || proto === 17 || proto === 132 ? d.dstPort : proto === 1 ? d.icmpCode : 0;
    const reads = this.reads;
    reads.refresh(this.host.bridges);
    return this.readWords(buf, d, BASE_WORDS, reads.slots, reads.masks);
  }

  /** After a key's `base` words: br-provider's flow-key `slots` its flows read, masked; the key's length in words. */
  private readWords(buf: Uint8Array, d: DecodedFrame, base: number, slots: Int32Array, masks: Uint32Array): number {
    if (slots.length === 0) return base;
    const k = this.ofKey;
    const w = this.kw;
    extractKey(buf, d, 0, k);
    for (let i = 0; i < slots.length; i++) w[base + i] = (k[slots[i]!]! & masks[i]!) | 0;
    return base + slots.length;
  }

  /**
   * {@link keyOf} for an IPv6 frame ({@link BASE_WORDS_6}' layout): the MACs and the tag, the EtherType, the
   * decoder's classification ({@link shape6}), the destination address as four big-endian words and tp_dst as
   * br-provider's flow key has it (ICMPv6's code), then what br-provider's flows read beyond those in an IPv6
   * frame's flow key — the traffic class's DSCP, the hop limit, the source, the ND target, the ports and flags
   * only as far as some flow's mask reaches. The flow label is in no flow key: nothing up to the switch reads it.
   */
  private keyOf6(buf: Uint8Array, d: DecodedFrame): number {
    const w = this.kw;
    linkWords(w, buf, d);
    w[6] = shape6(d);
    const a = d.l3Offset + 24;
    for (let i = 0; i < 4; i++) {
      const o = a + 4 * i;
      w[7 + i] = (buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!;
    }
    const proto = d.ipProto;
    w[11] = d.l4Offset < 0 ? 0 : proto === 6 || proto === 17 || proto === 132 ? d.dstPort : proto === 58 ? d.icmpCode : 0;
    const reads = this.reads;
    reads.refresh(this.host.bridges);
    return this.readWords(buf, d, BASE_WORDS_6, reads.slots6, reads.masks6);
  }

  /**
   * Whether a frame's run could make an entry at all: the wire knows its source on the outside (the first frame
   * from a MAC changes the table it rests on while it runs) and its destination on a node (else it floods).
   * Others are not watched: a watch costs two copies of the counters and the effects, for nothing.
   */
  private couldMake(buf: Uint8Array): boolean {
    const fdb = this.host.dp.segment.fdb;
    if (fdb.get(macNumber(buf, 6)) !== 'outside') return false;
    const to = fdb.get(macNumber(buf, 0));
    return to !== undefined && to !== 'outside';
  }

  /**
   * Whether an ARP request's run could make an entry: not when the wire is about to learn its sender (a new
   * client's first request, or one that moved) — the table changes while it runs, which {@link arpWatchEnd}
   * refuses. Such a request (every on-link client's first, in a capture of new clients) takes the full path
   * unwatched: lean, with no effects recorded anywhere.
   */
  private arpCouldMake(buf: Uint8Array): boolean {
    return (buf[6]! & 1) !== 0 || this.host.dp.segment.fdb.get(macNumber(buf, 6)) === 'outside';
  }

  /**
   * The {@link CacheEntry.wild} entry for the key in {@link kw}`[0, n)` (looked up with the source MAC's words 0),
   * if any; none while some flow matches on the source MAC.
   */
  private findWild(n: number): CacheEntry | undefined {
    if (this.reads.src === true) return undefined;
    const w = this.kw;
    // The entry this found last, while the table is as it was then: a frame whose key it is (every frame of a
    // client behind the gateway, every on-link client's) gets it without the hash and the table's lookup — what
    // that lookup would give, the table unchanged.
    const m = this.lastWild;
    let e: CacheEntry | undefined;
    let h: number;
    if (m !== undefined && this.lastWildStamp === this.flows.stamp && sameWild(m.key, w, n, m.keyLength)) {
      e = m;
      h = this.lastWildHash;
    } else {
      const s0 = w[SRC_HI]!;
      const s1 = w[SRC_LO]!;
      w[SRC_HI] = 0;
      w[SRC_LO] = 0;
      h = (FlowCache.hashWords(w, n) ^ WILD_MIX) & 0x3fffffff;
      e = this.flows.find(h, w, n);
      w[SRC_HI] = s0;
      w[SRC_LO] = s1;
      if (e !== undefined && e.wild === true) {
        this.lastWild = e;
        this.lastWildHash = h;
        this.lastWildStamp = this.flows.stamp;
      }
    }
    if (e === undefined || e.wild === false) return undefined;
    return this.wildFresh(e, h);
  }

  /** The wild entry `e` (under hash `h`) unless a fact every frame of it rests on changed: then it is dropped as stale. */
  private wildFresh(e: CacheEntry, h: number): CacheEntry | undefined {
    // Stale as an exact entry would be (another source only passes it by).
    if (e.generation !== this.host.generation || e.prog.bridge.version !== e.bridgeVersion) {
      this.flows.stale++;
      this.flows.delete(h);
      return undefined;
    }
    return e;
  }

  /**
   * {@link usable} for a {@link CacheEntry.wild} entry ({@link findWild} checked the versions) and the frame in
   * `buf`: the wire must hold the frame's own source on the outside (its learning then only refreshes it) and the
   * destination on the entry's node — checked again when the source or the table changed since the last check.
   */
  private wildInUsable(e: CacheEntry, buf: Uint8Array): boolean {
    const seg = this.host.dp.segment;
    // The source MAC as the key's two words (every caller's kw holds the frame's): two loads, not six bytes' — and no
    // 48-bit number: the entry keeps the two words and the wire's table takes them (getHalves), where a number stored
    // in the entry, or passed to a call not inlined, is a new heap number each time the source changes.
    const w = this.kw;
    const hi = w[SRC_HI]!;
    const lo = w[SRC_LO]!;
    if (e.fdbStamp !== seg.changes || lo !== e.srcLo || hi !== e.srcHi) {
      if ((buf[6]! & 1) !== 0 || seg.fdb.getHalves(hi, lo) !== 'outside') return false;
      // The destination only when the table changed since the stamp: at the stamp it was on the entry's node (every
      // check that moves the stamp found it there, as the entry's making did), and only a change moves it — a new
      // source alone (a client's first frame through a wild entry) leaves it where it was: one lookup, not two.
      if (e.fdbStamp !== seg.changes && seg.fdb.get(e.dstMac) !== e.prog.node) return false;
      e.srcHi = hi;
      e.srcLo = lo;
      e.fdbStamp = seg.changes;
    }
    return true;
  }

  /** Whether every fact entry `e` rests on still holds: versions, and the wire's MAC table. */
  private usable(e: CacheEntry): boolean {
    if (e.generation !== this.host.generation || e.prog.bridge.version !== e.bridgeVersion) return false;
    // The wire's table: unchanged since the last check, or checked again now.
    const seg = this.host.dp.segment;
    if (e.fdbStamp !== seg.changes) {
      if (seg.fdb.getHalves(e.srcHi, e.srcLo) !== 'outside' || seg.fdb.get(e.dstMac) !== e.prog.node) return false;
      e.fdbStamp = seg.changes;
    }
    return true;
  }

  /**
   * A flow-cache hit: the path up to the OVN switch replayed — the wire's capture of the frame, its MAC table
   * refreshed, the untag and br-provider's rewrite of the addresses, the rules' statistics, the counters — then the
   * switch, the pods and whatever they answer run for real (their state, conntrack above all, changes as on the
   * full path).
   */
  private hit(e: CacheEntry, length: number, now: number, keep: boolean, unread: boolean): InjectResult {
    const buf = this.scratch;
    const host = this.host;
    const dp = host.dp;
    const rec = dp.rec;
    this.flows.hits++;
    const saved = rec.tracing;
    // The booleans (an argument, fields) compared with true/false and the tap with undefined: a plain test of one
    // is V8's ToBoolean chain, per frame here (bench/README "Booleans tested as booleans (session 35)").
    rec.tracing = keep === true && saved;
    rec.begin(keep);
    rec.lean = keep === false;
    dp.now = now;
    dp.segment.fdb.touchHalves(e.srcHi, e.srcLo);
    // The fast lane's frames (the subset read's status) are tested at fixed offsets first: nearly none is partial.
    const hd = this.hd;
    if ((hd.status !== DecodeStatus.PLAIN_TCP4_ADDRESSES || mayBePartialTcp4At18(buf, hd)) && completeOffloadChecksum(buf, hd)) host.checksumCompleted();
    if (dp.onWire !== undefined) dp.onWire('outside', this.scratchView0(length), now);
    // Untagged without moving the frame: the switch gets the scratch buffer from byte 4, where the MACs (the
    // entry's, br-provider's rewrite) overwrite the old ones and the tag, and the rest is already in place.
    const len = length - 4;
    // A plain TCP/IPv4 frame (the decode handed over below: the hop reads none of its bytes after the switch) is lent
    // to the switch, which walks it in place and hands it out (LogicalSwitch.processInto's `lend`, an argument down to
    // the executor's run): the whole scratch buffer from byte 4, room to spare. Any other, an exact-length view made
    // once per length: the switch copies a frame whose length is its array's with one set(), any other byte by byte.
    // Not while the wire is observed: an observer may keep the view of the frame it was shown (above).
    const lend = hd.status === DecodeStatus.PLAIN_TCP4_ADDRESSES && rec.tracing !== true && dp.watch === undefined && dp.onWire === undefined;
    const sw = lend ? this.scratch4 : keptView(this.scratch4Views, this.scratch4, len);
    // The addresses at the switch as the scratch buffer's aligned words 1–3 (bytes 4–15): the three words after the
    // key, in the host's byte order — or, for a wild entry whose rules leave the source alone, the destination from
    // them and the frame's own source, moved over the tag as the halves of two words read before anything is written.
    // Whole words, not bytes: a byte store is a bounds check and a store of its own in TurboFan's code, a DataView's
    // word no cheaper (bench/README "The cluster caches' way-in writes and way-back lookup (session 32)").
    const k = e.key;
    const j = e.keyLength;
    const s32 = this.scratch32;
    if (e.keepSrc === true) {
      const w1 = s32[1]!;
      s32[3] = s32[2]!;
      s32[2] = HOST_LE ? (k[j + 1]! & 0xffff) | (w1 & ~0xffff) : (k[j + 1]! & ~0xffff) | (w1 & 0xffff);
    } else {
      s32[2] = k[j + 1]!;
      s32[3] = k[j + 2]!;
    }
    s32[1] = k[j]!;
    const p = e.prog;
    rec.creditLater(p);
    // The rules' statistics, with this frame's own length (each rule counted it as the bridge held it).
    const rules = p.rules;
    for (let i = 0; i < rules.length; i++) p.bridge.credit(rules[i]!, length + p.byteDelta[i]!);
    if (rec.tracing === true) for (const st of p.stages!) rec.r.stages.push(st);
    dp.deliveriesUnread = keep === false && unread === true;
    // The fast lane's frame at the switch decoded from what fastKey read and a few words more (the switch takes it
    // instead of decoding the frame: LogicalSwitch.processInto's `decoded`): untagged, its IPv4 header at 14, the
    // tagged frame's fields four bytes on. The fields every such frame shares were written once (untaggedTcp4Decode).
    let given: DecodedFrame | undefined;
    if (hd.status === DecodeStatus.PLAIN_TCP4_ADDRESSES) {
      const v = this.scratchView;
      const d = this.inDecode;
      const l4Length = hd.l4Length;
      const hl = (buf[50]! >> 4) << 2;
      d.length = len;
      d.l3End = 34 + l4Length;
      d.ipSrc = hd.ipSrc;
      d.ipDst = hd.ipDst;
      d.ipTos = buf[19]!;
      d.ipTtl = buf[26]!;
      d.l4Length = l4Length;
      d.srcPort = v.getUint16(38);
      d.dstPort = hd.dstPort;
      d.tcpSeq = v.getUint32(42);
      d.tcpAck = v.getUint32(46);
      d.tcpFlags = ((buf[50]! & 1) << 8) | buf[51]!;
      d.payloadOffset = 34 + hl;
      d.payloadLength = l4Length - hl;
      given = d;
    }
    try {
      p.path.ovnAt(sw, dp.localnetIn, p.fromAt, p.depth, len, false, given, lend, now);
    } finally {
      dp.deliveriesUnread = false;
    }
    const r = rec.finish();
    rec.tracing = saved;
    return r;
  }

  /**
   * The way back out (a pod's answer, un-DNAT'd by the switch, out of the localnet port into `path`'s
   * br-provider, its NORMAL, the NIC's tag and the wire to the outside), as a megaflow: keyed on what that path
   * reads — the MACs (NORMAL's learning and lookup, the wire's, the host's), the EtherType and IPv4 shape (the
   * decoder, MetalLB's responder, which lets IPv4 pass), and what br-provider's flows that can see the patch port
   * match on — not the addresses, ports, flags or payload. A hit credits the rules with the frame's length,
   * refreshes the MACs NORMAL saw, tags the frame and puts it on the wire as the full path does.
   */
  fromPatch(path: NodePath, frame: Uint8Array, length: number, from: number, depth: number): boolean {
    const host = this.host;
    const dp = host.dp;
    const rec = dp.rec;
    // Compared (see hit).
    if (rec.tracing === true || this.inWatch === true || dp.portTapped || dp.wireSeen !== undefined || depth + 8 > MAX_DEPTH) return false;
    const len = length;
    if ((frame[6]! & 1) !== 0) return false;
    let reads: BackReads | undefined;
    if (path === this.lastBackPath) reads = this.lastBackReads!;
    else {
      reads = this.backReads.get(path);
      if (reads === undefined) this.backReads.set(path, (reads = new BackReads(path.bridge, path.patchPort)));
      this.lastBackPath = path;
      this.lastBackReads = reads;
      this.lastBackMix = Math.imul(path.mac % 0x100000000, 0x27d4eb2d);
    }
    reads.refresh();
    const slots = reads.slots;
    const w = this.bw;
    // The MACs' words and the layout's checks through a view of the answer's array (big-endian words: one bounds check
    // a word, not one a byte); an array too short for the view's reads, byte by byte.
    let plain: boolean;
    if (frame.length >= 12) {
      let v = this.backView;
      if (frame !== this.backArray) {
        v = this.backView = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
        this.backArray = frame;
      }
      w[0] = v.getUint16(0);
      w[1] = v.getInt32(2);
      w[2] = v.getUint16(6);
      w[3] = v.getInt32(8);
      // (A length past the array's, which the switch's outputs never have, is read as plainTcp4 reads it.)
      plain = slots.length === 0 && (len <= frame.length ? plainTcp4At14(v, len) : plainTcp4(frame, len) === 14);
    } else {
      w[0] = (frame[0]! << 8) | frame[1]!;
      w[1] = (frame[2]! << 24) | (frame[3]! << 16) | (frame[4]! << 8) | frame[5]!;
      w[2] = (frame[6]! << 8) | frame[7]!;
      w[3] = (frame[8]! << 24) | (frame[9]! << 16) | (frame[10]! << 8) | frame[11]!;
      plain = slots.length === 0 && plainTcp4(frame, len) === 14;
    }
    let n = 6;
    // The commonest answer (untagged IPv4 without options or fragment bits, a valid TCP header), when the flows
    // read nothing beyond the base words, is keyed at fixed offsets: the decoder's checks for that layout
    // (plainTcp4At14: wire's plainTcp4 by words), not the decoder. Anything else is decoded.
    if (plain) {
      w[4] = 0x0800;
      w[5] = 20 | 0x400 | (6 << 16);
    } else {
      const d = this.bd;
      this.decoder.decode(frame, d, len);
      if (d.status !== 0 || d.vlanCount !== 0) return false;
      w[4] = d.etherType;
      if (d.l3 === L3.IPV4) w[5] = d.ipHeaderLength | (d.ipFragment ? 0x100 : 0) | (d.ipFragmentOffset !== 0 ? 0x200 : 0) | (d.l4Offset >= 0 ? 0x400 : 0) | (d.ipProto << 16);
      else if (d.l3 === L3.IPV6) w[5] = shape6(d);
      else return false;
      if (slots.length > 0) {
        const k = this.ofKey;
        extractKey(frame, d, path.patchPort, k);
        for (let i = 0; i < slots.length; i++) w[n++] = (k[slots[i]!]! & reads.masks[i]!) | 0;
      }
    }
    // The entry without the destination MAC first (see BackEntry.wild): the answers to every client of a pod.
    const wildOk = reads.dst === false && (frame[0]! & 1) === 0;
    if (wildOk) {
      // The wild entry found last, while the table is as it was then, when this answer's key is its key (its
      // destination words, 0 in the entry, left out): what the hash and the table's lookup would give. Answers come
      // in runs from one pod (the key holds its MAC), so most take it.
      const m = this.lastBackWild;
      let we: BackEntry | undefined;
      if (m !== undefined && this.lastBackWildStamp === this.backStamp && m.prog.path === path && m.prog.from === from && sameBackWild(m.key, w, n)) {
        we = m;
      } else {
        const d0 = w[0]!;
        const d1 = w[1]!;
        w[0] = 0;
        w[1] = 0;
        const wh = (FlowCache.hashWords(w, n) ^ this.lastBackMix ^ WILD_MIX) & 0x3fffffff;
        const c = this.backs.get(wh);
        we = c !== undefined && c.wild && c.prog.path === path && c.prog.from === from && sameWords(c.key, w, n) ? c : undefined;
        w[0] = d0;
        w[1] = d1;
        if (we !== undefined) {
          this.lastBackWild = we;
          this.lastBackWildStamp = this.backStamp;
        }
      }
      if (we !== undefined) {
        if (this.wildUsable(we) === true) {
          this.backReplay(we, frame, len);
          return true;
        }
        // Not for this destination (or no longer at all): an entry keyed on it may still serve; a new one replaces this.
      }
    }
    // The node's MAC mixed in (a 48-bit number: its remainder is a floating-point one), once per node met.
    const hash = (FlowCache.hashWords(w, n) ^ this.lastBackMix) & 0x3fffffff;
    const e = this.backs.get(hash);
    if (e !== undefined && !e.wild && e.prog.path === path && e.prog.from === from && sameWords(e.key, w, n)) {
      if (this.backUsable(e)) {
        this.backReplay(e, frame, len);
        return true;
      }
      this.backs.delete(hash);
      this.backStamp++;
    }
    this.backMisses++;
    if (host.dueNow() || !this.backCouldMake(frame, path)) return false;
    // A key is watched the second time it misses, not the first: a watch costs more than the hop, and a key seen
    // once (every new client's first answer, when each client has a MAC of its own) may never come again.
    const slot = hash & (this.backSeen.length - 1);
    if (this.backSeen[slot] !== hash) {
      this.backSeen[slot] = hash;
      return false;
    }
    this.backWatch(path, frame, len, from, depth, hash, w.slice(0, n), wildOk);
    return true;
  }

  /**
   * {@link backUsable} for a {@link BackEntry.wild} entry and the answer in {@link bw} (its key's words, the
   * destination MAC's among them, which the entry's key left out): the wire must still send it to the outside and
   * NORMAL's lookup give the entry's port (both what the full path reads of it), and it must not be the source
   * (NORMAL would answer the patch port).
   */
  private wildUsable(e: BackEntry): boolean {
    const host = this.host;
    const dp = host.dp;
    const p = e.prog;
    if (e.generation !== host.generation || p.path.bridge.version !== e.bridgeVersion) return false;
    const seg = dp.segment;
    // The wire's table checked for the destination last met, at the stamp: a run of answers to one client (or
    // to the gateway's MAC) costs two comparisons; another destination, two lookups. The destination as the key's two
    // words (fromPatch's bw holds the answer's), kept and looked up as they are (see wildInUsable): no 48-bit number.
    const w = this.bw;
    const hi = w[0]!;
    const lo = w[1]!;
    if (e.fdbStamp !== seg.changes || lo !== e.dstLo || hi !== e.dstHi) {
      if ((lo === e.srcLo && hi === e.srcHi) || seg.fdb.getHalves(e.srcHi, e.srcLo) !== p.path.node || seg.fdb.getHalves(hi, lo) !== 'outside') return false;
      if (lo !== e.dstLo || hi !== e.dstHi) e.normalEntry = undefined;
      e.dstHi = hi;
      e.dstLo = lo;
      e.fdbStamp = seg.changes;
    }
    const b = p.path.bridge;
    const macs = p.macFx.macs;
    for (let i = 0; i < macs.length; i++) if (!b.learnedStill(macs[i]!)) return false;
    const normal = p.normal;
    if (normal === undefined) return true;
    // NORMAL's lookup (Bridge.normalLookup) by the entry it found last for this destination while that entry stands
    // (BackEntry.normalEntry): the answers of a run go to one client, or to the gateway's MAC.
    let ne = e.normalEntry;
    if (ne === undefined || b.entryStands(ne) === false) e.normalEntry = ne = b.normalEntry(normal, e.dstHi, e.dstLo);
    return b.entryLookup(ne, dp.now) === p.dstPort;
  }

  /** Whether the wire knows the answer's source on its node and its destination outside (else it floods or learns). */
  private backCouldMake(frame: Uint8Array, path: NodePath): boolean {
    const fdb = this.host.dp.segment.fdb;
    return fdb.get(macNumber(frame, 6)) === path.node && fdb.get(macNumber(frame, 0)) === 'outside';
  }

  private backUsable(e: BackEntry): boolean {
    const host = this.host;
    const dp = host.dp;
    const p = e.prog;
    if (e.generation !== host.generation || p.path.bridge.version !== e.bridgeVersion) return false;
    const seg = dp.segment;
    if (e.fdbStamp !== seg.changes) {
      if (seg.fdb.getHalves(e.srcHi, e.srcLo) !== p.path.node || seg.fdb.getHalves(e.dstHi, e.dstLo) !== 'outside') return false;
      e.fdbStamp = seg.changes;
    }
    const b = p.path.bridge;
    const macs = p.macFx.macs;
    // The source's learned entry (the pod's MAC on the patch port) must still stand, but its age does not matter,
    // unlike the destination's: NORMAL's learning of a source it holds on the same port only sets its time seen,
    // however old (openflow bridge.ts learnSource: no freshness test, no table change), which is what the replay
    // does; only a destination lookup forgets an aged entry (NORMAL ages lazily), and that, an eviction or a
    // flush sets the entry's port to -1, which learnedStill sees. So an aged source entry gives the full path
    // and the replay the same outputs, effects and table.
    for (let i = 0; i < macs.length; i++) if (!b.learnedStill(macs[i]!)) return false;
    // NORMAL's lookup of the destination: the same answer as when the entry was made (still unknown, or
    // still fresh on that port; an aged entry NORMAL would forget is neither).
    if (p.normal !== undefined && b.entryLookup(b.normalEntry(p.normal, e.dstHi, e.dstLo), dp.now) !== p.dstPort) return false;
    return true;
  }

  private backReplay(e: BackEntry, frame: Uint8Array, len: number): void {
    const dp = this.host.dp;
    const rec = dp.rec;
    this.backHits++;
    const p = e.prog;
    rec.creditLater(p);
    const b = p.path.bridge;
    for (let i = 0; i < p.rules.length; i++) b.credit(p.rules[i]!, len + p.byteDelta[i]!);
    b.replayEffects(p.macFx, dp.now);
    if (p.wire === true) {
      // What the NIC puts on the wire (a copy of its own: the outside's list keeps it), then the wire's hop.
      // Tagged as the NIC does (pushVlan's bytes), in one copy: the frame four bytes on, the MACs put back in
      // front of the tag. The answer is the switch's long-lived output buffer: its views by length are kept.
      // Into the recorder's pool as words through views kept per buffer (TagHeadWriter: sixteen byte stores of the
      // head, each with its bounds checks, were ≈ 90 instructions a call); a kept result's new array (a buffer met
      // once) with set() and the head byte by byte.
      let wired: Uint8Array;
      if (rec.transient) {
        wired = rec.buffer(len + 4);
        const th = this.bTagHead;
        const o = rec.bufferWords();
        const f = th.src32;
        // A short answer (12–56 bytes: the SYN-ACKs and ACKs, two in three) from the switch's buffer met before (the
        // kept source of TagHeadWriter.write, whose view holds all its whole words): the whole tagged frame as fifteen
        // word copies of a fixed count, the head's three words and the tag's, then the frame's words from byte 12 four
        // bytes on — the words past `len` are the source's own bytes, written past the frame's `len + 4` into the
        // pool's buffer, which is the output's alone (and never the switch's: no overlap). set() cost ≈ 180
        // instructions a call here (the builtin's checks and a memmove call); a loop of word copies ≈ 21 a word
        // (TurboFan checked both arrays' maps and reloaded their lengths every turn). Written here, not a call:
        // TagHeadWriter's method, inlined, took the budget the pool's take had (then a call of ≈ 100).
        if (frame === th.src && dp.vlan === th.vlan && len >= 12 && len <= 56 && f.length >= 14 && o.length >= 15) {
          o[0] = f[0]!;
          o[1] = f[1]!;
          o[2] = f[2]!;
          o[3] = th.tagWord;
          o[4] = f[3]!;
          o[5] = f[4]!;
          o[6] = f[5]!;
          o[7] = f[6]!;
          o[8] = f[7]!;
          o[9] = f[8]!;
          o[10] = f[9]!;
          o[11] = f[10]!;
          o[12] = f[11]!;
          o[13] = f[12]!;
          o[14] = f[13]!;
        } else {
          // Any other: the frame four bytes on with one set(), then the head (TagHeadWriter.write's words written
          // here too while its source and VLAN are the kept ones: as a call it took the inlining budget of the wire
          // table's touch).
          wired.set(rec.viewOf(frame, len), 4);
          if (frame === th.src && dp.vlan === th.vlan && len >= 12) {
            o[0] = f[0]!;
            o[1] = f[1]!;
            o[2] = f[2]!;
            o[3] = th.tagWord;
          } else th.write(wired, o, frame, dp.vlan);
        }
      } else {
        wired = new Uint8Array(len + 4);
        wired.set(rec.viewOf(frame, len), 4);
        tagHead(wired, frame, dp.vlan);
      }
      dp.segment.fdb.touchHalves(e.srcHi, e.srcLo);
      dp.onWire?.(p.path.node, wired, dp.now);
      rec.r.outside.push(wired);
    }
    for (let i = 0; i < p.drops.length; i++) rec.drop(p.drops[i]!.at, p.drops[i]!.code);
  }

  /** Runs the way back out for real, watched, and makes an entry when a replay would reproduce it exactly. */
  private backWatch(path: NodePath, frame: Uint8Array, len: number, from: number, depth: number, hash: number, key: Int32Array, wildOk: boolean): void {
    const host = this.host;
    const dp = host.dp;
    const rec = dp.rec;
    const seg = dp.segment;
    // What the wire should see: the frame as it came, tagged (the switch's buffer may be rewritten meanwhile).
    const expect = this.bExpect.copy(frame.length === len ? frame : frame.subarray(0, len));
    rec.stageVector(this.bStages);
    copyInto(this.bEdges, rec.edgeFrames);
    const fdb0 = seg.changes;
    const r = rec.r;
    const outs0 = r.outside.length;
    const delivered0 = r.delivered.length;
    const drops0 = r.drops.length;
    const answered0 = rec.answered;
    const lean = rec.lean;
    // Listed while watched, to learn where the drops happen; put back as counted ones after.
    rec.lean = false;
    const fx = this.bFx;
    fx.clear();
    path.bridge.effects = fx;
    const sfx = this.bSpeakerFx;
    sfx.length = 0;
    for (const sp of host.speakers) sp.effects = sfx;
    this.inWatch = true;
    try {
      path.toBridge(frame, len, path.patchPort, from, depth);
    } finally {
      this.inWatch = false;
      path.bridge.effects = undefined;
      for (const sp of host.speakers) sp.effects = undefined;
    }
    const drops: Array<{ at: string; code: DropCode }> = [];
    for (let i = drops0; i < r.drops.length; i++) drops.push({ at: r.drops[i]!.at, code: r.drops[i]!.code });
    if (lean) {
      r.drops.length = drops0;
      rec.lean = true;
      for (const x of drops) {
        rec.drop(x.at, x.code);
        rec.creditDrops([{ code: x.code, delta: -1 }]);
      }
    }
    // The shape a replay reproduces: br-provider once, to the wire once at most and from there to the outside,
    // LOCAL to the host at most; no switch, pod or responder; nothing learned anew, on the wire or the bridge.
    const deltas = rec.deltasSince(this.bStages, this.bEdges);
    const sd = deltas.stageDelta;
    if (sd[3] !== 1 || sd[2] !== 0 || sd[4] !== 0 || sd[5] !== 0 || sd[6] !== 0 || sd[0]! > 1 || sd[1] !== sd[0]) return;
    const outs = r.outside.length - outs0;
    if (outs !== sd[0] || r.delivered.length !== delivered0 || rec.answered !== answered0 || seg.changes !== fdb0 || sfx.length !== 0) return;
    if (outs === 1) {
      const out = r.outside[outs0]!;
      if (out.length !== len + 4 || out[12] !== 0x81 || out[13] !== 0 || ((out[14]! & 0x0f) << 8 | out[15]!) !== dp.vlan || !sameBytes(out, expect, 12) || !sameBytes(out.subarray(16), expect.subarray(12), len - 12)) return;
      if (((out[14]! << 8) | out[15]!) !== dp.vlan) return;
    }
    if (!onlyForward(fx.rules) || fx.normal > 1 || fx.macs.some((m) => m.created)) return;
    let normal: BackProgram['normal'];
    let dstPort = -1;
    const srcMac = macNumber(frame, 6);
    const dstMac = macNumber(frame, 0);
    if (fx.normal === 1) {
      if (fx.macs.length !== 1 || fx.macs[0]!.mac !== srcMac || srcMac === dstMac) return;
      normal = fx.macs[0]!;
      dstPort = path.bridge.normalLookup(normal, dstMac, dp.now);
      if (dstPort === -2) return;
    } else if (fx.macs.length !== 0) return;
    if (seg.fdb.get(srcMac) !== path.node || seg.fdb.get(dstMac) !== 'outside') return;
    const macFx = new BridgeEffects();
    for (const m of fx.macs) macFx.macs.push(m);
    const byteDelta = new Int32Array(fx.rules.length);
    for (let i = 0; i < fx.rules.length; i++) byteDelta[i] = fx.bytes[i]! - len;
    const made: BackProgram = {
      path, from, stageDelta: deltas.stageDelta, edgeIds: deltas.edgeIds, edgeDelta: deltas.edgeDelta, owed: 0, rules: fx.rules.slice(), byteDelta, macFx, normal, dstPort,
      wire: outs === 1, drops,
    };
    let ph = hashInts(hashInts(hashInts(Math.imul(from ^ dstPort, 0x9e3779b9) ^ fx.rules.length ^ (macFx.macs.length << 8), byteDelta), deltas.stageDelta), deltas.edgeDelta);
    ph = (ph ^ this.lastBackMix) & 0x3fffffff;
    const prog = this.backPrograms.intern(ph, made);
    // Without the destination in the key when only lookups read it (wildUsable checks them per frame): out to the
    // wire, nothing to LOCAL, NORMAL (if it ran) forwarding to a known port — not flooding, where LOCAL gets a copy.
    if (wildOk && made.wire && drops.length === 0 && (normal === undefined || dstPort >= 0)) {
      key[0] = 0;
      key[1] = 0;
      const wh = (FlowCache.hashWords(key, key.length) ^ this.lastBackMix ^ WILD_MIX) & 0x3fffffff;
      this.backs.set(wh, new OutEntry(key, host.generation, path.bridge.version, seg.changes, macHi(frame, 6), macLo(frame, 6), macHi(frame, 0), macLo(frame, 0), prog, true));
    } else this.backs.set(hash, new OutEntry(key, host.generation, path.bridge.version, seg.changes, macHi(frame, 6), macLo(frame, 6), macHi(frame, 0), macLo(frame, 0), prog, false));
    this.backStamp++;
  }

  /** The ICMP type for an ICMP or ICMPv6 frame whose header was read (+1), else 0: MetalLB's responder reads it. */
  private static icmpWord(d: DecodedFrame): number {
    return d.l4Offset >= 0 && ((d.ipProto === 1 && d.l3 === L3.IPV4) || (d.ipProto === 58 && d.l3 === L3.IPV6)) ? d.icmpType + 1 : 0;
  }

  /** The host entry for the way-in key in {@link kw} (hashed `hash`) and `d`'s ICMP type, when it still holds. */
  private hostFind(hash: number, d: DecodedFrame, now: number): HostEntry | undefined {
    const icmp = PathCaches.icmpWord(d);
    const h = (hash ^ Math.imul(icmp, 0x27d4eb2d)) & 0x3fffffff;
    const e = this.hosts.get(h);
    if (e === undefined) return undefined;
    const n = this.kn;
    const k = e.key;
    if (k.length !== n + 1 || k[n] !== icmp) return undefined;
    for (let i = 0; i < n; i++) if (k[i] !== this.kw[i]) return undefined;
    if (this.hostUsable(e, now)) return e;
    this.hosts.delete(h);
    return undefined;
  }

  /** Whether what host entry `e` rests on still holds for a frame at `now` (NORMAL's ageing is by the frame's time). */
  private hostUsable(e: HostEntry, now: number): boolean {
    const host = this.host;
    const dp = host.dp;
    if (e.generation !== host.generation || e.bridge.version !== e.bridgeVersion) return false;
    const seg = dp.segment;
    if (e.fdbStamp !== seg.changes) {
      if (seg.fdb.get(e.srcMac) !== 'outside' || seg.fdb.get(e.dstMac) !== e.node) return false;
      e.fdbStamp = seg.changes;
    }
    const macs = e.macFx.macs;
    for (let i = 0; i < macs.length; i++) if (!e.bridge.learnedStill(macs[i]!)) return false;
    // NORMAL's lookup of the destination answers the same port, and the source's entry still answers its port.
    // The second is stricter than needed: learning refreshes a held source however old it is (bridge.ts
    // learnSource; the way back relies on that, see backUsable), so an aged source only costs a hit, never
    // exactness.
    return e.normal === undefined || (e.bridge.normalLookup(e.normal, e.dstMac, now) === e.dstPort && e.bridge.normalLookup(e.normal, e.srcMac, now) === e.normal.port);
  }

  /**
   * Replays a host entry: the wire's capture and its MAC table refreshed, the offload checksum completed, the
   * rules' statistics with this frame's length, NORMAL's MAC refresh, the counters and the node stack's drop.
   */
  private hostReplay(e: HostEntry, buf: Uint8Array, length: number, now: number, keep: boolean): InjectResult {
    const host = this.host;
    const dp = host.dp;
    const rec = dp.rec;
    this.hostHits++;
    this.flows.hits++;
    rec.begin(keep);
    rec.lean = !keep;
    dp.now = now;
    dp.segment.fdb.touch(e.srcMac);
    if (completeOffloadChecksum(buf, this.hd)) host.checksumCompleted();
    if (dp.onWire) dp.onWire('outside', this.scratchView0(length), now);
    rec.credit(e.stageDelta, e.edgeIds, e.edgeDelta);
    for (let i = 0; i < e.rules.length; i++) e.bridge.credit(e.rules[i]!, length + e.byteDelta[i]!);
    e.bridge.replayEffects(e.macFx, now);
    rec.drop(e.dropAt, e.dropCode);
    return rec.finish();
  }

  /**
   * Makes a host entry from a watched run that never reached the switch: wire → NIC → br-provider (forwarding
   * rules only, NORMAL at most once, nothing learned anew) → LOCAL, MetalLB's responder passing it, the node's own
   * stack dropping it — e.g. an ICMP error or an echo request to the VIP, which Kube-OVN's rules (TCP/UDP to its
   * ports only) leave to NORMAL. Everything such a run did is a counter, a MAC refresh or that drop.
   */
  private hostEnd(w: Watch, hash: number, r: InjectResult, frame: Uint8Array, length: number, wires: Array<{ from: string; frame: Uint8Array }> | undefined): void {
    const host = this.host;
    const dp = host.dp;
    const seg = dp.segment;
    if (r.outside.length !== 0 || r.delivered.length !== 0 || dp.rec.answered || r.drops.length !== 1 || w.fdb !== seg.changes || host.dueNow()) return;
    const drop = r.drops[0]!;
    if (drop.code !== 'host.not-held' && drop.code !== 'host.not-addressed') return;
    if (wires && (wires.length !== 1 || wires[0]!.from !== 'outside')) return;
    const srcMac = macNumber(frame, 6);
    const dstMac = macNumber(frame, 0);
    const node = seg.fdb.get(dstMac);
    if (node === undefined || node === 'outside' || seg.fdb.get(srcMac) !== 'outside') return;
    const path = dp.nodes.get(node)!;
    const bridges = host.bridges;
    let fx: BridgeEffects | undefined;
    for (let i = 0; i < bridges.length; i++) {
      const e = w.effects[i]!;
      if (bridges[i] === path.bridge) fx = e;
      else if (e.rules.length !== 0 || e.macs.length !== 0 || e.normal !== 0) return;
    }
    if (fx === undefined || !onlyForward(fx.rules) || fx.normal > 1 || fx.macs.some((m) => m.created)) return;
    let normal: MacLearned | undefined;
    let dstPort = -1;
    if (fx.normal === 1) {
      if (fx.macs.length !== 1 || fx.macs[0]!.mac !== srcMac) return;
      normal = fx.macs[0]!;
      dstPort = path.bridge.normalLookup(normal, dstMac, dp.now);
      if (dstPort < 0) return;
    } else if (fx.macs.length !== 0) return;
    const d = this.hd;
    const icmp = PathCaches.icmpWord(d);
    const n = this.kn;
    const key = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) key[i] = this.kw[i]!;
    key[n] = icmp;
    const macFx = new BridgeEffects();
    for (const m of fx.macs) macFx.macs.push(m);
    const byteDelta = new Int32Array(fx.rules.length);
    for (let i = 0; i < fx.rules.length; i++) byteDelta[i] = fx.bytes[i]! - length;
    const { stageDelta, edgeIds, edgeDelta } = dp.rec.deltasSince(w.stages, w.edges);
    this.hosts.set((hash ^ Math.imul(icmp, 0x27d4eb2d)) & 0x3fffffff, {
      key, generation: host.generation, fdbStamp: seg.changes, srcMac, dstMac, node, bridge: path.bridge, bridgeVersion: path.bridge.version,
      rules: fx.rules.slice(), byteDelta, macFx, normal, dstPort, stageDelta, edgeIds, edgeDelta, dropAt: drop.at, dropCode: drop.code,
    });
  }

  /**
   * Whether an ARP request (one tag, decoded into `d`) is a new client's that a {@link NewArpEntry} could serve: a
   * unicast sender the wire does not know, whose Ethernet source is its ARP SHA (the wire and the bridges learn the
   * one, MetalLB answers the other), and no br-provider flow reads the sender. (A gratuitous request, SPA = TPA,
   * is one like any other here: br-provider's megaflows key on that layout, but NORMAL floods it the same way.)
   */
  private newArpCandidate(buf: Uint8Array, d: DecodedFrame): boolean {
    if ((buf[6]! & 1) !== 0 || d.l3Offset !== 18) return false;
    for (let i = 0; i < 6; i++) if (buf[6 + i] !== buf[ARP_SENDER_FROM + i]) return false;
    const reads = this.reads;
    reads.refresh(this.host.bridges);
    if (reads.arpSender) return false;
    const src = macNumber(buf, 6);
    this.narpSrc = src;
    return this.host.dp.segment.fdb.get(src) === undefined;
  }

  /** The request's head without its sender into {@link narpHead}; returns its hash. */
  private narpKey(buf: Uint8Array): number {
    const h = this.narpHead;
    for (let i = 0; i < ARP_HEAD; i++) h[i] = buf[i]!;
    for (let i = 6; i < 12; i++) h[i] = 0;
    for (let i = ARP_SENDER_FROM; i < ARP_SENDER_TO; i++) h[i] = 0;
    return hashBytes(h, ARP_HEAD);
  }

  /**
   * Whether what a new-client ARP entry rests on holds for the request in `buf` (whose sender the wire does not
   * know: {@link newArpCandidate}): versions; the wire has room for it without forgetting another MAC and still
   * has the owner on its port; every bridge that learned the client's MAC can learn this one without eviction, in
   * the same table; the MAC entries the replay refreshes still stand.
   */
  private narpUsable(e: NewArpEntry, buf: Uint8Array): boolean {
    const host = this.host;
    const dp = host.dp;
    if (e.generation !== host.generation || e.lsVersion !== dp.ls.version) return false;
    for (let i = 0; i < e.bridges.length; i++) if (e.bridges[i]!.version !== e.bridgeVersions[i]) return false;
    const fdb = dp.segment.fdb;
    if (fdb.size >= fdb.limit || fdb.get(e.ownerMac) !== e.owner) return false;
    // newArpCandidate's for this request (serve asked it first).
    const src = this.narpSrc;
    // Indexed, not for-of: an iterator each until TurboFan optimizes it away (every new client's request while warming up).
    const windows = e.windows;
    for (let k = 0; k < windows.length; k++) {
      const learned = windows[k]!.learned;
      for (let i = 0; i < learned.length; i++) if (!learned[i]!.bridge.canLearnAnew(learned[i]!.l, src)) return false;
    }
    const refreshed = e.refreshed;
    for (let i = 0; i < refreshed.length; i++) if (!refreshed[i]!.bridge.learnedStill(refreshed[i]!.l)) return false;
    return true;
  }

  /**
   * Replays a new-client ARP entry for the request in `buf`: each window's effects, and between them the switch's
   * runs for real on the node's untagged copy. A run that leaves the switch and its pods (a frame out of the
   * localnet port, to LOCAL or the wire) — which the run that made the entry did not — makes the rest of the path
   * run for real from there, as the full path would go on.
   */
  private narpReplay(e: NewArpEntry, buf: Uint8Array, length: number, now: number, keep: boolean): InjectResult {
    const dp = this.host.dp;
    const rec = dp.rec;
    this.newArpHits++;
    rec.begin(keep);
    // Kept, the drops are listed (the windows' in turn with the runs'), as the full path lists them.
    rec.lean = !keep;
    dp.now = now;
    // newArpCandidate's for this request (see narpSrc).
    const src = this.narpSrc;
    const windows = e.windows;
    const len = length - 4;
    for (let k = 0; k < windows.length; k++) {
      this.narpWindow(e, windows[k]!, src, buf, length, now);
      if (k === e.runs.length) break;
      const run = e.runs[k]!;
      const sw = keptView(this.workViews, this.work, len);
      // The request untagged as words (the scratch buffer holds it: serve copied it there; work is read at `len`).
      untagWords(this.scratch32, this.work32, length);
      const before = rec.stageVector(this.narpBefore);
      const outs = rec.r.outside.length;
      const answered = rec.answered;
      run.path.ovnAt(sw, dp.localnetIn, run.from, run.depth, len, false, undefined, false, now);
      const after = rec.stageVector(this.narpAfter);
      if (after[ST_WIRE] !== before[ST_WIRE] || after[ST_VLAN] !== before[ST_VLAN] || after[ST_METALLB] !== before[ST_METALLB] || after[ST_BRIDGE] !== before[ST_BRIDGE] || after[ST_HOST] !== before[ST_HOST] || rec.r.outside.length !== outs || rec.answered !== answered) {
        this.narpContinue(run, buf, length);
        break;
      }
    }
    return rec.finish();
  }

  /** One window of a new-client ARP entry: the wire, the bridges, the speakers, the counters, the owner's reply. */
  private narpWindow(e: NewArpEntry, w: ArpWindow, src: number, buf: Uint8Array, length: number, now: number): void {
    const dp = this.host.dp;
    const rec = dp.rec;
    const seg = dp.segment;
    if (w.request) {
      seg.learn(seg.fdb, src, 'outside');
      if (dp.onWire) dp.onWire('outside', this.scratchView0(length), now);
    }
    rec.credit(w.stageDelta, w.edgeIds, w.edgeDelta);
    for (let i = 0; i < w.drops.length; i++) rec.drop(w.drops[i]!.at, w.drops[i]!.code);
    for (let i = 0; i < w.learned.length; i++) w.learned[i]!.bridge.learnAnew(w.learned[i]!.l, src, now);
    for (let i = 0; i < w.fx.length; i++) w.fx[i]!.bridge.replayEffects(w.fx[i]!.fx, now);
    for (let i = 0; i < w.speakerDrops.length; i++) w.speakerDrops[i]!.speaker.creditDrop(w.speakerDrops[i]!.reason);
    if (w.reply) {
      // The owner's answer as the wire carries it: the template, the client's MAC and address where MetalLB puts them.
      // A kept result's frames are the caller's (inject): not a buffer the next frame reuses.
      const reply = rec.transient ? rec.buffer(REPLY_LENGTH) : new Uint8Array(REPLY_LENGTH);
      reply.set(e.template);
      for (let i = 0; i < REPLY_DST_TO; i++) {
        reply[i] = buf[ARP_SENDER_FROM + i]!;
        reply[REPLY_THA + i] = buf[ARP_SENDER_FROM + i]!;
      }
      for (let i = 0; i < 4; i++) reply[REPLY_TPA + i] = buf[ARP_SENDER_FROM + 6 + i]!;
      seg.learn(seg.fdb, e.ownerMac, e.owner);
      if (dp.onWire) dp.onWire(e.owner, reply, now);
      rec.r.outside.push(reply);
      rec.answered = true;
    }
  }

  /**
   * The rest of a new client's ARP for real, after a switch run that left the switch: the node's LOCAL port if the
   * request was still to reach it, then every node after it in the wire's flood (a tagged copy each).
   */
  private narpContinue(run: ArpSwitchRun, buf: Uint8Array, length: number): void {
    const dp = this.host.dp;
    if (run.localAfter) {
      const c = new Uint8Array(length - 4);
      c.set(buf.subarray(0, 12));
      c.set(buf.subarray(16, length), 12);
      run.path.local(c, run.depth);
    }
    const flood = dp.segment.floodFrom('outside');
    for (let i = flood.indexOf(run.path.node) + 1; i < flood.length; i++) {
      const to = flood[i]!;
      if (to !== 'outside') dp.nodes.get(to)!.nic(buf.slice(0, length), dp.wireAt, 1);
    }
  }

  private narpBegin(): NarpWatch {
    const host = this.host;
    const dp = host.dp;
    const effects = host.bridges.map((b) => (b.effects = new BridgeEffects()));
    const speakerFx = host.speakers.map((sp) => (sp.effects = []));
    dp.wireSeen = dp.onWire ? [] : undefined;
    const nw: NarpWatch = {
      start: undefined as unknown as NarpMark, marks: [], runs: [], locals: [], level: 0, effects, speakerFx,
      fdbEvictions: dp.segment.fdb.evictions, bridgeEvictions: host.bridges.map((b) => b.macEvictions),
    };
    this.narp = nw;
    dp.watch = this;
    this.inWatch = true;
    // fullPath begins the result: the start's lists are empty.
    nw.start = this.narpMark(nw);
    nw.start.drops = 0;
    nw.start.outside = 0;
    nw.start.answered = false;
    return nw;
  }

  private narpStop(): void {
    const host = this.host;
    for (const b of host.bridges) b.effects = undefined;
    for (const sp of host.speakers) sp.effects = undefined;
    host.dp.watch = undefined;
    this.narp = undefined;
    this.inWatch = false;
  }

  private narpMark(nw: NarpWatch): NarpMark {
    const dp = this.host.dp;
    const rec = dp.rec;
    return {
      stages: rec.stageVector(), edges: rec.edgeFrames.slice(), drops: rec.r.drops.length,
      rules: nw.effects.map((fx) => fx.rules.length), macs: nw.effects.map((fx) => fx.macs.length), speakerFx: nw.speakerFx.map((x) => x.length),
      outside: rec.r.outside.length, wires: dp.wireSeen?.length ?? 0, answered: rec.answered, fdb: dp.segment.changes,
    };
  }

  /**
   * Makes a new-client ARP entry from a watched full path, when everything outside the switch's runs is what a
   * replay reproduces and the runs stayed inside the switch and its pods: the wire learned the client (and only it,
   * without forgetting another MAC) and carried the request from the outside and one reply from the owner to it;
   * each bridge learned the client's MAC at most once and nothing else anew, forgot nothing; the drops outside the
   * runs are MetalLB's (or a node down); the reply is the template filled with this request's sender.
   */
  private narpEnd(nw: NarpWatch, hash: number, r: InjectResult, buf: Uint8Array, length: number): void {
    const host = this.host;
    const dp = host.dp;
    const rec = dp.rec;
    const seg = dp.segment;
    const wires = dp.wireSeen;
    dp.wireSeen = undefined;
    const end = this.narpMark(nw);
    if (host.dueNow() || r.verdict !== 'answered' || r.outside.length !== 1 || nw.level !== 0 || seg.tableOf(buf) !== seg.fdb) return;
    const src = macNumber(buf, 6);
    const reply = r.outside[0]!;
    if (reply.length !== REPLY_LENGTH) return;
    const ownerMac = macNumber(reply, 6);
    const owner = host.nodeByMac.get(ownerMac);
    if (owner === undefined || ownerMac === src) return;
    if (seg.changes !== nw.start.fdb + 1 || seg.fdb.evictions !== nw.fdbEvictions || seg.fdb.get(src) !== 'outside' || seg.fdb.get(ownerMac) !== owner) return;
    const bridges = host.bridges;
    for (let i = 0; i < bridges.length; i++) if (bridges[i]!.macEvictions !== nw.bridgeEvictions[i]) return;
    // The template: the reply with the client's MAC and address zeroed — which, filled with this request's, must be the reply.
    const template = reply.slice();
    for (let i = 0; i < REPLY_DST_TO; i++) template[i] = template[REPLY_THA + i] = 0;
    for (let i = 0; i < 4; i++) template[REPLY_TPA + i] = 0;
    const filled = template.slice();
    for (let i = 0; i < REPLY_DST_TO; i++) filled[i] = filled[REPLY_THA + i] = buf[ARP_SENDER_FROM + i]!;
    for (let i = 0; i < 4; i++) filled[REPLY_TPA + i] = buf[ARP_SENDER_FROM + 6 + i]!;
    if (!sameBytes(filled, reply, REPLY_LENGTH)) return;
    // Captured, the wire saw the request from the outside and the reply from the owner, nothing else.
    if (wires && (wires.length !== 2 || wires[0]!.from !== 'outside' || wires[0]!.frame.length !== length || !sameBytes(wires[0]!.frame, buf, length) || wires[1]!.from !== owner || !sameBytes(wires[1]!.frame, reply, REPLY_LENGTH))) return;
    // The switch's runs: on the request untagged, from the localnet port, and nothing outside the switch and its pods.
    const marks = nw.marks;
    const runs: ArpSwitchRun[] = [];
    for (let k = 0; k < nw.runs.length; k++) {
      const run = nw.runs[k]!;
      const a = marks[2 * k]!;
      const b = marks[2 * k + 1]!;
      if (run.inport !== dp.localnet || run.frame.length !== length - 4 || !sameBytes(run.frame, buf, 12) || !sameBytes(run.frame.subarray(12), buf.subarray(16), length - 16)) return;
      for (const st of [ST_WIRE, ST_VLAN, ST_METALLB, ST_BRIDGE, ST_HOST]) if (a.stages[st] !== b.stages[st]) return;
      if (a.outside !== b.outside || a.wires !== b.wires || a.answered !== b.answered || a.fdb !== b.fdb) return;
      for (let i = 0; i < bridges.length; i++) if (a.rules[i] !== b.rules[i] || a.macs[i] !== b.macs[i]) return;
      for (let i = 0; i < a.speakerFx.length; i++) if (a.speakerFx[i] !== b.speakerFx[i]) return;
      const path = dp.nodes.get(run.node);
      if (path === undefined) return;
      // Where the request reached this node's LOCAL: before this run (a window before it), after it, or not at all.
      let localAfter = false;
      for (const l of nw.locals) if (l.node === run.node && l.runs > k) localAfter = true;
      runs.push({ path, from: rec.place(run.from), depth: run.depth, localAfter });
    }
    // The windows: from the start or a run's end to the next run's start or the end.
    const windows: ArpWindow[] = [];
    const refreshed: NewArpEntry['refreshed'] = [];
    let learnedAt = 0;
    for (let k = 0; k <= runs.length; k++) {
      const a = k === 0 ? nw.start : marks[2 * k - 1]!;
      const b = k === runs.length ? end : marks[2 * k]!;
      const { stageDelta, edgeIds, edgeDelta } = rec.deltasSince(a.stages, a.edges, b.stages, b.edges);
      const drops: ArpWindow['drops'] = [];
      for (let i = a.drops; i < b.drops; i++) {
        const x = r.drops[i]!;
        if (!x.code.startsWith('metallb.') && x.code !== 'nic.node-down') return;
        drops.push({ at: x.at, code: x.code });
      }
      const learned: ArpWindow['learned'] = [];
      const fx: ArpWindow['fx'] = [];
      for (let i = 0; i < bridges.length; i++) {
        const e = nw.effects[i]!;
        const part = e.slice(a.rules[i]!, b.rules[i]!);
        for (let j = a.macs[i]!; j < b.macs[i]!; j++) {
          const m = e.macs[j]!;
          if (m.mac === src) {
            // The client's MAC, learned anew once per bridge, before anything else of this window's on the bridge.
            if (!m.created || j !== a.macs[i] || learnedAt & (1 << i)) return;
            learnedAt |= 1 << i;
            learned.push({ bridge: bridges[i]!, l: m });
          } else {
            if (m.created) return;
            part.macs.push(m);
            refreshed.push({ bridge: bridges[i]!, l: m });
          }
        }
        if (part.rules.length !== 0 || part.macs.length !== 0) fx.push({ bridge: bridges[i]!, fx: part });
      }
      const speakerDrops: ArpWindow['speakerDrops'] = [];
      for (let i = 0; i < host.speakers.length; i++) for (let j = a.speakerFx[i]!; j < b.speakerFx[i]!; j++) speakerDrops.push({ speaker: host.speakers[i]!, reason: nw.speakerFx[i]![j]! });
      const replyHere = b.outside - a.outside;
      if (replyHere !== 0 && (replyHere !== 1 || !b.answered || a.answered)) return;
      windows.push({ stageDelta, edgeIds, edgeDelta, drops, learned, fx, speakerDrops, request: k === 0, reply: replyHere === 1 });
    }
    // The wire: the request and the reply, nothing more (no bridge sent the request back out).
    if (end.stages[ST_WIRE]! - nw.start.stages[ST_WIRE]! !== 2) return;
    this.newArps.set(hash, {
      head: this.narpHead.slice(), length, generation: host.generation, lsVersion: dp.ls.version, bridges: [...bridges], bridgeVersions: bridges.map((b) => b.version),
      owner, ownerMac, template, windows, runs, refreshed,
    });
  }

  /** Whether what ARP entry `e` rests on still holds: versions, the wire's MAC table, the bridges' MAC entries. */
  private arpUsable(e: ArpEntry): boolean {
    const host = this.host;
    if (e.generation !== host.generation || e.lsVersion !== host.dp.ls.version) return false;
    for (let i = 0; i < e.bridges.length; i++) if (e.bridges[i]!.version !== e.bridgeVersions[i]) return false;
    const seg = host.dp.segment;
    if (e.fdbStamp !== seg.changes) {
      if (seg.fdb.get(e.clientMac) !== 'outside' || seg.fdb.get(e.ownerMac) !== e.owner) return false;
      e.fdbStamp = seg.changes;
    }
    for (let i = 0; i < e.bridges.length; i++) {
      const macs = e.effects[i]!.macs;
      for (let j = 0; j < macs.length; j++) if (!e.bridges[i]!.learnedStill(macs[j]!)) return false;
    }
    return true;
  }

  /** Replays an ARP entry: the wire's capture, the refreshes, the counters, the owner's reply. */
  private arpReplay(e: ArpEntry, buf: Uint8Array, length: number, now: number, keep: boolean): InjectResult {
    const dp = this.host.dp;
    const rec = dp.rec;
    this.arpHits++;
    dp.now = now;
    // What the full path's wire did: the client's and the owner's MACs seen again, both frames captured.
    const seg = dp.segment;
    seg.fdb.touch(e.clientMac);
    seg.fdb.touch(e.ownerMac);
    if (dp.onWire) {
      dp.onWire('outside', this.scratchView0(length), now);
      dp.onWire(e.owner, e.reply, now);
    }
    for (let i = 0; i < e.bridges.length; i++) e.bridges[i]!.replayEffects(e.effects[i]!, now);
    for (let i = 0; i < e.speakerDrops.length; i++) e.speakerDrops[i]!.speaker.creditDrop(e.speakerDrops[i]!.reason);
    rec.credit(e.stageDelta, e.edgeIds, e.edgeDelta);
    rec.creditDrops(e.dropDeltas);
    rec.begin(keep);
    const r = rec.r;
    r.verdict = 'answered';
    if (keep) {
      r.outside.push(e.reply.slice());
      if (rec.tracing) {
        for (const st of e.stages!) r.stages.push(st);
        for (const x of e.drops) r.drops.push(x);
      } else for (const x of e.drops) r.drops.push({ at: x.at, code: x.code, reason: DROP_KEY[x.code] });
    } else r.outside.push(e.reply); // the transient result's list: the caller hands it to onOutside, as before (no copy)
    return r;
  }

  private watchBegin(arp: boolean): Watch {
    const host = this.host;
    host.dp.ls.effects = { ctCalls: 0, packets: 0 };
    host.dp.wireSeen = host.dp.onWire ? [] : undefined;
    this.split = undefined;
    this.watching = !arp;
    this.inWatch = true;
    if (arp) {
      // An ARP entry keeps the watch's effects: they are its own.
      const effects = host.bridges.map((b) => (b.effects = new BridgeEffects()));
      const speakerEffects = host.speakers.map((sp) => (sp.effects = []));
      return { stages: host.dp.rec.stageVector(), edges: [...host.dp.rec.edgeFrames], fdb: host.dp.segment.changes, effects, speakerEffects };
    }
    host.dp.watch = this;
    // A flow entry keeps only copies (slices, deltas) of what a watch records: one watch's state, cleared and
    // refilled, serves every miss.
    const w = this.flowWatch ?? (this.flowWatch = { stages: new Int32Array(host.dp.rec.stageVector().length), edges: [], fdb: 0, effects: host.bridges.map(() => new BridgeEffects()), speakerEffects: [] });
    for (let i = 0; i < host.bridges.length; i++) {
      const fx = w.effects[i]!;
      fx.clear();
      host.bridges[i]!.effects = fx;
    }
    host.dp.rec.stageVector(w.stages);
    copyInto(w.edges, host.dp.rec.edgeFrames);
    w.fdb = host.dp.segment.changes;
    return w;
  }

  /** Stops recording effects everywhere (whatever the watch decides). */
  private watchStop(): void {
    const host = this.host;
    for (const b of host.bridges) b.effects = undefined;
    for (const sp of host.speakers) sp.effects = undefined;
    host.dp.ls.effects = undefined;
    host.dp.watch = undefined;
    this.watching = false;
    this.inWatch = false;
  }

  /** The datapath's call as a watched frame reaches the OVN switch: the first time, the state the entry stops at. */
  atSwitch(node: string, frame: Uint8Array, inport: string, from: string, depth: number): void {
    const nw = this.narp;
    if (nw !== undefined) {
      if (nw.level++ === 0) {
        nw.marks.push(this.narpMark(nw));
        nw.runs.push({ node, from, depth, frame: frame.slice(), inport });
      }
      return;
    }
    if (!this.watching || this.split !== undefined) return;
    const host = this.host;
    const dp = host.dp;
    // One split's state, refilled per watched miss (watchEnd keeps only copies of it).
    const sp = this.splitStore ?? (this.splitStore = { stages: new Int32Array(dp.rec.stageVector().length), edges: [], fdb: 0, rules: [], normal: [], wires: 0, steps: 0, quiet: false, frame: new Uint8Array(0), inport: '', from: '', depth: 0, path: dp.nodes.get(node)! });
    dp.rec.stageVector(sp.stages);
    copyInto(sp.edges, dp.rec.edgeFrames);
    sp.fdb = dp.segment.changes;
    const bridges = host.bridges;
    sp.rules.length = bridges.length;
    sp.normal.length = bridges.length;
    for (let i = 0; i < bridges.length; i++) {
      sp.rules[i] = bridges[i]!.effects?.rules.length ?? 0;
      sp.normal[i] = bridges[i]!.effects?.normal ?? 0;
    }
    sp.wires = dp.wireSeen?.length ?? 0;
    sp.steps = dp.rec.r.stages.length;
    sp.quiet = dp.rec.r.outside.length === 0 && dp.rec.r.delivered.length === 0 && dp.rec.r.drops.length === 0;
    sp.frame = this.splitFrame.copy(frame);
    sp.inport = inport;
    sp.from = from;
    sp.depth = depth;
    sp.path = dp.nodes.get(node)!;
    this.split = sp;
  }

  afterSwitch(): void {
    const nw = this.narp;
    if (nw !== undefined && --nw.level === 0) nw.marks.push(this.narpMark(nw));
  }

  atLocal(node: string): void {
    const nw = this.narp;
    if (nw !== undefined) nw.locals.push({ node, runs: nw.runs.length });
  }

  /**
   * Makes a flow entry from a watched full-path run: the part up to the OVN switch, when it was one wire hop to
   * one node and br-provider's own rules (no NORMAL, no learning) to the patch port — and nothing else: the rules
   * hit may only resubmit, rewrite the Ethernet addresses to constants and output once, to the patch port, so the
   * bytes at the switch are a function of the key (checked on this frame). The switch and what follows it run for
   * real on every hit, so whatever they do (conntrack, drops, answers) is exact.
   */
  private watchEnd(w: Watch, hash: number, r: InjectResult, frame: Uint8Array, length: number): void {
    const host = this.host;
    const dp = host.dp;
    const wires = dp.wireSeen;
    const ct = dp.ls.effects!;
    dp.wireSeen = undefined;
    this.watchStop();
    const sp = this.split;
    this.split = undefined;
    if (!sp) {
      if (!this.tracedEntry && ct.ctCalls === 0 && ct.packets === 0) this.hostEnd(w, hash, r, frame, length, wires);
      return;
    }
    if (!sp || !sp.quiet || sp.inport !== dp.localnet || sp.fdb !== w.fdb || sp.fdb !== dp.segment.changes || host.dueNow()) return;
    // Up to the switch: no NORMAL anywhere, one bridge's rules, and (when captured) one frame on the wire.
    const bridges = host.bridges;
    let hitAt = -1;
    for (let i = 0; i < bridges.length; i++) {
      if (sp.normal[i] !== 0) return;
      if (sp.rules[i]! > 0) {
        if (hitAt >= 0) return;
        hitAt = i;
      }
    }
    const path = sp.path;
    if (hitAt < 0 || bridges[hitAt] !== path.bridge) return;
    if (wires && sp.wires !== 1) return;
    const fx = w.effects[hitAt]!;
    const n = sp.rules[hitAt]!;
    if (!onlyToPatch(fx.rules, n, path.patchPort)) return;
    const node = dp.segment.fdb.get(macNumber(frame, 0));
    if (node !== path.node || dp.segment.fdb.get(macNumber(frame, 6)) !== 'outside') return;
    // The compiled edits must give the bytes that reached the switch exactly, or the class is not cached.
    const test = this.check;
    test.set(frame.subarray(0, length));
    const view = test.subarray(0, length);
    this.decoder.decode(view, this.checkD, length);
    completeOffloadChecksum(view, this.checkD);
    const len = popVlan(test, length);
    for (let i = 0; i < 12; i++) test[i] = sp.frame[i]!;
    if (len !== sp.frame.length || !sameBytes(test, sp.frame, len)) return;
    const rules: Flow[] = [];
    const byteDelta = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      rules.push(fx.rules[i]!);
      byteDelta[i] = fx.bytes[i]! - length;
    }
    const deltas = dp.rec.deltasSince(w.stages, w.edges, sp.stages, sp.edges);
    const fromAt = dp.rec.place(sp.from);
    const made: InProgram = {
      node, path, bridge: path.bridge, stageDelta: deltas.stageDelta, edgeIds: deltas.edgeIds, edgeDelta: deltas.edgeDelta, owed: 0, rules, byteDelta,
      from: sp.from, fromAt, depth: sp.depth, stages: this.tracedEntry ? r.stages.slice(0, sp.steps) : undefined,
    };
    // Traced programs carry their steps: each its own. The others are shared by content.
    const prog = made.stages !== undefined ? made : this.inPrograms.intern(hashInts(hashInts(hashInts(Math.imul(fromAt ^ (sp.depth << 16), 0x9e3779b9) ^ n, byteDelta), deltas.stageDelta), deltas.edgeDelta) & 0x3fffffff, made);
    // One array: the key, then the addresses at the switch as three words in the host's byte order (hit stores them
    // whole into the scratch buffer's Int32Array).
    const kn = this.kn;
    const key = new Int32Array(kn + 3);
    for (let i = 0; i < kn; i++) key[i] = this.kw[i]!;
    const m = sp.frame;
    for (let i = 0; i < 3; i++) {
      const a = m[4 * i]!;
      const b = m[4 * i + 1]!;
      const c = m[4 * i + 2]!;
      const d = m[4 * i + 3]!;
      key[kn + i] = HOST_LE ? a | (b << 8) | (c << 16) | (d << 24) : (a << 24) | (b << 16) | (c << 8) | d;
    }
    // Without the source MAC when no flow reads it and no step names it (see CacheEntry.wild); the switch then
    // gets the frame's own source unless a rule set it (a constant, in the words after the key).
    // A source the switch got that is neither the frame's nor a rule's constant is not understood: no wild entry then.
    const setSrc = setsSource(rules);
    const keepSrc = !setSrc && sameBytes(m.subarray(6, 12), frame.subarray(6, 12), 6);
    if (!this.reads.src && made.stages === undefined && (setSrc || keepSrc)) {
      key[SRC_HI] = 0;
      key[SRC_LO] = 0;
      this.flows.set((FlowCache.hashWords(key, kn) ^ WILD_MIX) & 0x3fffffff, new InEntry(key, kn, macHi(frame, 6), macLo(frame, 6), macNumber(frame, 0), host.generation, dp.segment.changes, path.bridge.version, prog, true, keepSrc));
    } else this.flows.set(hash, new InEntry(key, kn, macHi(frame, 6), macLo(frame, 6), macNumber(frame, 0), host.generation, dp.segment.changes, path.bridge.version, prog));
  }

  /** Makes an ARP entry from a watched full-path run, when everything it did is something a replay reproduces. */
  private arpWatchEnd(w: Watch, hash: number, r: InjectResult, buf: Uint8Array, length: number, headLength: number): void {
    const host = this.host;
    const dp = host.dp;
    const ct = dp.ls.effects!;
    const wires = dp.wireSeen;
    dp.wireSeen = undefined;
    this.watchStop();
    if (r.verdict !== 'answered' || r.outside.length !== 1 || r.delivered.length || w.fdb !== dp.segment.changes) return;
    if (ct.ctCalls || w.effects.some((e) => e.macs.some((l) => l.created)) || host.dueNow()) return;
    const reply = r.outside[0]!;
    const ownerMac = macNumber(reply, 6);
    const owner = host.nodeByMac.get(ownerMac);
    if (!owner) return;
    // Captured, the wire saw the request and the owner's reply, nothing else.
    if (wires && (wires.length !== 2 || wires[0]!.from !== 'outside' || wires[1]!.from !== owner || !sameBytes(wires[1]!.frame, reply, reply.length) || wires[1]!.frame.length !== reply.length)) return;
    const { stageDelta, edgeIds, edgeDelta } = dp.rec.deltasSince(w.stages, w.edges);
    const byCode = new Map<DropCode, number>();
    for (const x of r.drops) byCode.set(x.code, (byCode.get(x.code) ?? 0) + 1);
    const speakerDrops: ArpEntry['speakerDrops'] = [];
    host.speakers.forEach((speaker, i) => {
      for (const reason of w.speakerEffects[i]!) speakerDrops.push({ speaker, reason });
    });
    this.arps.set(hash, {
      head: buf.slice(0, headLength), length, generation: host.generation, fdbStamp: dp.segment.changes, clientMac: macNumber(buf, 6), ownerMac, owner,
      bridges: [...host.bridges], bridgeVersions: host.bridges.map((b) => b.version), lsVersion: dp.ls.version,
      effects: w.effects, speakerDrops,
      stageDelta, edgeIds, edgeDelta, dropDeltas: [...byCode].map(([code, delta]) => ({ code, delta })), drops: r.drops.slice(), reply: reply.slice(), stages: this.tracedEntry ? r.stages.slice() : undefined,
    });
  }
}


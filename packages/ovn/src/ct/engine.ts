/**
 * A connection tracker that behaves like Open vSwitch's userspace conntrack (ovs lib/conntrack.c v3.1.0, the
 * version Debian ships; behaviour cited per function below): zones, connections stored only on commit, the
 * ct_state bits as OVS sets them, TCP window tracking, ICMP and "other" protocol states, NAT with reply
 * un-NAT and NAT of the packet inside related ICMP errors, ct_mark/ct_label, table and zone limits and
 * timeouts from OVS's default policy, in simulated time.
 *
 * Storage is a pool of connection slots, one 64-byte record each (keys as 32-bit words; an IPv6 key's other
 * words and labels apart; layout below), chained in a hash table by node `slot * 2 + direction`; freed slots are
 * reused, the pool grows by doubling up to the table limit, within a reservation allocated at its first growth
 * without copying (see allocSlots). Executing a packet allocates nothing, and repeats no lookup or key
 * extraction whose answer it already has (the miss memo, the packet's kept key: see lookupCk, samePacket).
 * @module
 */
import {
  formatIPv4,
  formatIPv6Ntop,
  DecodeStatus as DecodeStatusImport,
  L3 as L3Import,
  VippathError,
  checksumAdjust16 as checksumAdjust16Import,
  foldSum as foldSumImport,
  internetChecksum,
  pseudoHeaderSumV4 as pseudoHeaderSumV4Import,
  pseudoHeaderSumV6 as pseudoHeaderSumV6Import,
  read16 as read16Import,
  read32 as read32Import,
  rewriteIpv4Address as rewriteIpv4AddressImport,
  sumWords as sumWordsImport,
  walkIpv6 as walkIpv6Import,
  write16 as write16Import,
  write32 as write32Import,
  type DecodedFrame,
  type Ipv6Walk,
} from '@vippath/wire';
import { CtNat as CtNatImport, CtState as CtStateImport, type CtRequest, type CtResult, type WordsConntrackEngine } from '../lflow/ct-api.js';
import { W as FlowWords } from '../lflow/fields.js';
import { FIRST_WORDS as FIRST_WORDSImport } from '../lflow/frame-sync.js';
import {
  CT_DEFAULT_CONN_LIMIT,
  CT_DEFAULT_TIMEOUTS,
  CtL4 as CtL4Import,
  CtNatAction,
  CtReason as CtReasonImport,
  CtTcpState as CtTcpStateImport,
  CtTimeout as CtTimeoutImport,
  timeoutTable,
  type CtTimeoutPolicy,
} from './constants.js';
import {
  CtUpdate as CtUpdateImport,
  TCP_MAX_ACK_WINDOW,
  TCP_MAX_WSCALE,
  TCP_PACKED,
  TCP_PEER,
  TCP_SEQHI,
  TCP_SEQLO,
  TCP_STRIDE,
  WSCALE_FLAG,
  WSCALE_UNKNOWN,
  allocTcpPeers,
  tcpInvalidFlags as tcpInvalidFlagsImport,
  tcpNewConn as tcpNewConnImport,
  tcpPeerClosing,
  tcpPeerState,
  tcpPeerWscale,
  tcpUpdate as tcpUpdateImport,
  tcpValidNew as tcpValidNewImport,
  tcpWscale as tcpWscaleImport,
  type TcpPeers,
} from './tcp.js';

/*
 * What the hot path reads of other modules, bound to module constants: V8's optimizing compiler folds a module's
 * own const (an enum object's fields become immediates, a function is inlined outright), where every use of an
 * import loads its binding's cell and checks it is initialised — and, for an enum object, its map and the field —
 * several instructions per use, hundreds per ct() call. This module's own helpers are const arrow functions for the
 * same reason: a function declaration is a mutable binding, loaded from the module context and compared with the
 * function inlined at each of its call sites.
 */
const DecodeStatus = DecodeStatusImport;
const L3 = L3Import;
const checksumAdjust16 = checksumAdjust16Import;
const foldSum = foldSumImport;
const pseudoHeaderSumV4 = pseudoHeaderSumV4Import;
const pseudoHeaderSumV6 = pseudoHeaderSumV6Import;
const read16 = read16Import;
const read32 = read32Import;
const rewriteIpv4Address = rewriteIpv4AddressImport;
const sumWords = sumWordsImport;
const walkIpv6 = walkIpv6Import;
const write16 = write16Import;
const write32 = write32Import;
const CtNat = CtNatImport;
const CtState = CtStateImport;
const CtL4 = CtL4Import;
const CtReason = CtReasonImport;
const CtTimeout = CtTimeoutImport;
const CtUpdate = CtUpdateImport;
const tcpInvalidFlags = tcpInvalidFlagsImport;
const tcpNewConn = tcpNewConnImport;
const tcpUpdate = tcpUpdateImport;
const tcpValidNew = tcpValidNewImport;
const tcpWscale = tcpWscaleImport;

/* The executor's flow words that hold a packet's ct fields (executeWords), as module constants (see above). */
const WS = FlowWords.CT_STATE;
const WM = FlowWords.CT_MARK;
const WL = FlowWords.CT_LABEL;
const W_NW_SRC = FlowWords.CT_NW_SRC;
const W_NW_DST = FlowWords.CT_NW_DST;
const W_V6_SRC = FlowWords.CT_IPV6_SRC;
const W_V6_DST = FlowWords.CT_IPV6_DST;
const W_TP_SRC = FlowWords.CT_TP_SRC;
const W_TP_DST = FlowWords.CT_TP_DST;
const W_PROTO = FlowWords.CT_NW_PROTO;
const W_ETH_TYPE = FlowWords.ETH_TYPE;
/** The words of no call yet: `ow` before the first executeWords (one array type in the field, never written). */
const NO_WORDS = new Uint32Array(FlowWords.SIZE);
/*
 * The executor's first pool slot (frame-sync.ts FIRST_WORDS), as a module constant: every words call of both bench
 * captures is made on it (counted: full-cold's 4.7 writeMetaWords a frame, http's 0.6, all of them). Written through
 * this binding, TurboFan knows the array and its length, and a store at a constant word carries no bounds check
 * (≈ 2 instructions each, eighteen a tuple write); `this.ow`, a field, is an array of unknown length.
 */
const FIRST = FIRST_WORDSImport;

/**
 * Words per connection key: the source and destination addresses' first words, source L4, destination L4, meta,
 * then the addresses' other three words each (IPv6 only). A record keeps the first five words, which are all of
 * an IPv4 key: nothing reads an IPv4 key's other words (hash, compares, the memo and stores look at them only with
 * the IPv6 bit set), so the scratch keys leave whatever they held there — zeroing six words per extraction, copy and
 * compare was a measurable part of a new connection's five ct() calls.
 */
export const CT_KEY_WORDS = 11;
const K_SRC = 0;
const K_DST = 1;
const K_SL4 = 2;
const K_DL4 = 3;
/** zone (bits 0–15) | IP protocol (16–23) | 1 << 24 for IPv6. */
const K_META = 4;
/** Words of a key kept in the record. */
const KW = 5;
/** The IPv6 words of a key: source words 1–3 at 5–7, destination words 1–3 at 8–10. */
const V6W = CT_KEY_WORDS - KW;
const V6_BIT = 1 << 24;

/** The key word holding word `i` (0–3) of the source address. */
const srcWord = (i: number): number => {
  return i === 0 ? K_SRC : KW - 1 + i;
};

/** The key word holding word `i` (0–3) of the destination address. */
const dstWord = (i: number): number => {
  return i === 0 ? K_DST : KW + 2 + i;
};

/**
 * An IPv4 original tuple into the executor's flow words (writeMetaWords): the thirteen tuple words, the IPv6 ones 0 —
 * OVS puts an ICMP echo's type and code where the ports go (`sl4` holds id << 16 | type << 8 | code).
 */
/**
 * writeMetaWords' IPv4 write: the mark, the four label words and the tuple (tuple4Words). One function for both of its
 * callers' arrays, so that the call with {@link FIRST} (inlined) stores without bounds checks and the other is the
 * same code on any array.
 */
const meta4Words = (w: Uint32Array, mark: number, l0: number, l1: number, l2: number, l3: number, src: number, dst: number, sl4: number, dl4: number, meta: number): void => {
  w[WM] = mark;
  w[WL] = l0;
  w[WL + 1] = l1;
  w[WL + 2] = l2;
  w[WL + 3] = l3;
  tuple4Words(w, src, dst, sl4, dl4, meta);
};

const tuple4Words = (w: Uint32Array, src: number, dst: number, sl4: number, dl4: number, meta: number): void => {
  const proto = (meta >>> 16) & 0xff;
  w[W_NW_SRC] = src;
  w[W_NW_DST] = dst;
  w[W_V6_SRC] = 0;
  w[W_V6_SRC + 1] = 0;
  w[W_V6_SRC + 2] = 0;
  w[W_V6_SRC + 3] = 0;
  w[W_V6_DST] = 0;
  w[W_V6_DST + 1] = 0;
  w[W_V6_DST + 2] = 0;
  w[W_V6_DST + 3] = 0;
  w[W_PROTO] = proto;
  if (proto === 1) {
    w[W_TP_SRC] = (sl4 >>> 8) & 0xff;
    w[W_TP_DST] = sl4 & 0xff;
  } else {
    w[W_TP_SRC] = sl4 & 0xffff;
    w[W_TP_DST] = dl4 & 0xffff;
  }
};

/*
 * A connection is one record of R words (64 bytes, one cache line) in one buffer, read through three views
 * (u32, f64, bytes): both keys' first KW words — the whole of an IPv4 key — and all a lookup and an update read
 * besides — expiration, mark, tracker kind/NAT action/protocol state, generation, whether a label is set. A
 * lookup that finds a connection, the state update and the NAT rewrite after it (which reads the other key) read
 * one line. IPv6 keys' other words (`v6keys`, 2 × V6W words a slot, made at the first IPv6 commit) and labels
 * (`labels`, 4 words a slot, written only when set) are apart: records of 128 bytes with IPv6-sized keys and the
 * label inside were half zeros for IPv4, which is nearly all traffic here. The hash chains are apart too, in
 * `links` (node n: hash at 2n, next node at 2n + 1).
 */
const W = CT_KEY_WORDS;
/** log2 of {@link R}: a slot count is an array's length shifted by it (tcpClosing's bound). */
const R_LOG2 = 4;
/** Words per connection record (even: the expiration is a float64 at an even word). */
const R = 1 << R_LOG2;
/** The reply key's word (node 1; node 0's key is at word 0). */
const REV = KW;
const R_MARK = 10;
/** Bytes of this word: tracker kind ({@link CtL4}), NAT action bits, the other/ICMP tracker's state, flags. */
const R_BYTES = 11;
/** Expiration in simulated ms (float64, words 12–13). */
const R_EXP = 12;
/** Bumped when the slot is freed: invalidates the per-packet connection cache. */
const R_GEN = 14;
/**
 * An IPv4 TCP connection with NAT: the checksum adjustments its original direction's rewrite makes, summed once
 * (see {@link natSums}) at its first NATed packet after the commit's: the IP header's in bits 16–31, the TCP
 * checksum's in bits 0–15. Valid while the tracker-state byte is set.
 */
const R_NATSUM = 15;
const B_L4 = 0;
const B_NAT = 1;
/** The other/ICMP tracker's state; for TCP (which keeps its state apart), nonzero once R_NATSUM holds the sums. */
const B_STATE = 2;
/** Flags: F_LABEL, F_ZONE. */
const B_FLAGS = 3;
/** The label is set (a zero label is answered without reading `labels`; a slot's label words are stale until set). */
const F_LABEL = 1;
/**
 * The connection counts in a zone limit, named by `admitZone` and `zoneSeq` — written only then: a table without
 * limits (the usual one) does not write those columns, whose pages a growing table would otherwise touch first.
 */
const F_ZONE = 2;

const { SRC, SRC_PORT, DST, DST_PORT } = CtNatAction;
const NAT_BITS = CtState.SNAT | CtState.DNAT;
const NO_TIMEOUT = Number.POSITIVE_INFINITY;
/**
 * An offset into a decoded frame masked with this is itself (offsets are below 2^17: an IPv4 or IPv6 packet's length
 * is 16 bits, its headers before it bounded), and TurboFan then knows the offset plus a small constant fits an int32:
 * each byte access's index add loses its overflow check (tcp.ts's OFFSET_MASK, the same).
 */
const OFFSET_MASK = 0x3fffffff;
/**
 * What hintedTcp4 may take of its node unchecked: a caller's hint (HINT_CHECKED: everything hinted checks), a hint
 * under executeHinted's `keyed` promise (HINT_KEYED: the node's key is the packet's; its slot's generation and its
 * expiry are checked), or the node lookedTcp4's lookup found just now (HINT_LOOKED: nothing).
 */
const HINT_CHECKED = 0;
const HINT_KEYED = 1;
const HINT_LOOKED = 2;
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
const TCP_FIN = 0x01;
const TCP_RST = 0x04;
// hintedTcp4's copy of tcpUpdate's usual path: the tracker's layout and limits (tcp.ts) and the peer states, as plain
// consts (an imported binding is a cell each use loads and checks).
const T_STRIDE = TCP_STRIDE;
const T_PEER = TCP_PEER;
const T_SEQLO = TCP_SEQLO;
const T_SEQHI = TCP_SEQHI;
const T_PACKED = TCP_PACKED;
const T_MAX_ACK = TCP_MAX_ACK_WINDOW;
const T_MAX_WSCALE = TCP_MAX_WSCALE;
const T_WS_FLAG = WSCALE_FLAG;
const T_WS_UNKNOWN = WSCALE_UNKNOWN;
const TS_CLOSED = CtTcpStateImport.CLOSED;
const TS_SYN_SENT = CtTcpStateImport.SYN_SENT;
const TS_ESTABLISHED = CtTcpStateImport.ESTABLISHED;
const TS_CLOSING = CtTcpStateImport.CLOSING;
const TS_FIN_WAIT_2 = CtTcpStateImport.FIN_WAIT_2;

/** Options of an {@link OvsConntrack}. */
export interface OvsConntrackOptions {
  /** Most connections the whole table holds (`dpctl/ct-set-maxconns`); OVS's default is 3 000 000. */
  maxConnections?: number;
  /** Slots the pool starts with; it doubles as needed up to `maxConnections`. Default 1024. */
  initialCapacity?: number;
  /**
   * Slots whose storage the pool's first growth allocates at once, untouched (default: `maxConnections`, at most
   * 4 194 304): the operating system backs a page only once a connection is written to it, and the pool grows
   * within these slots without copying. Past them it grows by copying into larger arrays. (Not at construction:
   * the reservation costs milliseconds, which an engine that never outgrows `initialCapacity` need not pay.)
   */
  reservedCapacity?: number;
  /** Per-zone limits (`dpctl/ct-set-limits zone=N,limit=M`). A limit of 0 refuses every commit, as in OVS 3.1. */
  zoneLimits?: ReadonlyMap<number, number> | Record<number, number>;
  /**
   * `dpctl/ct-set-limits default=M`: applies to zones without their own limit. In OVS 3.1 those zones share
   * one count (lib/conntrack.c v3.1.0 `zone_limit_lookup_or_default`); later OVS counts per zone.
   */
  defaultZoneLimit?: number;
  /** Timeouts in seconds; defaults are OVS's default policy. */
  timeouts?: Partial<CtTimeoutPolicy>;
  /** TCP sequence/window checking (`dpctl/ct-enable-tcp-seq-chk`); on by default as in OVS. */
  tcpSequenceCheck?: boolean;
  /** Check IPv4 header and L4 checksums as OVS does when no offload vouches for them. Default true. */
  validateChecksums?: boolean;
  /**
   * Simulated milliseconds between automatic sweeps of expired entries, run from `execute`. OVS's clean thread
   * wakes at most every 20 s. Expired entries are invisible to lookups at once but hold their table and zone
   * slots until swept, as in OVS. 0 turns automatic sweeps off (call {@link OvsConntrack.sweep}).
   */
  sweepIntervalMs?: number;
  /** Seed for NAT address/port picks within a range (OVS uses a random hash basis). */
  seed?: number;
}

/** One tuple of a connection, for dumps and tests (not used on the hot path). */
export interface CtTupleInfo {
  /** Address text (dotted quad or RFC 5952). */
  src: string;
  dst: string;
  /** TCP/UDP ports (0 for other protocols). */
  sport: number;
  dport: number;
  /** ICMP id, type and code (ICMP/ICMPv6 only). */
  icmpId?: number;
  icmpType?: number;
  icmpCode?: number;
}

/** A connection as `dpctl/dump-conntrack` shows it. */
export interface CtConnectionInfo {
  zone: number;
  ipv6: boolean;
  proto: number;
  orig: CtTupleInfo;
  reply: CtTupleInfo;
  mark: number;
  /** 128-bit label, word 0 = bits 0..31. */
  label: [number, number, number, number];
  /** NAT applied to the original direction: `src`, `dst`, or none. */
  nat: 'src' | 'dst' | undefined;
  /** TCP only: the two peers' states ({@link CtTcpState} names). */
  tcpStateOrig?: string;
  tcpStateReply?: string;
  /**
   * TCP only: each peer's window scale byte as OVS's `tcp_conn_get_protoinfo` reads it (lib/conntrack-tcp.c): the
   * shift (0–14) and the dump's flags — WINDOW_SCALE when the peer's SYN carried the option, BE_LIBERAL when the
   * connection was picked up mid-stream and the scale is unknown.
   */
  tcpWscaleOrig?: number;
  tcpWscaleReply?: number;
  tcpFlagsOrig?: string;
  tcpFlagsReply?: string;
  /** Seconds until expiry at `now`, rounded down as OVS prints it. */
  timeout: number;
  /** Internal slot (stable while the connection lives). */
  slot: number;
}

interface ZoneLimit {
  limit: number;
  count: number;
  seq: number;
}

/** Slots reserved by default: 4 Mi slots are ≈ 0.8 GB of address space, resident only as used. */
const DEFAULT_RESERVED = 1 << 22;

/**
 * The last lookup epoch handed out, over all engines (see {@link OvsConntrack.epoch}): an epoch names one engine's
 * state too, so a hint kept for one engine is never taken by another.
 */
let epochs = 0;

/** The default zone limit's key (OVS `DEFAULT_ZONE`). */
const DEFAULT_ZONE = -1;

/** Bad configuration of an engine (limits, zones). */
export class ConntrackConfigError extends VippathError {
  constructor(message: string) {
    super('CONNTRACK_CONFIG', message);
  }
}

const reverseIcmp4Type = (type: number): number => {
  switch (type) {
    case 8:
      return 0;
    case 0:
      return 8;
    case 13:
      return 14;
    case 14:
      return 13;
    case 15:
      return 16;
    case 16:
      return 15;
    default:
      return type;
  }
};

/**
 * A packet's ports (TCP, UDP, SCTP) or ICMP type and code as one word, 0 for another protocol (see sameTuple). The
 * decoder leaves SCTP without an L4 offset, so its ports read as 0 here and a rewrite of them keeps the connection
 * where OVS forgets it (packet_set_sctp_port). Not visible: OVS 3.1 keys SCTP without ports (conntrack.c
 * extract_l4), so its lookup then finds the same connection, and the only step process_one_fast skips, the
 * update from FIRST to MULTIPLE, changes no timeout by default (test/ct-ovs.test.ts, "rewrite between two ct()").
 */
const l4Word = (frame: Uint8Array, d: DecodedFrame): number => {
  const l4 = d.l4Offset;
  if (l4 < 0) return 0;
  const p = d.ipProto;
  // TCP and UDP ports as the decoded frame holds them (kept current by the caller, as the lookups' keys take them).
  if (p === 6 || p === 17) return ((d.srcPort << 16) | d.dstPort) >>> 0;
  if (p === 132) return read32(frame, l4);
  return p === 1 || p === 58 ? read16(frame, l4) : 0;
};

/**
 * Whether OVS takes the packet for an ALG's control packet (lib/conntrack.c branch-3.1 get_alg_ctl_type, no helper
 * given: the request carries none): TCP from or to port 21 (FTP), UDP to port 69 (TFTP). conntrack_execute never
 * answers such a packet from `pkt->md.conn` (process_one_fast) but runs process_one, whose update is visible — a
 * UDP connection's second update moves it from FIRST to MULTIPLE and its expiry with it.
 */
const algControl = (d: DecodedFrame): boolean => {
  if (d.l4Offset < 0) return false;
  const p = d.ipProto;
  return (p === 6 && (d.srcPort === 21 || d.dstPort === 21)) || (p === 17 && d.dstPort === 69);
};

/**
 * A request's flag by its truth, compared with true first, then false: V8's test of a value it does not know to be a
 * boolean (a field, an argument of a call not inlined) is otherwise a chain of compares (≈ 11 instructions on true).
 */
const truthy = (v: boolean): boolean => v === true || (v !== false && !!v);

const natReverse = (a: number): number => {
  if (a & SRC) return (a & ~SRC) | DST;
  if (a & DST) return (a & ~DST) | SRC;
  return a;
};

const mix = (h: number, w: number): number => {
  h = Math.imul(h ^ w, 0x9e3779b1);
  return h ^ (h >>> 15);
};

const finish = (h: number): number => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  // A signed 32-bit result stays a small integer in V8 (no boxed number per call).
  return h ^ (h >>> 16);
};

/**
 * A call's key scratch (OVS `struct conn_lookup_ctx`), one pair for every engine: CK the packet's key, TK the reply key
 * a commit makes (and checkOrigTuple's, lookupOwn's). Module-level constants because TurboFan folds such an array's
 * address and length into its code: a word at a constant index is one load or store, where a field's array costs a
 * map check, three loads (length, base, offset) and a bounds check per word (bench/README, session 42). Each over an
 * ArrayBuffer of its own: `new Uint32Array(11)` keeps its 44 bytes on V8's heap, where the collector may move them,
 * and TurboFan then folds only the object, still loading its length and base and checking each index. Shared, not
 * per engine: each call writes CK before it reads it (extractKey, reuseKey, the hinted path's own stores) and TK
 * before it reads it, and the hash of CK an engine keeps (`ckHashed`) is cleared by the same writes; no engine's call
 * runs inside another's.
 */
const CK = new Uint32Array(new ArrayBuffer(CT_KEY_WORDS * 4));
const TK = new Uint32Array(new ArrayBuffer(CT_KEY_WORDS * 4));
/*
 * lookupCk's miss memo: the key of the last miss of any engine, and (MK_OWNER[0]) that engine's memoId. Module
 * constants, as CK: a word is one load or store, where a field's array was a checked one (its map, length and base
 * loaded; ≈ 20 of its accesses a full-cold SYN). An engine answers from it only when it wrote it last; another engine's
 * miss in between costs the first its memo (a full lookup next), never a wrong answer. The owner as an array slot, not a
 * module `let` (session 46's try: a context slot TurboFan loads with its hole check at each use, +70 a frame).
 */
const MK = new Uint32Array(new ArrayBuffer(CT_KEY_WORDS * 4));
const MK_OWNER = new Int32Array(1);
let memoIds = 0;
/**
 * tcp_valid_new by the TCP header's twelve flag bits (as connNotFound reads them: read16 at offset 12, & 0xfff), 1 where
 * tcpValidNew says yes: made from that function, so the two cannot differ. A table over an ArrayBuffer of its own (off
 * V8's heap, as CK) so that processOne's +new answer reads it at a constant address with no bounds check, and calls
 * nothing TurboFan would have to inline (see processOne).
 */
const VALID_NEW_TCP = new Uint8Array(new ArrayBuffer(4096));
for (let f = 0; f < 4096; f++) VALID_NEW_TCP[f] = tcpValidNew(f) ? 1 : 0;
/**
 * lookedTcp4's key, the same way and for the same reason: written whole by each lookedTcp4 call before its lookup and
 * read only by that lookup and the hintedTcp4 call it makes next; apart from CK (the hinted path's `checked` reads it
 * where CK may hold another packet's key).
 */
const LK = new Uint32Array(new ArrayBuffer(CT_KEY_WORDS * 4));
/**
 * The kept key's segment as a taken hintedTcp4 read it for its tracker, for nextTcp4 (a replay's later step: the packet
 * the previous call left, which NAT rewrote in its addresses, ports and sums only), which takes them instead of reading
 * the header again: a store number (SEG_TOKEN), the offset/flags word (flags found valid), the payload length, the
 * sequence and ack numbers (int32: read `>>> 0`) and the window as read. Written by hintedTcp4 alone, on its usual
 * tracker path and its SYN|ACK path (its reads only: no branch there, where form 1 of session 45 cost more in spills
 * than it saved). Off V8's heap at a constant address, as LK: a
 * store is one instruction, where an int32 field's was three (its Smi tag) and `this` reloaded. One array for all
 * engines: each store takes the next token (odd numbers, 1 first: never 0, also once they wrap) and the engine keeps it
 * (segToken), so the numbers are an engine's while the two are equal — another engine's store moves the token on.
 */
const SEG = new Int32Array(new ArrayBuffer(19 * 4));
const SEG_TOKEN = 0;
const SEG_HW = 1;
const SEG_LEN = 2;
const SEG_SEQ = 3;
const SEG_ACK = 4;
const SEG_WIN = 5;
/** The SEG token TRK's words were made for (TRK below). */
const SEG_TRK = 6;
SEG[SEG_TOKEN] = -1;
SEG[SEG_TRK] = -1;
/**
 * The tracker's usual path or SYN|ACK path on the segment SEG holds, as the taken hintedTcp4 that stored it ran it: the
 * two peers' words before (the sender's seqlo, seqhi and packed word, the receiver's the same), the five it may write
 * (the sender's seqlo, seqhi and packed word, the receiver's seqhi and packed word: no path writes the receiver's seqlo;
 * the usual path leaves the sender's seqhi, stored as found) and the timeout's index; for the SEG token in SEG_TRK, and
 * only where that call's update was VALID. Each path is a function of those six words, the segment (a SYN|ACK's
 * window-scale option too: the same packet's bytes, which NAT does not rewrite) and the engine's seqCheck alone, so a
 * later zone's connection of the same packet (nextTcp4: in http ≈ 1.4 calls a frame — zones 1 and 4 hold a connection
 * each and have seen the same segments) whose six words are the same gets the same five words and timeout: stored from
 * here, without the window's tests and the state moves. SEG's own words 7–18 (int32: a word compared `| 0`): as an
 * array of its own (one more constant address held in a register through the tracker, in hintedTcp4's code) it cost
 * hintedTcp4 ≈ 5 instructions a frame more on http.
 */
const TRK = SEG;
const TRK_SPK = 7;
const TRK_SLO = 8;
const TRK_SHI = 9;
const TRK_DPK = 10;
const TRK_DLO = 11;
const TRK_DHI = 12;
const TRK_SLO2 = 13;
const TRK_SPK2 = 14;
const TRK_DHI2 = 15;
const TRK_DPK2 = 16;
const TRK_TM = 17;
const TRK_SHI2 = 18;

/**
 * The engine. One instance is one datapath's conntrack (all zones), as `dp->conntrack` in dpif-netdev.
 * Implements the logical-flow executor's {@link ConntrackEngine}.
 */
export class OvsConntrack implements WordsConntrackEngine {
  /** Per-{@link CtReason} counts. */
  readonly counters = new Float64Array(16);

  private capacity: number;
  /** Slots the per-slot arrays span (≥ capacity). */
  private allocated: number;
  /** Slots the first growth allocates at once (see {@link OvsConntrackOptions.reservedCapacity}). */
  private readonly reserved: number;
  private readonly maxConns: number;
  /** The timeout policy in milliseconds (the simulated clock's unit): the seconds' table times 1000, made once. */
  private readonly timeoutMs: Float64Array;
  private readonly seqCheck: boolean;
  private readonly validate: boolean;
  private readonly sweepInterval: number;
  /**
   * A double from its declaration (Infinity, then the constructor's value): declared without a value it was a tagged
   * field (undefined, then a Smi, then a double), and every hinted call's compare with it tested which.
   */
  private nextSweep = NO_TIMEOUT;
  private rng: number;
  private readonly hashSeed: number;

  // Slot storage: the records (four views of one buffer), then cold per-slot bookkeeping.
  private keys: Uint32Array;
  private links: Int32Array;
  private recF: Float64Array;
  private recB: Uint8Array;
  /** Labels, 4 words a slot (valid while the record's label byte is set). */
  private labels: Uint32Array;
  /** IPv6 keys' words past the record's (see CT_KEY_WORDS): 2 × V6W a slot; made at the first IPv6 commit. */
  private v6keys: Uint32Array | undefined;
  private buckets: Int32Array;
  /**
   * One bit per bucket: set while its chain is not empty. Most lookups of a new connection's key and of NAT
   * tuple candidates miss, and most of them land on an empty bucket: the bitmap (1/32 of the buckets' size,
   * small enough to stay in cache with 100 000s of connections) answers those without reading the bucket,
   * whose array is too large to stay cached — that read was the largest single cost of a new connection.
   */
  private occupied: Uint32Array;
  private bucketMask: number;
  private admitZone: Int32Array;
  private zoneSeq: Uint32Array;
  private liveNext: Int32Array;
  private livePrev: Int32Array;
  private tcp: TcpPeers;
  private liveHead = -1;
  /** The live list's last (oldest) connection: rehash starts there. */
  private liveTail = -1;
  private freeHead = -1;
  /** Slots ever handed out (the rest of the pool is untouched). */
  private used = 0;
  private nConns = 0;

  private readonly zoneLimits = new Map<number, ZoneLimit>();
  private zoneLimitSeq = 0;

  // Per-packet scratch (OVS `struct conn_lookup_ctx`): the module's CK and TK (see there); the field for the hinted
  // path's reads of CK (TK is read only through the module's name).
  private readonly ck = CK;
  /** Hash of `ck` while `ckHashed` (cleared whenever `ck` is rewritten). */
  private ckHash = 0;
  private ckHashed = false;
  /** Hash of the new connection's reply key, left by the NAT tuple search that found it free. */
  private revHash = 0;
  /** lookupCk's memo of its last miss: the key, the insert count then (`version`) and the time. */
  /** This engine's mark on the shared miss memo (MK_OWNER): unique among the process's engines. */
  private readonly memoId = ++memoIds;
  private missVersion = -1;
  private missNow = 0;
  private missHash = 0;
  /** Nodes inserted so far (a lookup that missed misses again until this moves). */
  private version = 0;
  // The packet's key kept across its ct() calls (samePacket): the key with zone 0 and the fingerprint. The key's five
  // words as int32 fields (the addresses `| 0`; `>>> 0` where read as uint32) rather than a Uint32Array: a field is one
  // load off `this`, an element of an array held in a field a load of the array, its base and length and a bounds
  // check (≈ 15 instructions a hinted call). Fields are the engine's own, as the kept key must be (two engines run
  // call by call must not take each other's key).
  private xSrc = 0;
  private xDst = 0;
  private xSl4 = 0;
  private xDl4 = 0;
  /** The kept key's meta word without the zone (protocol << 16; 0: none yet). */
  private xMeta = 0;
  private xOk = false;
  private xState = -1;
  /** The result and its packet number (CtResult.packet, 0: unnumbered) the kept key was left for. */
  private xRes: CtResult | undefined;
  private xPacket = 0;
  private xFrame: Uint8Array | undefined;
  private xDecoded: DecodedFrame | undefined;
  private xL3 = 0;
  private xL4 = 0;
  private xEnd = 0;
  private xIpSum = 0;
  private xL4Sum = 0;
  /**
   * The caller's frame generation given to the running call (executeWords' `gen`; 0: none) and to the call that
   * left the kept key: a call given the same non-zero generation again is on that packet, unwritten since but by
   * this engine (WordsConntrackEngine.executeWords), and takes the kept key without samePacket's compares.
   */
  private callGen = 0;
  private xGen = 0;
  /**
   * The sender's three tracker words (seqlo, seqhi, packed) tcpNewConn made for this engine's last TCP commit given a
   * frame generation, and that generation (0: none). A commit given the same generation is on the same segment (see
   * connNotFound); the receiver's words follow from the sender's (see there).
   */
  private readonly synWords = new Uint32Array(T_PEER);
  private synGen = 0;
  /**
   * The SEG token of this engine's store of its kept key's segment (0: none): SEG holds that segment while its token is
   * this. Cleared by hintedTcp4's taken calls that do not store (a stale packet's numbers) and by execute's body (any
   * call there may be another packet's, or leave the key kept without the segment's numbers).
   */
  private segToken = 0;
  /**
   * The node whose key, reversed, the kept key is since NAT wrote the packet from it (-1: none), and its slot's
   * generation then. The next ct() in that zone looks the packet up by that very key (initial_conn_lookup of a
   * NATed packet): its hash is the node's, stored in `links`.
   */
  private xNode = -1;
  private xNodeGen = 0;
  /**
   * The reply node of the NATed connection committed last (-1: none), with the table's insert count and epoch just
   * after its insert. The NAT tuple search found no live node of its key and it went in at its chain's head, so until
   * the next insert (or time running back) a walk for that key meets it first: found, or, expired, nothing found. The
   * same packet's next ct() in the zone (OVN's ct_commit after ct_lb's commit) looks up exactly that key.
   */
  private freshNode = -1;
  private freshVersion = 0;
  private freshEpoch = 0;
  /**
   * The reply nodes of the two connections committed last (-1: none), newest first: the keys a new connection's
   * answer (its SYN-ACK) looks up next, newest zone first (full-cold: the pod's, then the VIP's DNAT one). lookupCk
   * tries `replyA` alone and, when it answers, moves `replyB` up: one candidate per lookup.
   */
  private replyA = -1;
  private replyB = -1;
  /** The node whose key natPacket translated the packet to (reversed), -1 when it did not or it was an ICMP error. */
  private natNode = -1;
  private ctxReply = false;
  private ctxRelated = false;
  /** The packet is a TCP SYN without ACK: its key is most likely in no connection (see lookupKey). */
  private likelyNew = false;
  private innerL3 = 0;
  private innerL4 = 0;
  private readonly walk: Ipv6Walk = { protocol: 0, upperOffset: 0, extensionCount: 0, fragmented: false, fragmentOffset: 0 };
  private readonly addrScratch = new Uint32Array(4);
  private readonly addr4Scratch = new Uint32Array(4);
  /**
   * The two buffers {@link sumBytes} reads through views, `sumFrame` the one viewed last (a view undefined: an odd
   * offset, read bytewise); the candidate for the next view.
   */
  private sumFrame: Uint8Array | undefined;
  private sumView: Uint16Array | undefined;
  private sumFrame2: Uint8Array | undefined;
  private sumView2: Uint16Array | undefined;
  /** 32-bit views of the same two buffers, where they start at a multiple of 4 (else undefined): tcp4SumsOk's. */
  private sumWide: Uint32Array | undefined;
  private sumWide2: Uint32Array | undefined;
  private sumNext: Uint8Array | undefined;
  /** The result whose original-tuple bytes {@link viewMeta} viewed as words, and the views. */
  private metaRes: CtResult | undefined;
  private metaSrc32: Uint32Array | undefined;
  private metaDst32: Uint32Array | undefined;
  /**
   * The running call's ct fields are the caller's flow words `ow` (executeWords), not the result's mark, label and
   * tuple: writeMeta, readMarkLabel, setMark, setLabel and checkOrigTuple read and write those words instead.
   */
  private words = false;
  private ow: Uint32Array = NO_WORDS;
  /**
   * The running executeWords call's `hidden`: its caller clears the ct words after it (WordsConntrackEngine), so
   * writeMetaWords leaves them and setMarkWords / setLabelWords read the connection's mark and label from its record.
   */
  private hideOut = false;

  /**
   * Lookup hints (see {@link executeHinted}). `epoch` moves whenever a lookup of some key could start answering
   * with another node than the one it answered before, other than by that node's own removal (its slot's
   * generation moves) or expiry (read at each use): a node that may stand in front of a live node of its key
   * inserted into a chain that holds a node of the same hash (see insertNodes), the table cleared (slots reused
   * without a generation bump), a rehash, and time running backwards (an expired node in front of a key's live one
   * would be live again).
   */
  private epochNow = ++epochs;
  private lastNow = Number.NEGATIVE_INFINITY;
  /** The hint of the running call (executeHinted): a node, or -1, and its slot's generation. */
  private hintIn = -1;
  private hintInGen = 0;
  private hintOut = -1;
  private hintOutGen = 0;

  // OVS's `pkt->md.conn`: the connection a packet's previous ct() (without NAT) found, reused by the next
  // ct() in the same zone (process_one_fast). Tied to the result object the executor carries per packet.
  private cacheResult: CtResult | undefined;
  private cacheSlot = -1;
  private cacheGen = 0;
  private cacheState = 0;
  private cacheReply = false;
  private cacheRelated = false;
  /** The packet's addresses and ports (or ICMP type and code) when its connection was kept: see {@link sameTuple}. */
  private readonly cacheTuple = new Uint32Array(9);

  constructor(options: OvsConntrackOptions = {}) {
    const max = options.maxConnections ?? CT_DEFAULT_CONN_LIMIT;
    if (!Number.isInteger(max) || max < 1) throw new ConntrackConfigError(`maxConnections must be a positive integer, got ${max}`);
    this.maxConns = max;
    this.capacity = Math.max(1, Math.min(max, options.initialCapacity ?? 1024));
    const timeouts = timeoutTable({ ...CT_DEFAULT_TIMEOUTS, ...options.timeouts });
    for (const v of timeouts) if (!(v >= 0)) throw new ConntrackConfigError('timeouts must be non-negative numbers of seconds');
    // Each entry's product the one every expiry took (`seconds * 1000`), computed once instead of per update.
    this.timeoutMs = timeouts.map((v) => v * 1000);
    this.seqCheck = options.tcpSequenceCheck ?? true;
    this.validate = !!(options.validateChecksums ?? true);
    this.sweepInterval = options.sweepIntervalMs ?? 20_000;
    this.nextSweep = this.sweepInterval > 0 ? this.sweepInterval : NO_TIMEOUT;
    this.hashSeed = (options.seed ?? 0x5eed) | 0;
    this.rng = (this.hashSeed ^ 0x9e3779b9) | 1;
    const reserved = options.reservedCapacity ?? Math.min(max, DEFAULT_RESERVED);
    if (!Number.isInteger(reserved) || reserved < 1) throw new ConntrackConfigError(`reservedCapacity must be a positive integer, got ${reserved}`);
    this.reserved = Math.min(max, reserved);
    this.allocated = this.capacity;
    this.keys = new Uint32Array(0);
    this.links = new Int32Array(0);
    this.recF = new Float64Array(0);
    this.recB = new Uint8Array(0);
    this.labels = new Uint32Array(0);
    this.admitZone = new Int32Array(0);
    this.zoneSeq = new Uint32Array(0);
    this.liveNext = new Int32Array(0);
    this.livePrev = new Int32Array(0);
    this.tcp = allocTcpPeers(0);
    this.allocSlots(this.allocated, 0);
    const nb = bucketCount(this.capacity);
    this.buckets = new Int32Array(nb).fill(-1);
    this.occupied = new Uint32Array((nb + 31) >>> 5);
    this.bucketMask = nb - 1;
    if (options.defaultZoneLimit !== undefined) this.setZoneLimit(DEFAULT_ZONE, options.defaultZoneLimit);
    const zl = options.zoneLimits;
    if (zl) {
      const pairs = zl instanceof Map ? [...zl.entries()] : Object.entries(zl).map(([k, v]) => [Number(k), v] as const);
      for (const [zone, limit] of pairs) this.setZoneLimit(zone, limit);
    }
  }

  /** Connections in the table (expired ones count until swept, as in OVS). */
  get size(): number {
    return this.nConns;
  }

  /** Slots allocated in the pool. */
  get poolCapacity(): number {
    return this.capacity;
  }

  /** The table limit. */
  get limit(): number {
    return this.maxConns;
  }

  /**
   * Sets a zone's connection limit (`zone` 0–65535), or the default limit with `zone` -1. Changing an existing
   * limit keeps its count; creating one starts a fresh count (connections admitted before do not count), as
   * OVS's `zone_limit_update`.
   */
  setZoneLimit(zone: number, limit: number): void {
    if (!Number.isInteger(zone) || zone < DEFAULT_ZONE || zone > 0xffff) throw new ConntrackConfigError(`zone must be -1 (default) or 0..65535, got ${zone}`);
    if (!Number.isInteger(limit) || limit < 0 || limit > 0xffffffff) throw new ConntrackConfigError(`zone limit must be an integer 0..2^32-1, got ${limit}`);
    const zl = this.zoneLimits.get(zone);
    if (zl) zl.limit = limit;
    else this.zoneLimits.set(zone, { limit, count: 0, seq: this.zoneLimitSeq++ });
  }

  /** Removes a zone's limit (its connections stop being counted). */
  deleteZoneLimit(zone: number): void {
    this.zoneLimits.delete(zone);
  }

  /** A zone's limit and current count (or the default's when it has none), as `dpctl/ct-get-limits`. */
  zoneLimit(zone: number): { zone: number; limit: number; count: number } | undefined {
    const own = this.zoneLimits.get(zone);
    if (own) return { zone, limit: own.limit, count: own.count };
    const def = this.zoneLimits.get(DEFAULT_ZONE);
    return def ? { zone: DEFAULT_ZONE, limit: def.limit, count: def.count } : undefined;
  }

  /** Connections currently in `zone` (including expired ones not yet swept). */
  zoneSize(zone: number): number {
    let n = 0;
    for (let e = this.liveHead; e >= 0; e = this.liveNext[e]!) if ((this.keys[e * R + K_META]! & 0xffff) === zone) n++;
    return n;
  }

  // ---------------------------------------------------------------- hot path

  /** The table's lookup epoch now (a hint is taken only in the epoch it was made in). */
  get epoch(): number {
    return this.epochNow;
  }

  /**
   * The node (`slot * 2 + direction`) the last call's first lookup found, -1 when it found none or made none —
   * with {@link foundGen} and {@link epoch}, a hint for the same lookup later.
   */
  get foundNode(): number {
    return this.hintOut;
  }

  /** The generation of {@link foundNode}'s slot when it was found. */
  get foundGen(): number {
    return this.hintOutGen;
  }

  /**
   * How far the sender of node `node`'s direction (as {@link foundNode} names it; `gen` its slot's generation then)
   * has closed its half of a TCP connection, by the tracker's peer states: 2 once it has sent its FIN and the other
   * peer has sent one and heard an ACK since (CLOSING or later, and FIN_WAIT_2 or later; a RST puts both there) —
   * its direction's last segment is behind it, bar retransmissions; 1 when it has sent FIN and the other peer has
   * not got that far; 0 before its FIN; -1 when the node is none, its slot has been freed since, or it is not TCP.
   */
  tcpClosing(node: number, gen: number): number {
    const keys = this.keys;
    // e below the slot count first: then its record's offsets are below the arrays' lengths, int32 sums and products
    // (`| 0`, Math.imul) without TurboFan's overflow checks (the connection replay asks this at each ending walk).
    const e = node >> 1;
    if (node < 0 || e >= keys.length >>> R_LOG2) return -1;
    const base = Math.imul(e, R);
    if (keys[(base + R_GEN) | 0] !== gen || this.recB[(Math.imul(base, 4) + R_BYTES * 4 + B_L4) | 0] !== CtL4.TCP) return -1;
    return tcpPeerClosing(this.tcp, e, node & 1);
  }

  /**
   * {@link execute} with a hint: `node` (of slot generation `gen`, in `epoch`) is what the call's first lookup found
   * for this packet before ({@link foundNode}). The lookup takes the node without hashing or walking its chain
   * when the node is provably what the walk would find: its slot not freed since (the generation), no node
   * inserted in front of a node of the same key since, no rehash, clear or time running backwards (the epoch), and
   * now, as the walk checks, the node's key is the packet's and it has not expired (a reply node whose record's
   * original key is the packet's too answers as the original, as the walk does). Otherwise the lookup is the
   * usual one. Everything else — state update, NAT, metadata, counters — is {@link execute}'s, so the outcome and
   * the table after it are the same as without the hint, but for the original tuple of a call that finds the hint's
   * own node: that call may leave the result's tuple fields as it found them, with `tupleWritten` false
   * ({@link HintedConntrackEngine.executeHinted}; here: the established IPv4 TCP path). `next`: the caller's promise
   * that the packet is the one the previous call left, untouched since (HintedConntrackEngine.executeHinted) — the
   * established IPv4 TCP path then reuses the key that call kept without samePacket's compares. `fresh`: the caller
   * knows the packet is a new one — that path then extracts its key without samePacket's compares either. `keyed`:
   * the caller's promise that the hint names the node an earlier call's first lookup found for this packet's key in
   * this zone (HintedConntrackEngine.executeHinted) — that path then checks only the slot's generation and the
   * node's expiry, not the key.
   */
  executeHinted(frame: Uint8Array, length: number, d: DecodedFrame, req: CtRequest, res: CtResult, now: number, node: number, gen: number, epoch: number, next = false, fresh = false, keyed = false): void {
    this.words = false;
    this.callGen = 0;
    if (epoch === this.epochNow) {
      // The previous call kept its key for this frame and decode when it left xState set: with the promise, that key is
      // the packet's.
      if (node >= 0) {
        const known = next && this.xState !== -1 && frame === this.xFrame && d === this.xDecoded;
        // Both promises (a replay's later step): hintedTcp4's steps in a function without the fresh call's branches.
        if ((known === true && keyed === true ? this.nextTcp4(frame, d, req, res, now, node, gen, false) : this.hintedTcp4(frame, d, req, res, now, node, gen, known, fresh, keyed === true ? HINT_KEYED : HINT_CHECKED)) === true) return;
      }
      this.hintIn = node;
      this.hintInGen = gen;
    } else if ((next === true || fresh === true) && this.lookedTcp4(frame, d, req, res, now, next, fresh) === true) return;
    this.execute(frame, length, d, req, res, now);
    this.hintIn = -1;
  }

  /**
   * executeHinted with a hint of another epoch (a walk template's slot names the nodes of the connection it was
   * recorded from): the node an IPv4 TCP packet's key (the kept one under `next`'s promise, else the decode's) finds
   * in the request's zone, looked up as execute's first lookup finds it — lookupKey's answer, which lookupCk's
   * remembered miss is too — then the hinted path with that node. False, with nothing written but a scratch key,
   * where no node is found, the packet is not such a one or the hinted path declines: execute runs as without it.
   * Apart from executeHinted, which its callers inline.
   */
  private lookedTcp4(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult, now: number, next: boolean, fresh: boolean): boolean {
    const known = next === true && this.xState !== -1 && frame === this.xFrame && d === this.xDecoded;
    if (known !== true && fresh !== true) return false;
    let src: number;
    let dst: number;
    let sp: number;
    let dp: number;
    if (known === true) {
      if (this.xMeta !== 6 << 16) return false;
      src = this.xSrc;
      dst = this.xDst;
      sp = this.xSl4;
      dp = this.xDl4;
    } else {
      const l4 = d.l4Offset;
      if (d.status !== DecodeStatus.OK || d.l3 !== L3.IPV4 || d.ipFragment || d.ipProto !== 6 || l4 < 0) return false;
      const at = l4 & OFFSET_MASK;
      src = d.ipSrc | 0;
      dst = d.ipDst | 0;
      sp = read16(frame, at);
      dp = read16(frame, (at + 2) | 0);
    }
    const meta = (req.zone & 0xffff) | (6 << 16);
    const k = LK;
    k[K_SRC] = src;
    k[K_DST] = dst;
    k[K_SL4] = sp;
    k[K_DL4] = dp;
    k[K_META] = meta;
    // hashAt's value for an IPv4 key, from the words at hand (mix takes each as int32: the same bits).
    const h = finish(mix(mix(mix(mix(mix(this.hashSeed, meta), src), dst), sp), dp));
    const n = this.lookupKey(k, now, h, false);
    if (n < 0) return false;
    const g = this.keys[(Math.imul(n >> 1, R) + R_GEN) | 0]!;
    // A packet's later zone (`known`) whose earlier zone's taken call kept its segment (≈ 0.2 calls a frame in http: the
    // client's ACK of the handshake, zones 1 and 4 found by lookup, a walk template's step): nextTcp4, which takes that
    // call's tracker update where this connection's words are the ones it found (as every one is in http).
    return known === true && this.segToken === SEG[SEG_TOKEN] ? this.nextTcp4(frame, d, req, res, now, n, g, true) : this.hintedTcp4(frame, d, req, res, now, n, g, known, fresh, HINT_LOOKED);
  }

  /**
   * {@link execute} of an IPv4 TCP packet whose hint is taken (the usual call of an established flow's replayed walk),
   * in one function: the key from the kept one or from the packet, the hint's node checked against it as
   * {@link hinted} checks, the TCP tracker, then the same NAT, metadata and kept-key steps as execute's. What
   * execute would do otherwise — the sweep, time running backwards, process_one_fast's cache, force, a packet
   * NATed in an earlier zone, another protocol, a packet execute would count as invalid before its
   * lookup (bad checksum, port 0, flags), a hint not taken — returns false before any state changes, and execute
   * runs. The chain of calls execute makes (process_one, the lookups, conn_update, its tracker) was a third of a
   * hinted call's instructions. `trust` says what of `n` is known (HINT_CHECKED, HINT_KEYED, HINT_LOOKED). HINT_LOOKED:
   * `n` is no caller's hint but the node lookedTcp4 found just now — the
   * original tuple is then written whole (the caller's hint was another node). A call under `next` and `keyed` runs
   * {@link nextTcp4}, a copy of these steps: a change here is a change there.
   */
  private hintedTcp4(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult, now: number, n: number, gen: number, known: boolean, fresh: boolean, trust: number): boolean {
    // Mark and label writes need no guard: finishOne makes them as processOne does, after the same state update.
    if (now < this.lastNow || now >= this.nextSweep || req.force) return false;
    // The slot first: −1 after any call that NATed, and the result compare checks the field's object type too.
    if (this.cacheSlot >= 0 && this.cacheResult === res) return false;
    const zone = req.zone & 0xffff;
    const state0 = res.state !== 0 && res.zone !== zone ? 0 : res.state;
    if (state0 & NAT_BITS) return false;
    const keys = this.keys;
    const base = ((n >> 1) * R) | 0;
    // HINT_LOOKED: lookedTcp4's lookupKey found `n` just now for the key in `lk` (zone, protocol 6, the tuple) — its
    // slot live (its generation is the one read for `gen`), its key the packet's, not expired, and the original node
    // where the record's original key is the packet's too (lookupKey's own answer). What this function checks of a
    // caller's hint holds then; only the packet's own checks (flags, checksums) remain.
    const checked = trust === HINT_LOOKED;
    // HINT_KEYED: the node's key, while its slot's generation is `gen`, is the packet's (the caller's promise): a TCP
    // key (protocol 6, below), so the record's tracker is TCP's.
    if (!checked && (base >= keys.length || keys[(base + R_GEN) | 0] !== gen || (trust === HINT_CHECKED && this.recB[((base + R_BYTES) * 4 + B_L4) | 0] !== CtL4.TCP))) return false;
    // `fresh`: samePacket would answer false, or true only for a new packet whose fingerprint is the old one's — whose
    // key, extracted, is the kept key, and whose checksums then verify as they did (or not, where its other bytes
    // differ: OVS verifies every packet).
    // The booleans compared with `true` (a pointer compare) rather than tested (V8's ToBoolean of a value it cannot type:
    // a chain of compares with false, '', an undetectable map, a number's and a bigint's); all three are booleans.
    const same = known === true || (fresh !== true && this.samePacket(frame, d, res));
    const l4 = d.l4Offset;
    // The offset masked for the byte reads (OFFSET_MASK: itself once l4 ≥ 0, which the decode's or the kept key's
    // checks have said): their index adds lose their overflow checks.
    const at = l4 & OFFSET_MASK;
    let src: number;
    let dst: number;
    let sp: number;
    let dp: number;
    if (checked) {
      // The key lookedTcp4 made (from the kept key or the decode, after the same checks as below) and looked up.
      const lk = LK;
      src = lk[K_SRC]!;
      dst = lk[K_DST]!;
      sp = lk[K_SL4]!;
      dp = lk[K_DL4]!;
    } else if (same) {
      if (this.xMeta !== 6 << 16) return false;
      src = this.xSrc >>> 0;
      dst = this.xDst >>> 0;
      sp = this.xSl4;
      dp = this.xDl4;
    } else {
      if (d.status !== DecodeStatus.OK || d.l3 !== L3.IPV4 || d.ipFragment || d.ipProto !== 6 || l4 < 0) return false;
      // `>>> 0`: the decode's addresses are uint32 values, as the kept key's words are; typed so, the phi of the two
      // paths is a 32-bit word and not a float (each compare with the record's words and each store into a key
      // then a float compare or conversion).
      src = d.ipSrc >>> 0;
      dst = d.ipDst >>> 0;
      sp = read16(frame, at);
      dp = read16(frame, (at + 2) | 0);
    }
    const meta = zone | (6 << 16);
    if (trust === HINT_CHECKED) {
      const b = (base + (n & 1) * REV) | 0;
      if (keys[(b + K_META) | 0] !== meta || keys[(b + K_SL4) | 0] !== sp || keys[(b + K_DL4) | 0] !== dp || keys[b + K_SRC] !== src || keys[(b + K_DST) | 0] !== dst) return false;
    }
    if (!checked && now >= this.recF[(base + R_EXP) >> 1]!) return false;
    // The offset/flags word, read once: the flags for the checks and the tracker, the data offset for its payload length.
    const hw = read16(frame, (at + 12) | 0);
    const flags = hw & 0xfff;
    if (tcpInvalidFlags(flags)) return false;
    // After the key matched (a refused hint costs no checksum): what extractKey checks of an IPv4 TCP packet.
    // Not where the caller vouches for them (CtResult.checksumsGood: conn_key_extract's offload test, see extractKey).
    if (!same && this.validate === true && res.checksumsGood !== true) {
      // tcp4SumsOk's bare-header case written out — an IPv4 header without options and a 20-byte segment in a buffer
      // viewed at an even offset (a client's ACKs and FINs: ≈ 0.6 of these checks a frame in http) — the same sums
      // and verdict without its call, entry and tests. Anything else is its call (which makes a view where it would).
      const v = frame === this.sumFrame ? this.sumView : frame === this.sumFrame2 ? this.sumView2 : undefined;
      const l3 = d.l3Offset & OFFSET_MASK;
      if (v !== undefined && (l3 & 1) === 0 && d.ipHeaderLength === 20 && (d.l3End & OFFSET_MASK) - at === 20) {
        const i = l3 >> 1;
        const j = at >> 1;
        const a = v[(i + 6) | 0]! + v[(i + 7) | 0]! + v[(i + 8) | 0]! + v[(i + 9) | 0]!;
        let ip = v[i]! + v[(i + 1) | 0]! + v[(i + 2) | 0]! + v[(i + 3) | 0]! + v[(i + 4) | 0]! + v[(i + 5) | 0]! + a;
        let s = v[j]! + v[(j + 1) | 0]! + v[(j + 2) | 0]! + v[(j + 3) | 0]! + v[(j + 4) | 0]! + v[(j + 5) | 0]! + v[(j + 6) | 0]! + v[(j + 7) | 0]! + v[(j + 8) | 0]! + v[(j + 9) | 0]! + a + PSEUDO_TCP20;
        ip = (ip & 0xffff) + (ip >>> 16);
        s = (s & 0xffff) + (s >>> 16);
        // (A view shorter than the packet reads undefined: NaN, "bad", and execute verifies, as in tcp4SumsOk.)
        if (((ip & 0xffff) + (ip >>> 16)) !== 0xffff || ((s & 0xffff) + (s >>> 16)) !== 0xffff) return false;
      } else if (this.tcp4SumsOk(frame, d, l4) === false) return false;
    }
    // A reply node whose record's original key is the packet's too answers as the original (as lookupKey's walk). A
    // keyed hint is a lookup's answer, the original already where it answers (the keys do not change while the
    // generation holds).
    let node = n;
    if (trust === HINT_CHECKED && n & 1 && keys[(base + K_META) | 0] === meta && keys[(base + K_SL4) | 0] === sp && keys[(base + K_DL4) | 0] === dp && keys[base + K_SRC] === src && keys[(base + K_DST) | 0] === dst) node = n - 1;

    // Taken: from here on, what execute does.
    // `- 0` (every number itself, −0 and NaN too): the float the compares above unboxed, where a plain `now` is
    // unboxed again for the double field's store (≈ 12 instructions on a heap number).
    this.lastNow = now - 0;
    // Set again below where this call reads the segment; a stale packet's numbers otherwise.
    this.segToken = 0;
    res.rewritten = false;
    this.natNode = -1;
    this.cacheSlot = -1;
    this.ctxRelated = false;
    if (!same) {
      // extractKey's and keepKey's.
      this.likelyNew = (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
      this.xNode = -1;
      this.xSrc = src | 0;
      this.xDst = dst | 0;
      this.xSl4 = sp;
      this.xDl4 = dp;
      this.xMeta = 6 << 16;
    }
    this.xOk = true;
    res.state = state0;
    const rb = node & 1;
    const reply = rb === 1;
    this.ctxReply = reply;
    this.hintOut = node;
    this.hintOutGen = gen;
    const e = node >> 1;
    // conn_update: the TCP tracker and the expiration.
    const len = ((d.l3End & OFFSET_MASK) - at - ((hw >> 12) << 2)) | 0;
    const t = this.tcp;
    let r = -1;
    // tcpUpdate's path (OVS lib/conntrack-tcp.c tcp_conn_update) for a segment without SYN or RST — so with ACK, which
    // tcpInvalidFlags requires of it — from a peer past its first packet, found in the window: written out here,
    // where the call with its eight arguments was ≈ 80 of its ≈ 330 instructions, and ≈ 2.8 calls a frame in http.
    // Every test tcp_conn_update makes of such a segment is made: the window scales, the segment's end (with FIN) within
    // the sender's seqhi, its start no lower than seqlo less the receiver's largest window, the ack skew; then the
    // same updates (largest window, seqlo, the receiver's seqhi, FIN's CLOSING, ACK's moves of the receiver's state)
    // and the timeout the two states say. Anything else — out of the window included — is tcpUpdate's, which starts
    // over: nothing is written here before the window holds. A change to tcpUpdate is a change here
    // (tcp-established.property.test.ts runs both).
    const rec = Math.imul(e, T_STRIDE) & OFFSET_MASK;
    // The two peers' offsets by the direction bit's arithmetic rather than a branch on `reply` each (nextTcp4's form).
    const ps = (rec + Math.imul(rb, T_PEER)) | 0;
    const pd = (rec + T_PEER - Math.imul(rb, T_PEER)) | 0;
    const sPk = t[(ps + T_PACKED) | 0]!;
    const sSt = sPk >>> 24;
    // Past its first packet, a segment without SYN or RST (the written-out usual path); at its first, a SYN|ACK — the
    // server's answer to the SYN, ≈ 0.39 of these calls a frame in http, each one tcpUpdate's call before (its
    // first-packet branch) — on the path below the header read.
    if (sSt >= TS_SYN_SENT ? (flags & (TCP_SYN | TCP_RST)) === 0 : (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) {
      const dPk = t[(pd + T_PACKED) | 0]!;
      // The header's window, sequence and ack numbers read byte by byte (read16's and read32's code): each inlined call
      // counts against TurboFan's inlining budget for this function (V8's js-inlining-heuristic.cc: cumulative 920
      // bytes of bytecode, each candidate weighed 1.2 times its size), and with them noteNat no longer fit (out of
      // line, ≈ 150 instructions a frame).
      // Through the buffer's 16-bit view where the checksums have one and the header starts at an even offset (the
      // usual segment: ≈ 0.86 of these calls in http): five word reads for the twelve bytes' reads, each with its bounds
      // check. Every index below the view's length: the words are then the bytes' (the same buffer and offset).
      const hv = frame === this.sumFrame ? this.sumView : frame === this.sumFrame2 ? this.sumView2 : undefined;
      const hj = at >> 1;
      let win: number;
      let seq: number;
      let ack: number;
      if (hv !== undefined && (at & 1) === 0 && ((hj + 7) | 0) < hv.length) {
        const s0 = hv[(hj + 2) | 0]!;
        const s1 = hv[(hj + 3) | 0]!;
        const a0 = hv[(hj + 4) | 0]!;
        const a1 = hv[(hj + 5) | 0]!;
        const w = hv[(hj + 7) | 0]!;
        if (LITTLE_ENDIAN) {
          // Host order: each word's first byte (the network order's high one) in its low half.
          win = ((w & 0xff) << 8) | (w >>> 8);
          seq = (((s0 & 0xff) << 24) | ((s0 >>> 8) << 16) | ((s1 & 0xff) << 8) | (s1 >>> 8)) >>> 0;
          ack = (((a0 & 0xff) << 24) | ((a0 >>> 8) << 16) | ((a1 & 0xff) << 8) | (a1 >>> 8)) >>> 0;
        } else {
          win = w;
          seq = ((s0 << 16) | s1) >>> 0;
          ack = ((a0 << 16) | a1) >>> 0;
        }
      } else {
        win = (frame[(at + 14) | 0]! << 8) | frame[(at + 15) | 0]!;
        seq = ((frame[(at + 4) | 0]! << 24) | (frame[(at + 5) | 0]! << 16) | (frame[(at + 6) | 0]! << 8) | frame[(at + 7) | 0]!) >>> 0;
        ack = ((frame[(at + 8) | 0]! << 24) | (frame[(at + 9) | 0]! << 16) | (frame[(at + 10) | 0]! << 8) | frame[(at + 11) | 0]!) >>> 0;
      }
      if (sSt >= TS_SYN_SENT) {
        const sScale = (sPk >>> 16) & 0xff;
        const dScale = (dPk >>> 16) & 0xff;
        let sws = 0;
        let dws = 0;
        if ((sScale & T_WS_FLAG) !== 0 && (dScale & T_WS_FLAG) !== 0) {
          sws = sScale & 0xf;
          dws = dScale & 0xf;
        } else if ((sScale & T_WS_UNKNOWN) !== 0 && (dScale & T_WS_UNKNOWN) !== 0) {
          sws = T_MAX_WSCALE;
          dws = T_MAX_WSCALE;
        }
        // Kept for the packet's later zones (nextTcp4): the same numbers, not read again there.
        SEG[SEG_HW] = hw;
        SEG[SEG_LEN] = len;
        SEG[SEG_SEQ] = seq;
        SEG[SEG_ACK] = ack;
        SEG[SEG_WIN] = win;
        const token = (SEG[SEG_TOKEN]! + 2) | 0;
        SEG[SEG_TOKEN] = token;
        this.segToken = token;
        // The words the update finds, for TRK (valid once SEG_TRK is this token, below).
        TRK[TRK_SPK] = sPk;
        TRK[TRK_DPK] = dPk;
        // FIN is bit 0: one more sequence number.
        let end = (seq + len + (flags & TCP_FIN)) >>> 0;
        const sLo = t[(ps + T_SEQLO) | 0]!;
        const sHi = t[(ps + T_SEQHI) | 0]!;
        const dLo = t[(pd + T_SEQLO) | 0]!;
        TRK[TRK_SLO] = sLo;
        TRK[TRK_SLO2] = sLo;
        TRK[TRK_SHI] = sHi;
        TRK[TRK_SHI2] = sHi;
        TRK[TRK_DLO] = dLo;
        if (seq === end) {
          // No data: the sequence check relaxed.
          seq = sLo;
          end = seq;
        }
        const ackskew = (dLo - ack) | 0;
        if (
          (((sHi - end) | 0) >= 0 && ((seq - ((sLo - ((dPk & 0xffff) << dws)) >>> 0)) | 0) >= 0 && ackskew >= -T_MAX_ACK && ackskew <= T_MAX_ACK << sws) ||
          this.seqCheck === false
        ) {
          let nsPk = sPk;
          if ((sPk & 0xffff) < win) nsPk = (sPk & 0xffff0000) | win;
          if (((end - sLo) | 0) > 0) {
            t[(ps + T_SEQLO) | 0] = end;
            TRK[TRK_SLO2] = end;
          }
          const ws = win << sws;
          const dHi = t[(pd + T_SEQHI) | 0]!;
          TRK[TRK_DHI] = dHi;
          TRK[TRK_DHI2] = dHi;
          if (((((ack + ws) >>> 0) - dHi) | 0) >= 0) {
            const v = (ack + (ws > 1 ? ws : 1)) >>> 0;
            t[(pd + T_SEQHI) | 0] = v;
            TRK[TRK_DHI2] = v;
          }
          let s = sPk >>> 24;
          let ds = dPk >>> 24;
          if ((flags & TCP_FIN) !== 0 && s < TS_CLOSING) s = TS_CLOSING;
          if (ds === TS_SYN_SENT) ds = TS_ESTABLISHED;
          else if (ds === TS_CLOSING) ds = TS_FIN_WAIT_2;
          const sPk2 = ((nsPk & 0x00ffffff) | (s << 24)) >>> 0;
          const dPk2 = ((dPk & 0x00ffffff) | (ds << 24)) >>> 0;
          t[(ps + T_PACKED) | 0] = sPk2;
          t[(pd + T_PACKED) | 0] = dPk2;
          TRK[TRK_SPK2] = sPk2;
          TRK[TRK_DPK2] = dPk2;
          let tm: number;
          if (s >= TS_FIN_WAIT_2 && ds >= TS_FIN_WAIT_2) tm = CtTimeout.TCP_CLOSED;
          else if (s >= TS_CLOSING && ds >= TS_CLOSING) tm = CtTimeout.TCP_FIN_WAIT;
          else if (s < TS_ESTABLISHED || ds < TS_ESTABLISHED) tm = CtTimeout.TCP_OPENING;
          else if (s >= TS_CLOSING || ds >= TS_CLOSING) tm = CtTimeout.TCP_CLOSING;
          else tm = CtTimeout.TCP_ESTABLISHED;
          TRK[TRK_TM] = tm;
          // The update kept for the packet's later zones (TRK): its words, each stored where it is at hand.
          SEG[SEG_TRK] = SEG[SEG_TOKEN]!;
          // The expiration here, before this path meets tcpUpdate's call (after which `this`'s map and each array's
          // fields are checked and loaded again).
          this.recF[(base + R_EXP) >> 1] = now + this.timeoutMs[tm]!;
          r = CtUpdate.VALID;
        }
      } else {
        // tcpUpdate's path for a SYN|ACK from a peer before SYN_SENT (OVS tcp_conn_update's `src->state <
        // CT_DPIF_TCPS_SYN_SENT` branch, then its window check and updates), its values made in locals and stored
        // only once the window holds: anything else is tcpUpdate's call, which starts over on the same words. What the
        // flags make constant is folded in: tcpInvalidFlags refuses SYN with FIN or RST, so the end is one past the
        // payload and the states move as ACK moves them; the scales are 0 but for the option read here.
        const dScale = (dPk >>> 16) & 0xff;
        let sw = sPk;
        let dw = dPk;
        let sws = 0;
        let dws = 0;
        // Kept for the packet's later zones (nextTcp4), as the usual path keeps them: the segment (the window as read),
        // the six words the update finds (TRK).
        SEG[SEG_HW] = hw;
        SEG[SEG_LEN] = len;
        SEG[SEG_SEQ] = seq;
        SEG[SEG_ACK] = ack;
        SEG[SEG_WIN] = win;
        const token = (SEG[SEG_TOKEN]! + 2) | 0;
        SEG[SEG_TOKEN] = token;
        this.segToken = token;
        const hi0 = t[(ps + T_SEQHI) | 0]!;
        const dLo = t[(pd + T_SEQLO) | 0]!;
        TRK[TRK_SPK] = sPk;
        TRK[TRK_DPK] = dPk;
        TRK[TRK_SLO] = t[(ps + T_SEQLO) | 0]!;
        TRK[TRK_SHI] = hi0;
        TRK[TRK_DLO] = dLo;
        if ((dScale & T_WS_FLAG) !== 0) {
          // The other side offered scaling: this SYN|ACK's option says whether both scale (tcpWscale's answer, a
          // byte: the shift, at most 14, with WSCALE_FLAG when present).
          const wsc = tcpWscale(frame, at);
          sw = ((sw & 0xff00ffff) | (wsc << 16)) >>> 0;
          if ((wsc & T_WS_FLAG) !== 0) {
            sws = wsc & 0xf;
            win = ((win + (1 << sws) - 1) >> sws) & 0xffff;
            dws = dScale & 0xf;
          } else dw = ((dw & 0xff000000) | (((dw & 0xffff) << (dScale & 0xf)) & 0xffff)) >>> 0;
        }
        const end = (seq + len + 1) >>> 0;
        const reachW = (dw & 0xffff) << dws;
        const reach = (end + (reachW > 1 ? reachW : 1)) >>> 0;
        // seqhi moves to the reach where it is tcpNewConn's 1 or below it — and then no ack skew check (picking up).
        const pick = hi0 === 1 || ((reach - hi0) | 0) >= 0;
        const sHi = pick ? reach : hi0;
        const ackskew = pick ? 0 : (dLo - ack) | 0;
        // The branch stores seqlo = seq, after which the window's lower edge holds (seq no lower than seqlo less the
        // receiver's largest window, at most 0xffff << 15 < 2^31) and the no-data case (seq === end: checked at seqlo)
        // changes no number: tested are the upper edge and the ack skew.
        if ((((sHi - end) | 0) >= 0 && ackskew >= -T_MAX_ACK && ackskew <= T_MAX_ACK << sws) || this.seqCheck === false) {
          const sLo2 = ((end - seq) | 0) > 0 ? end : seq;
          t[(ps + T_SEQLO) | 0] = sLo2;
          t[(ps + T_SEQHI) | 0] = sHi;
          TRK[TRK_SLO2] = sLo2;
          TRK[TRK_SHI2] = sHi;
          if ((sw & 0xffff) < win) sw = (sw & 0xffff0000) | win;
          const sPk2 = ((sw & 0x00ffffff) | (TS_SYN_SENT << 24)) >>> 0;
          t[(ps + T_PACKED) | 0] = sPk2;
          TRK[TRK_SPK2] = sPk2;
          const ws = win << sws;
          const dHi = t[(pd + T_SEQHI) | 0]!;
          TRK[TRK_DHI] = dHi;
          TRK[TRK_DHI2] = dHi;
          if (((((ack + ws) >>> 0) - dHi) | 0) >= 0) {
            const v = (ack + (ws > 1 ? ws : 1)) >>> 0;
            t[(pd + T_SEQHI) | 0] = v;
            TRK[TRK_DHI2] = v;
          }
          let ds = dw >>> 24;
          if (ds === TS_SYN_SENT) ds = TS_ESTABLISHED;
          else if (ds === TS_CLOSING) ds = TS_FIN_WAIT_2;
          const dPk2 = ((dw & 0x00ffffff) | (ds << 24)) >>> 0;
          t[(pd + T_PACKED) | 0] = dPk2;
          TRK[TRK_DPK2] = dPk2;
          // The sender at SYN_SENT, below ESTABLISHED and CLOSING: the opening timeout, whatever the receiver's state.
          TRK[TRK_TM] = CtTimeout.TCP_OPENING;
          SEG[SEG_TRK] = token;
          this.recF[(base + R_EXP) >> 1] = now + this.timeoutMs[CtTimeout.TCP_OPENING]!;
          r = CtUpdate.VALID;
        }
      }
    }
    if (r < 0) {
      r = tcpUpdate(t, e, reply, frame, at, len, this.seqCheck, flags);
      const tm = (r >> 4) - 1;
      if (tm >= 0) this.recF[(base + R_EXP) >> 1] = now + this.timeoutMs[tm]!;
    }
    let createNew: boolean;
    if ((r & 15) === CtUpdate.VALID) {
      res.state = reply ? (res.state | CtState.EST | CtState.RPL) & ~CtState.NEW : (res.state | CtState.EST) & ~CtState.NEW;
      createNew = false;
    } else {
      // The packet's key, which only what follows an update that is not VALID may read (verdict's lookupOwn, a
      // new connection's lookup and commit): a valid update reads none of it, and every other call writes it first.
      const ck = this.ck;
      ck[K_SRC] = src;
      ck[K_DST] = dst;
      ck[K_SL4] = sp;
      ck[K_DL4] = dp;
      ck[K_META] = meta;
      this.ckHashed = false;
      if ((r & 15) === CtUpdate.INVALID) this.counters[CtReason.TCP_WINDOW]!++;
      createNew = this.verdict(res, e, r & 15, now);
    }
    const nat = req.nat !== CtNat.NONE;
    // Set where NAT's rewrite below has stored the kept key noteNat would (the rewritten packet's).
    let kept = false;
    if (createNew) this.finishOne(frame, d, req, res, zone, nat, now, e, true, false);
    else {
      if (nat) {
        // handleNat, and natPacket's steps for an IPv4 TCP packet of a connection whose sums are made, here: the
        // packet is one (the checks above), not related, not committing. natPacket's call and its tests on the way
        // to natTcp4 were ≈ 165 instructions of a NATed hinted call (bench/README, session 32). natTcp4 writes
        // nothing when it declines; natPacket then repeats these writes (the same values) and takes the
        // field-by-field path. A copy of handleNat's test and natPacket's head: a change to either is a change here.
        // One function shared with handleNat was tried and cost more (TurboFan then stops inlining noteNat into this
        // path: bench/README "End of session 32").
        const nb = this.recB[((base + R_BYTES) * 4 + B_NAT) | 0]!;
        if (nb !== 0 && ((res.state & NAT_BITS) === 0 || zone !== res.zone)) {
          res.state &= ~NAT_BITS;
          // natReverse written out: TurboFan's inlining budget for this function is spent on noteKey, readMarkLabel and
          // noteNat, and natReverse as a call was ≈ 19 instructions a frame (bench/README, session 39).
          const act = reply === true ? ((nb & SRC) !== 0 ? (nb & ~SRC) | DST : (nb & DST) !== 0 ? (nb & ~DST) | SRC : nb) : nb;
          if ((act & (SRC | DST)) !== 0 && this.recB[((base + R_BYTES) * 4 + B_STATE) | 0] !== 0) {
            res.state |= act & SRC ? CtState.SNAT : CtState.DNAT;
            res.rewritten = true;
            // natReverse's node: the other direction's (e * 2 + 1 − rb).
            this.natNode = node ^ 1;
            // natTcp4 written out (its call, with five arguments, was ≈ 60 of its ≈ 290 instructions, 1.6 calls a frame
            // in http): the same checks, the same bytes; a change to either is a change to both. The frame's bytes
            // read and written one by one, as read16/write16/write32 and foldSum do: as inlined calls they count
            // against TurboFan's inlining budget for this function (see the tracker's path above).
            const to = (base + REV - Math.imul(rb, REV)) | 0;
            const sums = keys[(base + R_NATSUM) | 0]!;
            let ipSum = sums >>> 16;
            let l4Sum = sums & 0xffff;
            // A reply's sums negated, but for ±0 (natTcp4's rule: the field-by-field path then).
            let sumsOk = true;
            if (reply === true) {
              if (ipSum === 0 || ipSum === 0xffff || l4Sum === 0xffff) sumsOk = false;
              ipSum = 0xffff - ipSum;
              l4Sum = 0xffff - l4Sum;
            }
            if (
              sumsOk &&
              l4 >= 0 &&
              (d.l3End & OFFSET_MASK) - at >= 20 &&
              // natTcp4 compares the packet with the node's own key (`from`, the node's direction): that key is
              // (src, dst, sp, dp) here — the hint's checked key, the keyed hint's promise, the lookup's — so the same
              // compares without four reads of the record (≈ 10 instructions each with their bounds checks).
              d.srcPort === sp &&
              d.dstPort === dp &&
              d.ipSrc === src &&
              d.ipDst === dst
            ) {
              const l3 = d.l3Offset & OFFSET_MASK;
              // The target node's key, both addresses: one for the rewrite, both (reversed, with the ports below) the
              // kept key noteNat would make of it, stored here where they are loaded (natNode's key is `to`'s, its
              // slot's generation `gen`: checked or read by lookedTcp4 for this call, and nothing frees it on this path).
              const tSrc = keys[to + K_SRC]!;
              const tDst = keys[(to + K_DST) | 0]!;
              let ao: number;
              let a: number;
              if (act & SRC) {
                a = tDst;
                ao = (l3 + 12) | 0;
                d.ipSrc = a;
              } else {
                a = tSrc;
                ao = (l3 + 16) | 0;
                d.ipDst = a;
              }
              frame[ao] = a >>> 24;
              frame[(ao + 1) | 0] = a >>> 16;
              frame[(ao + 2) | 0] = a >>> 8;
              frame[(ao + 3) | 0] = a;
              const ns = keys[(to + K_DL4) | 0]!;
              const nd = keys[(to + K_SL4) | 0]!;
              this.xSrc = tDst | 0;
              this.xDst = tSrc | 0;
              this.xSl4 = ns;
              this.xDl4 = nd;
              this.xNode = node ^ 1;
              this.xNodeGen = gen;
              kept = true;
              if (ns !== d.srcPort) {
                frame[at] = ns >>> 8;
                frame[(at + 1) | 0] = ns;
                d.srcPort = ns;
              }
              if (nd !== d.dstPort) {
                frame[(at + 2) | 0] = nd >>> 8;
                frame[(at + 3) | 0] = nd;
                d.dstPort = nd;
              }
              // Each field's complement plus the adjustment is at most 0x1fffe: one fold reaches 16 bits (foldSum's two).
              let c = (~((frame[(l3 + 10) | 0]! << 8) | frame[(l3 + 11) | 0]!) & 0xffff) + ipSum;
              c = ~((c & 0xffff) + (c >>> 16)) & 0xffff;
              frame[(l3 + 10) | 0] = c >>> 8;
              frame[(l3 + 11) | 0] = c;
              c = (~((frame[(at + 16) | 0]! << 8) | frame[(at + 17) | 0]!) & 0xffff) + l4Sum;
              c = ~((c & 0xffff) + (c >>> 16)) & 0xffff;
              frame[(at + 16) | 0] = c >>> 8;
              frame[(at + 17) | 0] = c;
            } else this.natPacket(frame, d, e, reply, false, res);
          } else this.natPacket(frame, d, e, reply, false, res);
        }
      }
      // finishOne for the connection found, its writeMeta without the original tuple when the node found is the
      // hint's: the tuple is then that connection's original key, the one the call that gave the hint wrote, and
      // left to the caller (executeHinted's contract; tupleWritten false says so). A reply node answering as the
      // original is another node than the hint's: written whole.
      // HINT_LOOKED's node (≈ 0.8 calls a frame in http: a walk template's steps) on the result whose tuple words are
      // viewed: writeMeta's steps for it here — the record's original key is IPv4 TCP's, as the packet's key is (a
      // connection's two keys share family and protocol) — without its call and its tests of words, family and
      // protocol (≈ 250 instructions a call with the call). One call of readMarkLabel for both branches: each inlined
      // copy counts against this function's inlining budget.
      const own = node === n && trust !== HINT_LOOKED;
      if (own || res === this.metaRes) {
        res.tupleWritten = !own;
        res.state |= CtState.TRK;
        res.zone = zone;
        // readMarkLabel's result part (executeHinted, which every call of this function is under, cleared `words`), on
        // the record's offset at hand.
        res.mark = keys[(base + R_MARK) | 0]!;
        const out = res.label;
        if ((this.recB[(((base + R_BYTES) << 2) + B_FLAGS) | 0]! & F_LABEL) === 0) {
          out[0] = 0;
          out[1] = 0;
          out[2] = 0;
          out[3] = 0;
        } else {
          const l = (e * 4) | 0;
          const labels = this.labels;
          out[0] = labels[l]!;
          out[1] = labels[(l + 1) | 0]!;
          out[2] = labels[(l + 2) | 0]!;
          out[3] = labels[(l + 3) | 0]!;
        }
        if (!own) {
          const x = keys[(base + K_SRC) | 0]!;
          const y = keys[(base + K_DST) | 0]!;
          const s = this.metaSrc32!;
          const t = this.metaDst32!;
          res.hasOriginal = true;
          res.originalIpv6 = false;
          // hostOrder written out (as a call it would be inlined, against the budget).
          s[0] = LITTLE_ENDIAN ? ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)) >>> 0 : x;
          t[0] = LITTLE_ENDIAN ? ((y >>> 24) | ((y >>> 8) & 0xff00) | ((y & 0xff00) << 8) | (y << 24)) >>> 0 : y;
          s[1] = 0;
          s[2] = 0;
          s[3] = 0;
          t[1] = 0;
          t[2] = 0;
          t[3] = 0;
          res.originalProto = 6;
          res.originalSrcPort = keys[(base + K_SL4) | 0]! & 0xffff;
          res.originalDstPort = keys[(base + K_DL4) | 0]! & 0xffff;
        }
      } else this.writeMeta(res, zone, e, true);
      if (req.setMark) this.setMark(e, req, res);
      if (req.setLabel) this.setLabel(e, req, res);
      if (!nat) this.keepConn(frame, d, res, e);
    }
    // A caller that made a promise for this call (executeHinted's `next` or `fresh`) keeps making them: no fingerprint.
    if (kept === true && (known === true || fresh === true)) {
      // noteKey's steps for a rewritten packet without the fingerprint, noteNat's part stored by the rewrite above.
      this.xGen = this.callGen;
      this.xState = res.state;
      if (this.xRes !== res) this.xRes = res;
      this.xPacket = res.packet;
      if (this.xFrame !== frame) this.xFrame = frame;
      if (this.xDecoded !== d) this.xDecoded = d;
      this.xL3 = -1;
    } else this.noteKey(frame, d, res, true, same, known !== true && fresh !== true);
    return true;
  }

  /**
   * hintedTcp4 for a call under both of executeHinted's promises `next` and `keyed` (a replay's step after its first:
   * the packet the previous call left, the node found for its key in this zone before) on the segment's numbers a
   * taken hintedTcp4 kept for this packet (SEG, while its token is this engine's; hintedTcp4 otherwise), with what
   * those promises make constant folded in: the key from the kept one, no samePacket, no header read, no flags test or
   * checksums (the keeping call made them), no key compare, the node's own tuple left. `looked`: a call of lookedTcp4's
   * under `next` alone, `n` the node its lookup found just now (HINT_LOOKED: what `keyed` promises holds), the tuple
   * then written whole as hintedTcp4 writes it for that node. Its own function rather than
   * hintedTcp4's branches: fewer values live in each (TurboFan spills hintedTcp4's) and its own inlining budget. The
   * tracker's, NAT's and metadata's steps are hintedTcp4's: a change to one is a change to both
   * (tcp-established.property's later zones, engine-hints and conn-replay's properties hold both to execute).
   */
  private nextTcp4(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult, now: number, n: number, gen: number, looked: boolean): boolean {
    // No numbers kept for the packet (a plain call kept its key; another engine stored since): hintedTcp4 under the same
    // promises (`known`, so its `fresh` is moot), which reads the header. Tested here rather than in executeHinted,
    // whose callers inline it: there its bytes cost replayConn's inlining budget (paySynAckCredit left it, +23.9 a
    // frame in http).
    if (this.segToken !== SEG[SEG_TOKEN]) return this.hintedTcp4(frame, d, req, res, now, n, gen, true, false, looked === true ? HINT_LOOKED : HINT_KEYED);
    if (now < this.lastNow || now >= this.nextSweep || req.force) return false;
    // The slot first: it is −1 after any call that NATed (the usual one here), and the result compare is a check of
    // the field's object type as well (≈ 8 instructions).
    if (this.cacheSlot >= 0 && this.cacheResult === res) return false;
    const zone = req.zone & 0xffff;
    const state0 = res.state !== 0 && res.zone !== zone ? 0 : res.state;
    if (state0 & NAT_BITS) return false;
    const keys = this.keys;
    const base = ((n >> 1) * R) | 0;
    // `keyed`: the node's key, while its slot's generation is `gen`, is the packet's (a TCP key).
    if (base >= keys.length || keys[(base + R_GEN) | 0] !== gen) return false;
    // `next`: the kept key is the packet's; checksums verified by the call that kept it.
    if (this.xMeta !== 6 << 16) return false;
    if (now >= this.recF[(base + R_EXP) >> 1]!) return false;
    // The kept key's words and the header's offset are read where they are used (NAT's compares, the tracker's
    // general path, an invalid segment's key): loaded here they were live across the tracker, spilled and reloaded.
    const hw = SEG[SEG_HW]!;
    const flags = hw & 0xfff;
    const node = n;

    // Taken: hintedTcp4's steps from here (its comments say why each is written out).
    // `- 0`: hintedTcp4's (the compares' unboxed float, not `now` unboxed again for the store).
    this.lastNow = now - 0;
    res.rewritten = false;
    this.natNode = -1;
    this.cacheSlot = -1;
    this.ctxRelated = false;
    this.xOk = true;
    res.state = state0;
    const rb = node & 1;
    const reply = rb === 1;
    this.ctxReply = reply;
    this.hintOut = node;
    this.hintOutGen = gen;
    const e = node >> 1;
    const len = SEG[SEG_LEN]!;
    const t = this.tcp;
    let r = -1;
    const rec = Math.imul(e, T_STRIDE) & OFFSET_MASK;
    // The two peers' offsets by the direction bit's arithmetic rather than a branch on `reply` each.
    const ps = (rec + Math.imul(rb, T_PEER)) | 0;
    const pd = (rec + T_PEER - Math.imul(rb, T_PEER)) | 0;
    const sPk = t[(ps + T_PACKED) | 0]!;
    const dPk = t[(pd + T_PACKED) | 0]!;
    const sLo = t[(ps + T_SEQLO) | 0]!;
    const dHi = t[(pd + T_SEQHI) | 0]!;
    // The words the keeping call's update found (TRK, for this segment: its token is this engine's, checked above):
    // its update's result, without the window's tests and the state moves.
    if (
      SEG[SEG_TRK] === this.segToken &&
      (sPk | 0) === TRK[TRK_SPK] &&
      (dPk | 0) === TRK[TRK_DPK] &&
      (sLo | 0) === TRK[TRK_SLO] &&
      (dHi | 0) === TRK[TRK_DHI] &&
      (t[(ps + T_SEQHI) | 0]! | 0) === TRK[TRK_SHI] &&
      (t[(pd + T_SEQLO) | 0]! | 0) === TRK[TRK_DLO]
    ) {
      t[(ps + T_SEQLO) | 0] = TRK[TRK_SLO2]!;
      t[(ps + T_SEQHI) | 0] = TRK[TRK_SHI2]!;
      t[(pd + T_SEQHI) | 0] = TRK[TRK_DHI2]!;
      t[(ps + T_PACKED) | 0] = TRK[TRK_SPK2]!;
      t[(pd + T_PACKED) | 0] = TRK[TRK_DPK2]!;
      r = CtUpdate.VALID | ((TRK[TRK_TM]! + 1) << 4);
    } else if ((flags & (TCP_SYN | TCP_RST)) === 0 && sPk >>> 24 >= TS_SYN_SENT) {
      const sScale = (sPk >>> 16) & 0xff;
      const dScale = (dPk >>> 16) & 0xff;
      let sws = 0;
      let dws = 0;
      if ((sScale & T_WS_FLAG) !== 0 && (dScale & T_WS_FLAG) !== 0) {
        sws = sScale & 0xf;
        dws = dScale & 0xf;
      } else if ((sScale & T_WS_UNKNOWN) !== 0 && (dScale & T_WS_UNKNOWN) !== 0) {
        sws = T_MAX_WSCALE;
        dws = T_MAX_WSCALE;
      }
      const win = SEG[SEG_WIN]!;
      let seq = SEG[SEG_SEQ]! >>> 0;
      const ack = SEG[SEG_ACK]! >>> 0;
      let end = (seq + len + (flags & TCP_FIN)) >>> 0;
      const sHi = t[(ps + T_SEQHI) | 0]!;
      const dLo = t[(pd + T_SEQLO) | 0]!;
      if (seq === end) {
        seq = sLo;
        end = seq;
      }
      const ackskew = (dLo - ack) | 0;
      if (
        (((sHi - end) | 0) >= 0 && ((seq - ((sLo - ((dPk & 0xffff) << dws)) >>> 0)) | 0) >= 0 && ackskew >= -T_MAX_ACK && ackskew <= T_MAX_ACK << sws) ||
        this.seqCheck === false
      ) {
        let nsPk = sPk;
        if ((sPk & 0xffff) < win) nsPk = (sPk & 0xffff0000) | win;
        if (((end - sLo) | 0) > 0) t[(ps + T_SEQLO) | 0] = end;
        const ws = win << sws;
        if (((((ack + ws) >>> 0) - dHi) | 0) >= 0) t[(pd + T_SEQHI) | 0] = (ack + (ws > 1 ? ws : 1)) >>> 0;
        let s = sPk >>> 24;
        let ds = dPk >>> 24;
        if ((flags & TCP_FIN) !== 0 && s < TS_CLOSING) s = TS_CLOSING;
        if (ds === TS_SYN_SENT) ds = TS_ESTABLISHED;
        else if (ds === TS_CLOSING) ds = TS_FIN_WAIT_2;
        t[(ps + T_PACKED) | 0] = ((nsPk & 0x00ffffff) | (s << 24)) >>> 0;
        t[(pd + T_PACKED) | 0] = ((dPk & 0x00ffffff) | (ds << 24)) >>> 0;
        let tm: number;
        if (s >= TS_FIN_WAIT_2 && ds >= TS_FIN_WAIT_2) tm = CtTimeout.TCP_CLOSED;
        else if (s >= TS_CLOSING && ds >= TS_CLOSING) tm = CtTimeout.TCP_FIN_WAIT;
        else if (s < TS_ESTABLISHED || ds < TS_ESTABLISHED) tm = CtTimeout.TCP_OPENING;
        else if (s >= TS_CLOSING || ds >= TS_CLOSING) tm = CtTimeout.TCP_CLOSING;
        else tm = CtTimeout.TCP_ESTABLISHED;
        r = CtUpdate.VALID | ((tm + 1) << 4);
      }
    }
    if (r < 0) r = tcpUpdate(t, e, reply, frame, d.l4Offset & OFFSET_MASK, len, this.seqCheck, flags);
    const tm = (r >> 4) - 1;
    if (tm >= 0) this.recF[(base + R_EXP) >> 1] = now + this.timeoutMs[tm]!;
    let createNew: boolean;
    if ((r & 15) === CtUpdate.VALID) {
      // RPL by the direction bit's product rather than a branch.
      res.state = (res.state | CtState.EST | Math.imul(rb, CtState.RPL)) & ~CtState.NEW;
      createNew = false;
    } else {
      const ck = this.ck;
      ck[K_SRC] = this.xSrc >>> 0;
      ck[K_DST] = this.xDst >>> 0;
      ck[K_SL4] = this.xSl4;
      ck[K_DL4] = this.xDl4;
      ck[K_META] = zone | (6 << 16);
      this.ckHashed = false;
      if ((r & 15) === CtUpdate.INVALID) this.counters[CtReason.TCP_WINDOW]!++;
      createNew = this.verdict(res, e, r & 15, now);
    }
    const nat = req.nat !== CtNat.NONE;
    if (createNew) this.finishOne(frame, d, req, res, zone, nat, now, e, true, false);
    else {
      if (nat) {
        const nb = this.recB[((base + R_BYTES) * 4 + B_NAT) | 0]!;
        if (nb !== 0 && ((res.state & NAT_BITS) === 0 || zone !== res.zone)) {
          res.state &= ~NAT_BITS;
          const act = reply === true ? ((nb & SRC) !== 0 ? (nb & ~SRC) | DST : (nb & DST) !== 0 ? (nb & ~DST) | SRC : nb) : nb;
          if ((act & (SRC | DST)) !== 0 && this.recB[((base + R_BYTES) * 4 + B_STATE) | 0] !== 0) {
            res.state |= act & SRC ? CtState.SNAT : CtState.DNAT;
            res.rewritten = true;
            this.natNode = (e * 2 + (reply === true ? 0 : 1)) | 0;
            const to = (base + (reply === true ? 0 : REV)) | 0;
            const sums = keys[(base + R_NATSUM) | 0]!;
            let ipSum = sums >>> 16;
            let l4Sum = sums & 0xffff;
            let sumsOk = true;
            if (reply === true) {
              if (ipSum === 0 || ipSum === 0xffff || l4Sum === 0xffff) sumsOk = false;
              ipSum = 0xffff - ipSum;
              l4Sum = 0xffff - l4Sum;
            }
            const l4 = d.l4Offset;
            const at = l4 & OFFSET_MASK;
            if (
              sumsOk &&
              l4 >= 0 &&
              (d.l3End & OFFSET_MASK) - at >= 20 &&
              d.srcPort === this.xSl4 &&
              d.dstPort === this.xDl4 &&
              d.ipSrc === this.xSrc >>> 0 &&
              d.ipDst === this.xDst >>> 0
            ) {
              const l3 = d.l3Offset & OFFSET_MASK;
              let ao: number;
              let a: number;
              if (act & SRC) {
                a = keys[(to + K_DST) | 0]!;
                ao = (l3 + 12) | 0;
                d.ipSrc = a;
              } else {
                a = keys[to + K_SRC]!;
                ao = (l3 + 16) | 0;
                d.ipDst = a;
              }
              frame[ao] = a >>> 24;
              frame[(ao + 1) | 0] = a >>> 16;
              frame[(ao + 2) | 0] = a >>> 8;
              frame[(ao + 3) | 0] = a;
              const ns = keys[(to + K_DL4) | 0]!;
              const nd = keys[(to + K_SL4) | 0]!;
              if (ns !== d.srcPort) {
                frame[at] = ns >>> 8;
                frame[(at + 1) | 0] = ns;
                d.srcPort = ns;
              }
              if (nd !== d.dstPort) {
                frame[(at + 2) | 0] = nd >>> 8;
                frame[(at + 3) | 0] = nd;
                d.dstPort = nd;
              }
              let c = (~((frame[(l3 + 10) | 0]! << 8) | frame[(l3 + 11) | 0]!) & 0xffff) + ipSum;
              c = ~((c & 0xffff) + (c >>> 16)) & 0xffff;
              frame[(l3 + 10) | 0] = c >>> 8;
              frame[(l3 + 11) | 0] = c;
              c = (~((frame[(at + 16) | 0]! << 8) | frame[(at + 17) | 0]!) & 0xffff) + l4Sum;
              c = ~((c & 0xffff) + (c >>> 16)) & 0xffff;
              frame[(at + 16) | 0] = c >>> 8;
              frame[(at + 17) | 0] = c;
            } else this.natPacket(frame, d, e, reply, false, res);
          } else this.natPacket(frame, d, e, reply, false, res);
        }
      }
      // `looked`: another node than the caller's hint, its tuple written whole (hintedTcp4's HINT_LOOKED steps: on the
      // viewed result here, else writeMeta's call).
      if (looked === true && res !== this.metaRes) this.writeMeta(res, zone, e, true);
      else {
        // The hint's own node: its tuple left to the caller (executeHinted's contract).
        res.tupleWritten = looked;
        res.state |= CtState.TRK;
        res.zone = zone;
        // readMarkLabel's result part: executeHinted, this function's only caller, cleared `words`.
        const o = Math.imul(e, R);
        res.mark = keys[(o + R_MARK) | 0]!;
        const out = res.label;
        if ((this.recB[(((o + R_BYTES) << 2) + B_FLAGS) | 0]! & F_LABEL) === 0) {
          out[0] = 0;
          out[1] = 0;
          out[2] = 0;
          out[3] = 0;
        } else {
          const l = (e * 4) | 0;
          const labels = this.labels;
          out[0] = labels[l]!;
          out[1] = labels[(l + 1) | 0]!;
          out[2] = labels[(l + 2) | 0]!;
          out[3] = labels[(l + 3) | 0]!;
        }
        if (looked === true) {
          // hintedTcp4's copy: the record's original key is IPv4 TCP's (the packet's key is), hostOrder written out.
          const x = keys[(o + K_SRC) | 0]!;
          const y = keys[(o + K_DST) | 0]!;
          const ms = this.metaSrc32!;
          const md = this.metaDst32!;
          res.hasOriginal = true;
          res.originalIpv6 = false;
          ms[0] = LITTLE_ENDIAN ? ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)) >>> 0 : x;
          md[0] = LITTLE_ENDIAN ? ((y >>> 24) | ((y >>> 8) & 0xff00) | ((y & 0xff00) << 8) | (y << 24)) >>> 0 : y;
          ms[1] = 0;
          ms[2] = 0;
          ms[3] = 0;
          md[1] = 0;
          md[2] = 0;
          md[3] = 0;
          res.originalProto = 6;
          res.originalSrcPort = keys[(o + K_SL4) | 0]! & 0xffff;
          res.originalDstPort = keys[(o + K_DL4) | 0]! & 0xffff;
        }
      }
      if (req.setMark) this.setMark(e, req, res);
      if (req.setLabel) this.setLabel(e, req, res);
      if (!nat) this.keepConn(frame, d, res, e);
    }
    // noteKey(frame, d, res, true, true, false) without its frame and decode compares: executeHinted called this on
    // the kept key's own frame and decode (`known`), which nothing here replaces.
    this.xGen = this.callGen;
    if (res.rewritten === true) {
      if (this.noteNat() === false) {
        this.xState = -1;
        return true;
      }
      this.xL3 = -1;
    }
    this.xState = res.state;
    if (this.xRes !== res) this.xRes = res;
    this.xPacket = res.packet;
    return true;
  }

  /**
   * One `ct()` action on one packet (`conntrack_execute` for a batch of one). `result` carries the packet's
   * conntrack metadata between calls, as `pkt->md` does in OVS: its state and zone on entry are the previous
   * `ct()`'s, so reset it (`CtResult.reset`) when a new packet starts. `now` is simulated milliseconds.
   */
  execute(frame: Uint8Array, _length: number, d: DecodedFrame, req: CtRequest, res: CtResult, now: number): void {
    this.words = false;
    this.callGen = 0;
    this.run(frame, d, req, res, now, false);
  }

  /**
   * {@link execute} with the packet's ct fields in the executor's flow words `w` (WordsConntrackEngine.executeWords):
   * ct_state, ct_mark, ct_label and the original tuple read from and written to their W.CT_* words where execute
   * would read and write the result's fields — the state through `res.state` for the call, the rest in place — so
   * neither the caller's copies between words and result nor the result's byte arrays are on the path. `gen`: the
   * caller's frame generation (WordsConntrackEngine.executeWords; 0, none): the same as this engine's previous call
   * was given, the packet's key is that call's kept one, taken without samePacket's compares. `fresh`: the caller's
   * first call on a new packet (WordsConntrackEngine.executeWords), whose key is extracted without samePacket's compare.
   * `hidden`: the caller clears the ct words after the call (WordsConntrackEngine.executeWords): the state is written,
   * the mark, label and tuple are not.
   */
  executeWords(frame: Uint8Array, _length: number, d: DecodedFrame, req: CtRequest, res: CtResult, w: Uint32Array, now: number, gen = 0, fresh = false, hidden = false): void {
    this.callGen = gen;
    // Stored as a boolean (a JavaScript caller's other value by its truth, as a test of it read): its tests below
    // compare with true, one compare where V8's ToBoolean of an untyped field is a chain (≈ 11 instructions on true).
    this.hideOut = hidden === true || (hidden !== false && !!hidden);
    // One store of the reference per words array the caller switches to (its pool's and forks' arrays): not one per call.
    if (this.ow !== w) this.ow = w;
    this.words = true;
    res.state = w[WS]!;
    res.tupleWritten = false;
    // What the result says of the tuple a call leaves unwritten (process_one_fast's): the executor's loadOriginal.
    res.hasOriginal = w[W_PROTO] !== 0;
    res.originalIpv6 = w[W_ETH_TYPE] === 0x86dd;
    this.run(frame, d, req, res, now, fresh);
    w[WS] = res.state;
    this.words = false;
    this.hideOut = false;
  }

  /** execute's body, on the result's fields or (`words`) the caller's words. */
  private run(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult, now: number, fresh: boolean): void {
    // Any call here may be another packet's, or leave the key kept without the segment's numbers.
    this.segToken = 0;
    if (now < this.lastNow) {
      this.epochNow = ++epochs;
      this.hintIn = -1;
    }
    this.lastNow = now;
    this.hintOut = -1;
    if (now >= this.nextSweep) {
      this.sweep(now);
      this.nextSweep = now + this.sweepInterval;
    }
    res.rewritten = false;
    const zone = req.zone & 0xffff;
    const nat = req.nat !== CtNat.NONE;
    // The caller's promise (executeWords' `gen`) stands for samePacket's compares: the previous call, given the same
    // generation, kept the key (xState set) and nothing but this engine wrote the frame or the decode since. A new
    // packet (`fresh`) is extracted: samePacket's answer for it is no (its number moved, its ct_state is 0).
    const same = fresh === false && ((this.callGen !== 0 && this.callGen === this.xGen && this.xState !== -1) || this.samePacket(frame, d, res));
    this.natNode = -1;

    // process_one_fast: the packet's previous ct() in this zone found a connection and nothing rewrote it since.
    // conntrack_execute's test (lib/conntrack.c branch-3.1): a connection remembered (set_cached_conn: by a call
    // without NAT), in this zone, no force, no ALG control packet. Stricter than OVS's pointer: the slot's
    // generation (a flush freed it), its expiry (a caller's later `now` for the same packet: OVS runs a packet's
    // recirculations at one time) and the ct_state this engine left (a caller's reset between packets).
    if (
      this.cacheResult === res &&
      this.cacheSlot >= 0 &&
      res.state === this.cacheState &&
      res.zone === zone &&
      !req.force &&
      this.keys[this.cacheSlot * R + R_GEN] === this.cacheGen &&
      now < this.recF[(this.cacheSlot * R + R_EXP) >> 1]! &&
      (this.keys[this.cacheSlot * R + K_META]! & 0xffff) === zone &&
      !algControl(d) &&
      this.sameTuple(frame, d)
    ) {
      const e = this.cacheSlot;
      if (nat) {
        this.handleNat(frame, d, e, zone, this.cacheReply, this.cacheRelated, res);
        this.cacheSlot = -1;
      }
      res.zone = zone;
      this.readMarkLabel(e, res);
      if (req.setMark) this.setMark(e, req, res);
      if (req.setLabel) this.setLabel(e, req, res);
      this.cacheState = res.state;
      this.noteKey(frame, d, res, same, same);
      return;
    }
    this.cacheSlot = -1;

    if (same) {
      this.reuseKey(zone);
    } else {
      const bad = this.extractKey(frame, d, zone, this.validate === true && res.checksumsGood !== true);
      if (bad >= 0) {
        this.counters[bad]!++;
        res.state = CtState.INV;
        if (this.words) this.writeMetaWords(res, zone, -1, false);
        else this.writeMeta(res, zone, -1, false);
        this.xState = -1;
        return;
      }
      this.keepKey();
    }
    this.processOne(frame, d, req, res, zone, nat, now);
    // A caller that numbers its frames (executeWords' `gen`) has its next call on this packet take the kept key by that
    // promise; only a call after it wrote the frame (a new generation) would ask samePacket, which without the
    // fingerprint answers no and the key is extracted again, as OVS extracts it at every ct(). Neither workload's
    // pipeline writes the frame between two ct() of a packet, so the fingerprint (offsets, two checksum fields read
    // from the frame: ≈ 70 instructions a call) went unread.
    this.noteKey(frame, d, res, this.xOk, same, this.callGen === 0);
  }

  /*
   * The key of the packet's previous ct() kept for its next one (OVS extracts the key, checksums included, on
   * every ct(): lib/conntrack.c branch-3.1 conntrack_execute → conn_key_extract). OVN runs several ct() per
   * packet — ct_lb_mark twice, ct_commit, then the egress pipeline's zone — and in between nothing changes the
   * packet but checksum-preserving address/port writes (ours, NAT; the executor's, which rewrite `d` too).
   * The kept key is reused when the packet looks the same: same frame and decode objects, the ct_state this
   * engine left (a fresh packet enters with 0 — the test process_one_fast relies on too) or the same numbered
   * packet in the same result (CtResult.packet: its state cleared by the caller between zones), same offsets,
   * addresses, ports and both checksum fields. Checksums that verified then verify now: every write since
   * adjusted them (RFC 1624) and a valid sum stays valid. Only IPv4 TCP/UDP packets that are not ICMP errors
   * are kept; the rest are extracted each time.
   */

  /** Whether the kept key describes this packet as it is now. */
  private samePacket(frame: Uint8Array, d: DecodedFrame, res: CtResult): boolean {
    if (frame !== this.xFrame || d !== this.xDecoded) return false;
    // A numbered packet is known after its caller cleared its ct_state (the executor's hideCt between a chassis'
    // zones): same result, same number.
    if (res.state !== this.xState && (this.xState === -1 || res.packet === 0 || res.packet !== this.xPacket || res !== this.xRes)) return false;
    const l3 = d.l3Offset;
    const l4 = d.l4Offset;
    return (
      d.status === DecodeStatus.OK &&
      d.l3 === L3.IPV4 &&
      !d.ipFragment &&
      l3 === this.xL3 &&
      l4 === this.xL4 &&
      d.l3End === this.xEnd &&
      d.ipProto === this.xMeta >>> 16 &&
      d.ipSrc === this.xSrc >>> 0 &&
      d.ipDst === this.xDst >>> 0 &&
      d.srcPort === this.xSl4 &&
      d.dstPort === this.xDl4 &&
      read16(frame, l3 + 10) === this.xIpSum &&
      read16(frame, l4 + (d.ipProto === 6 ? 16 : 6)) === this.xL4Sum
    );
  }

  /** The kept key into `ck`, in this call's zone (an IPv4 key: its first KW words, see CT_KEY_WORDS). */
  private reuseKey(zone: number): void {
    const ck = CK;
    ck[K_SRC] = this.xSrc;
    ck[K_DST] = this.xDst;
    ck[K_SL4] = this.xSl4;
    ck[K_DL4] = this.xDl4;
    ck[K_META] = this.xMeta | zone;
    this.ckHashed = false;
    this.ctxRelated = false;
    this.ctxReply = false;
    this.xOk = true;
  }

  /** After an extraction: keep the key if the packet is of a kind kept. */
  private keepKey(): void {
    this.xNode = -1;
    const ck = CK;
    const proto = (ck[K_META]! >>> 16) & 0xff;
    this.xOk = !this.ctxRelated && (ck[K_META]! & V6_BIT) === 0 && (proto === 6 || proto === 17);
    if (this.xOk === false) return;
    // IPv4 only: the first KW words are the key.
    this.xSrc = ck[K_SRC]! | 0;
    this.xDst = ck[K_DST]! | 0;
    this.xSl4 = ck[K_SL4]!;
    this.xDl4 = ck[K_DL4]!;
    this.xMeta = ck[K_META]! & ~0xffff;
  }

  /**
   * At the end of a ct(): fingerprint the packet as it leaves (NAT rewrote it: the kept key becomes the
   * translated tuple, the connection's other key reversed — what natPacket wrote). `print` false: the key kept without
   * the fingerprint, which samePacket then never matches.
   */
  private noteKey(frame: Uint8Array, d: DecodedFrame, res: CtResult, ok: boolean, same: boolean, print = true): void {
    this.xGen = this.callGen;
    if (ok === false) {
      this.xState = -1;
      return;
    }
    if (res.rewritten === true) {
      // noteNat's steps written out. As its call, TurboFan inlines it only while the call is frequent among noteKey's
      // calls, and hintedTcp4's rewriting calls (most of them) keep their key without noteKey: run then called it
      // out of line (+20.2 a frame in http, session 47).
      const kn = this.natNode;
      if (kn < 0) {
        this.xState = -1;
        return;
      }
      const keys = this.keys;
      const kb = Math.imul(kn >> 1, R);
      const ko = (kb + (kn & 1) * REV) | 0;
      this.xSrc = keys[(ko + K_DST) | 0]! | 0;
      this.xDst = keys[(ko + K_SRC) | 0]! | 0;
      this.xSl4 = keys[(ko + K_DL4) | 0]!;
      this.xDl4 = keys[(ko + K_SL4) | 0]!;
      this.xNode = kn;
      this.xNodeGen = keys[(kb + R_GEN) | 0]!;
    }
    if (same && res.rewritten === false) {
      // samePacket found the packet as the fingerprint holds it (frame, decode, offsets, tuple, both checksum fields)
      // and nothing wrote it since: only the ct_state, result and packet number move.
      this.xState = res.state;
      if (this.xRes !== res) this.xRes = res;
      this.xPacket = res.packet;
      return;
    }
    this.xState = res.state;
    // The same objects call after call: a store of an object reference runs V8's write barrier, whose slow path
    // (a young object stored into this old one — the caller's buffers stay young while nothing allocates) was a
    // builtin call per store, three per ct().
    if (this.xRes !== res) this.xRes = res;
    this.xPacket = res.packet;
    if (this.xFrame !== frame) this.xFrame = frame;
    if (this.xDecoded !== d) this.xDecoded = d;
    // Without `print`, no fingerprint (offsets and checksum fields, two of them frame reads): samePacket then answers
    // no — the key is extracted again, as OVS extracts it at every ct(). For callers that promise instead (the
    // executor's replays: executeHinted's `next` and `fresh`), whose calls never ask samePacket.
    if (print === false) {
      this.xL3 = -1;
      return;
    }
    this.xL3 = d.l3Offset;
    this.xL4 = d.l4Offset;
    this.xEnd = d.l3End;
    this.xIpSum = read16(frame, d.l3Offset + 10);
    this.xL4Sum = read16(frame, d.l4Offset + (d.ipProto === 6 ? 16 : 6));
  }

  /**
   * noteKey's part for a packet NAT rewrote: the kept key becomes natPacket's node's key reversed. False when there is
   * none (an ICMP error's): nothing is kept. Apart from noteKey, which execute inlines, as the rarer case.
   */
  private noteNat(): boolean {
    const kn = this.natNode;
    if (kn < 0) return false;
    const keys = this.keys;
    // Math.imul and `| 0`: int32 arithmetic without overflow checks (a node's index is below 2^29).
    const kb = Math.imul(kn >> 1, R);
    const ko = (kb + (kn & 1) * REV) | 0;
    this.xSrc = keys[(ko + K_DST) | 0]! | 0;
    this.xDst = keys[(ko + K_SRC) | 0]! | 0;
    this.xSl4 = keys[(ko + K_DL4) | 0]!;
    this.xDl4 = keys[(ko + K_SL4) | 0]!;
    this.xNode = kn;
    this.xNodeGen = keys[(kb + R_GEN) | 0]!;
    return true;
  }

  /**
   * processOne's answer for a hidden call without NAT on a kept key (run's reuseKey) when it is the path
   * nattedLookup → freshFound → connUpdate → tcpUpdate's SYN branch → verdict → finishOne's hidden part, written
   * out: the packet was NATed by this zone's previous call, which committed its connection (the fresh node: nothing
   * inserted since), the connection is live and not a hairpin, and the segment is a SYN without ACK, RST, FIN, PSH or
   * URG that the tracker answers VALID_NEW with the first packet's timeout (tcpUpdate's first branch: a SYN of an
   * opening connection). OVS runs the tracker on that SYN twice (conn_update at ct_commit, tcp_conn_update); so does
   * this, by its SYN branch's own arithmetic. Each write is one of that path's, in its order where it matters; false,
   * nothing written, for anything else (then processOne runs). engine-fresh.property.test.ts compares the two.
   */
  private freshCommit(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult, zone: number, now: number): boolean {
    // A kept key (reuseKey's: an extracted one has no node, xNode −1 below), not an ICMP error's.
    if (this.xOk !== true || this.ctxRelated === true) return false;
    // processOne: the zone's ct_state kept and NATed (else a clean state, or initialLookup's plain lookup).
    if (res.zone !== zone || (res.state & NAT_BITS) === 0) return false;
    // nattedLookup's fresh answer: the kept key's node, of the same generation and zone, the node committed last.
    const xn = this.xNode;
    if (xn < 0 || xn !== this.freshNode || this.version !== this.freshVersion || this.epochNow !== this.freshEpoch) return false;
    const keys = this.keys;
    const base = Math.imul(xn >> 1, R);
    const ck = CK;
    if (keys[(base + R_GEN) | 0] !== this.xNodeGen || keys[(base + K_META) | 0] !== ck[K_META]) return false;
    // freshFound: live; the reversed key's source (the kept key's destination) not the original's (a hairpin's
    // original may be that key: freshFound's own test then).
    if (now >= this.recF[(base + R_EXP) >> 1]! || keys[(base + K_SRC) | 0] === ck[K_DST]) return false;
    // The reply node's other direction: the original (connUpdate with reply false).
    if ((xn & 1) !== 1 || this.recB[(((base + R_BYTES) << 2) + B_L4) | 0] !== CtL4.TCP) return false;
    // connUpdate's flags (tcpInvalidFlags passes a SYN without ACK, FIN, RST, PSH, URG), tcpUpdate's SYN branch.
    if ((read16(frame, (d.l4Offset + 12) & OFFSET_MASK) & 0x3f) !== TCP_SYN) return false;
    const t = this.tcp;
    const src = Math.imul(xn >> 1, T_STRIDE) & OFFSET_MASK;
    const sp = t[(src + T_PACKED) | 0]!;
    const dp = t[(src + T_PEER + T_PACKED) | 0]!;
    if ((dp >>> 24 >= TS_FIN_WAIT_2 && sp >>> 24 >= TS_FIN_WAIT_2) || sp >>> 24 > TS_SYN_SENT) return false;
    // The arrays' writes before the engine's field stores: after one of those TurboFan loads an array's field, length
    // and base again.
    // nattedLookup: the key becomes the original's, with its hash; freshFound's hint.
    ck[K_SRC] = keys[base]!;
    ck[K_DST] = keys[(base + K_DST) | 0]!;
    ck[K_SL4] = keys[(base + K_SL4) | 0]!;
    ck[K_DL4] = keys[(base + K_DL4) | 0]!;
    ck[K_META] = keys[(base + K_META) | 0]!;
    const hash = this.links[(xn - 1) << 1]!;
    // tcpUpdate's SYN branch, connUpdate's timeout.
    t[(src + T_PACKED) | 0] = ((sp & 0x00ffffff) | (TS_SYN_SENT << 24)) >>> 0;
    this.recF[(base + R_EXP) >> 1] = now + this.timeoutMs[CtTimeout.TCP_FIRST_PACKET]!;
    this.ckHash = hash;
    this.ckHashed = true;
    this.ctxReply = false;
    this.hintIn = -1;
    this.hintOut = xn;
    this.hintOutGen = this.xNodeGen;
    // verdict's VALID_NEW and finishOne's hidden part.
    res.state |= CtState.NEW | CtState.TRK;
    res.tupleWritten = true;
    res.zone = zone;
    const e = xn >> 1;
    if (truthy(req.setMark)) this.setMarkWords(e, req);
    if (truthy(req.setLabel)) this.setLabelWords(e, req);
    return true;
  }

  /** process_one (lib/conntrack.c): lookup, state update, commit, NAT, metadata. */
  private processOne(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult, zone: number, nat: boolean, now: number): void {
    // A chassis' hidden ct_commit on the connection this packet's previous call committed with NAT (OVN's ct_commit
    // after ct_lb's commit, zone 1 on a SYN): freshCommit's answer, or, declined with nothing written, the path below.
    // Tested here, not in run: a call there made TurboFan inline this function into run and leave finishOne, reuseKey
    // and keepKey calls (the order it compiles them in).
    // Its first test here too: a hidden call of a packet not NATed in the zone (zone 4's ct_commit on a SYN) makes no call.
    if (nat === false && this.hideOut === true && (res.state & NAT_BITS) !== 0 && this.freshCommit(frame, d, req, res, zone, now) === true) return;
    // A new zone starts from a clean ct_state.
    if (res.state !== 0 && res.zone !== zone) res.state = 0;

    const natted = !!(res.state & NAT_BITS);
    let e = this.initialLookup(natted, now);
    // The packet's own key `ck` was looked up and missed (a NATed packet's lookup is of its reverse).
    const missed = e < 0 && !natted;

    // force: a connection seen in the other direction is expired and this packet starts a new one.
    if (req.force && this.ctxReply && e >= 0) {
      if (this.lookupOwn(e, now) >= 0) this.forceExpire(e);
      e = -1;
    }

    // `nat` compared with true and false (run's boolean): run's call of this function is not inlined, so TurboFan does
    // not know the argument a boolean and its plain test is V8's ToBoolean chain.
    let createNew = false;
    if (e >= 0) {
      createNew = this.updateState(frame, d, res, e, now);
      if (nat === true && createNew === false) this.handleNat(frame, d, e, zone, this.ctxReply, this.ctxRelated, res);
    } else if (nat === false && (res.state & NAT_BITS) !== 0 && (e = this.checkOrigTuple(res, now)) >= 0) {
      createNew = this.updateState(frame, d, res, e, now);
    } else if (this.ctxRelated) {
      // No connection is ever created from an ICMP error.
      this.counters[CtReason.RELATED_NOT_FOUND]!++;
      res.state = CtState.INV;
    } else if (missed === true && req.commit === false && (CK[K_META]! & 0xff0000) === 6 << 16 && VALID_NEW_TCP[((frame[(d.l4Offset + 12) | 0]! & 0xf) << 8) | frame[(d.l4Offset + 13) | 0]!] === 1) {
      // conn_not_found without commit on a TCP packet its valid_new passes: +new and nothing else (connNotFound's path
      // to its commit test, which then returns −1 — what finishOne's e stays here). Two such calls a SYN (zone 1's
      // first ct_lb_mark, zone 4's), each a call of connNotFound whose entry and tests cost ≈ 140 instructions for one
      // store. Written here and not in finishOne (session 42's try): finishOne is inlined into this function, so its
      // code counts against TurboFan's inlining budget and that try moved handleNat and tcpInvalidFlags out of line;
      // this function's own code does not count, and the test calls nothing (the flags by bytes, valid_new by table).
      // `commit` strictly false: any other value (a JavaScript caller's falsy one) goes connNotFound's way.
      res.state = CtState.NEW;
    } else {
      createNew = true;
    }

    this.finishOne(frame, d, req, res, zone, nat, now, e, createNew, missed);
  }

  /**
   * process_one after the state update: a new connection (commit), the metadata, mark and label, the fast-path cache.
   * `missed`: this call's first lookup was of `ck` and missed.
   */
  private finishOne(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult, zone: number, nat: boolean, now: number, e: number, createNew: boolean, missed: boolean): void {
    if (createNew === true) {
      // OVS looks the key up once more under ct_lock (another thread may have committed it meanwhile); here
      // nothing runs in between: when this call's first lookup of this very key missed, nothing was inserted since
      // and the answer is that miss (what lookupCk's memo would answer, without its compare); otherwise (a
      // connection found and to be replaced, a NATed packet looked up by its reverse) lookupCk answers.
      e = -1;
      if (missed || this.lookupCk(now) < 0) e = this.connNotFound(frame, d, req, res, now);
    }

    // The words entry's own functions called here, not through writeMeta's, setMark's and setLabel's tests of
    // `words`: each of those a call of its own that TurboFan did not inline (≈ 50 instructions a call).
    // A connection committed by this call (zone 1's ct_lb_mark commit on a SYN) has the packet's key `ck` as its
    // original tuple, mark 0 and no label (connNotFound wrote them; nothing since wrote the record's or `ck`): its
    // words are the packet's own, written from the constant key without the record's reads (e −1 with the key).
    if (this.words === true) {
      // A hidden call's part of writeMetaWords (its words are cleared by the caller: the three result fields, as its
      // early return leaves them) written here: ≈ 1.9 such calls a SYN (a chassis' ct_commit), each a call of
      // writeMetaWords (not inlined) for three stores; keepConn, which returns at once for them, is not called either.
      if (this.hideOut === true) {
        res.tupleWritten = true;
        res.state |= CtState.TRK;
        res.zone = zone;
      } else this.writeMetaWords(res, zone, createNew === true ? -1 : e, true);
      if (e >= 0) {
        if (truthy(req.setMark)) this.setMarkWords(e, req);
        if (truthy(req.setLabel)) this.setLabelWords(e, req);
      }
    } else {
      this.writeMeta(res, zone, e, true);
      if (e >= 0) {
        if (req.setMark) this.setMark(e, req, res);
        if (req.setLabel) this.setLabel(e, req, res);
      }
    }
    if (nat === false && e >= 0 && this.hideOut !== true) this.keepConn(frame, d, res, e);
  }

  /** process_one's `pkt->md.conn`: connection `e` found without NAT, for the packet's next ct() (process_one_fast). */
  private keepConn(frame: Uint8Array, d: DecodedFrame, res: CtResult, e: number): void {
    // A hidden call's ct_state is cleared by its caller, so the packet's next call never matches the kept state
    // (run's process_one_fast test): nothing to keep. finishOne tests it before the call too (session 43: with its
    // hidden writeMetaWords part there, verdict stays inlined; session 31 saw it leave updateState, +150 a SYN); this
    // test keeps the function right for any other caller.
    if (this.hideOut === true) return;
    if (this.cacheResult !== res) this.cacheResult = res;
    this.cacheSlot = e;
    this.cacheGen = this.keys[e * R + R_GEN]!;
    this.cacheReply = this.ctxReply;
    this.cacheRelated = this.ctxRelated;
    this.cacheState = res.state;
    const t = this.cacheTuple;
    const l3 = d.l3Offset;
    // IPv4's addresses as the decoded frame holds them (extractKey's key takes them so): two field loads.
    if (d.l3 === L3.IPV6) for (let i = 0; i < 8; i++) t[i] = read32(frame, l3 + 8 + 4 * i);
    else {
      t[0] = d.ipSrc;
      t[1] = d.ipDst;
    }
    t[8] = l4Word(frame, d);
  }

  /**
   * Whether the packet's addresses and ports (ICMP: type and code) are what they were when its connection was kept.
   * OVS forgets the connection a packet remembers (`pkt->md.conn = NULL`, pkt_metadata_init_conn) whenever an
   * action changes one of them: lib/packets.c (branch-3.1) packet_set_ipv4_addr, packet_set_ipv6_addr,
   * packet_set_tcp_port, packet_set_udp_port, packet_set_sctp_port and packet_set_icmp each call it — reached from
   * lib/odp-execute.c odp_set_ipv4 / odp_set_ipv6 (for an address that differs), odp_set_tcp / odp_set_udp /
   * odp_set_sctp, the datapath's actions for OpenFlow's mod_nw_*, mod_tp_*, set_field and move, which xlate emits
   * only for a field that changed. So the packet's next ct() in the zone looks the rewritten packet up
   * (process_one) instead of answering from the connection (process_one_fast). An Ethernet address, TTL or TOS
   * set leaves it (odp_eth_set_addrs, odp_set_ipv4); ct_clear forgets it too (conntrack_clear), which the cleared
   * ct_state already tells here. test/ct-ovs.test.ts ("a rewrite between two ct() of one zone") runs it against
   * ovs-vswitchd 3.1.
   */
  private sameTuple(frame: Uint8Array, d: DecodedFrame): boolean {
    const t = this.cacheTuple;
    const l3 = d.l3Offset;
    if (d.l3 === L3.IPV6) {
      for (let i = 0; i < 8; i++) if (t[i] !== read32(frame, l3 + 8 + 4 * i)) return false;
    } else if (t[0] !== d.ipSrc >>> 0 || t[1] !== d.ipDst >>> 0) return false;
    return t[8] === l4Word(frame, d);
  }

  /** initial_conn_lookup: a packet NATed by an earlier ct() in this zone is looked up by its reverse. */
  private initialLookup(natted: boolean, now: number): number {
    // `natted` compared with false (processOne's boolean, an argument TurboFan does not know one); the NATed packet's
    // lookup apart, so that this function stays small enough for TurboFan to inline into processOne.
    if (natted === false) {
      const n = this.lookupFirst(now);
      this.ctxReply = n >= 0 && (n & 1) === 1;
      return n >= 0 ? n >> 1 : -1;
    }
    return this.nattedLookup(now);
  }

  /** initialLookup of a packet NATed by an earlier ct() in this zone: by its reverse. */
  private nattedLookup(now: number): number {
    const ck = CK;
    const h = this.ckHash;
    const hashed = this.ckHashed;
    reverseKey(ck);
    this.ckHashed = false;
    // The packet as the previous ct() NATed it (the kept key, see noteKey) in the zone of that connection: the key
    // is that node's, and so is the hash.
    const xn = this.xNode;
    let n = -1;
    if (xn >= 0 && this.xOk === true && this.keys[(xn >> 1) * R + R_GEN] === this.xNodeGen && this.keys[(xn >> 1) * R + K_META] === ck[K_META]) {
      this.ckHash = this.links[xn * 2]!;
      this.ckHashed = true;
      // The kept key is that node's own (noteKey wrote it from the node, and samePacket found the packet unchanged):
      // when it is the node just committed, the walk's answer is known without it (see freshNode).
      if (xn === this.freshNode && this.version === this.freshVersion && this.epochNow === this.freshEpoch) n = this.freshFound(xn, now);
    }
    let looked = false;
    if (n < 0) {
      n = this.lookupFirst(now);
      looked = true;
    }
    if (n < 0) {
      reverseKey(ck);
      this.ckHash = h;
      this.ckHashed = hashed;
      this.ctxReply = false;
      return -1;
    }
    // A NAT connection's reply node is OVS's UN_NAT conn (lib/conntrack.c v3.1.0 conn_not_found inserts one for every
    // commit with NAT): initial_conn_lookup turns the key into that conn's rev_key — the connection's original key —
    // and process_one looks that key up again (its CT_CONN_TYPE_UN_NAT branch), so whichever node of that key is first
    // in its chain answers, in its own direction. Another connection's reply node with that key — one committed later
    // from the translated packet's reverse without NAT — stands in front of the original's, and the packet is that
    // connection's reply. freshFound's node needs no second look: nothing was inserted since its commit.
    if (looked === true && (n & 1) === 1 && this.recB[(((n >> 1) * R + R_BYTES) << 2) + B_NAT] !== 0) return this.unNatLookup(n >> 1, now);
    // The packet is in the other direction of the node found; the key becomes that direction's, whose hash
    // the node stores.
    const other = (n & 1) === 0 ? 1 : 0;
    this.ctxReply = other === 1;
    const e = n >> 1;
    this.loadKey(e * 2 + other, ck);
    this.ckHash = this.links[(e * 2 + other) * 2]!;
    this.ckHashed = true;
    return e;
  }

  /**
   * nattedLookup's second look (OVS's UN_NAT branch of process_one): connection `p`'s original key looked up; the
   * first node of it answers — `p`'s own original, or a later connection's reply node of the same key. The key stays
   * `p`'s original (OVS's ctx->key), with its hash. Never −1: `p`'s original node shares its record's expiry with the
   * reply node just found.
   */
  private unNatLookup(p: number, now: number): number {
    const ck = CK;
    this.loadKey(p * 2, ck);
    const h = this.links[p * 4]!;
    this.ckHash = h;
    this.ckHashed = true;
    const m = this.lookupKey(ck, now, h, false);
    this.ctxReply = (m & 1) === 1;
    return m >> 1;
  }

  /**
   * What lookupKey(ck) finds when `ck` is the key of `n`, the reply node committed last, nothing inserted since: `n`,
   * or its connection's original node where the record's original key is `ck` too (as lookupKey); kept as the found
   * node, as lookupFirst does. -1 when it has expired: the caller walks then.
   */
  private freshFound(n: number, now: number): number {
    const base = (n >> 1) * R;
    if (now >= this.recF[(base + R_EXP) >> 1]!) return -1;
    if (this.keys[base + K_SRC] === CK[K_SRC] && this.originalIs(n, CK)) n--;
    this.hintIn = -1;
    this.hintOut = n;
    this.hintOutGen = this.xNodeGen;
    return n;
  }

  /**
   * A call's first lookup of `ck`: the hint's node when it is provably the answer (see {@link executeHinted}),
   * else {@link lookupCk}'s; the node found is kept as {@link foundNode}.
   */
  private lookupFirst(now: number): number {
    const hn = this.hintIn;
    let n = -1;
    if (hn >= 0) {
      this.hintIn = -1;
      n = this.hinted(hn, now);
    }
    if (n < 0) n = this.lookupCk(now);
    if (n >= 0) {
      this.hintOut = n;
      this.hintOutGen = this.keys[(n >> 1) * R + R_GEN]!;
    }
    return n;
  }

  /** What lookupKey(ck) finds if node `n` is what it found in this epoch (slot generation hintInGen), else -1. */
  private hinted(n: number, now: number): number {
    const keys = this.keys;
    const ck = this.ck;
    const base = (n >> 1) * R;
    if (base >= keys.length || keys[base + R_GEN] !== this.hintInGen) return -1;
    const b = base + (n & 1) * REV;
    const meta = ck[K_META]!;
    const src = ck[K_SRC]!;
    const dst = ck[K_DST]!;
    const sl4 = ck[K_SL4]!;
    const dl4 = ck[K_DL4]!;
    if (keys[b + K_META] !== meta || keys[b + K_SL4] !== sl4 || keys[b + K_DL4] !== dl4 || keys[b + K_SRC] !== src || keys[b + K_DST] !== dst) return -1;
    if ((meta & V6_BIT && !this.v6Equal(n, ck)) || now >= this.recF[(base + R_EXP) >> 1]!) return -1;
    // As lookupKey: a reply node whose record's original key is the key answers as the original.
    return n & 1 && keys[base + K_SRC] === src && this.originalIs(n, ck) ? n - 1 : n;
  }

  /**
   * The packet's key `ck` looked up, its hash computed at most once per key (OVS's `ctx->hash`). A miss is
   * remembered with the table's insert count and the time: until a connection is inserted (or time runs
   * backwards, which could revive an expired entry) the same key misses again — which it is asked at once by
   * the commit path after a miss, and by the next ct() of the same packet in OVN's ct_lb pattern (ct(nat),
   * then ct(commit, nat(dst=…)) on a new connection), each otherwise a full hash and chain walk.
   */
  private lookupCk(now: number): number {
    const ck = CK;
    const mk = MK;
    const meta = ck[K_META]!;
    if (
      this.missVersion === this.version &&
      MK_OWNER[0] === this.memoId &&
      now >= this.missNow &&
      mk[K_META] === meta &&
      mk[K_SL4] === ck[K_SL4] &&
      mk[K_DL4] === ck[K_DL4] &&
      mk[K_SRC] === ck[K_SRC] &&
      mk[K_DST] === ck[K_DST] &&
      (!(meta & V6_BIT) || sameV6Words(mk, ck))
    ) {
      // The same key: its hash too (the commit that follows inserts under it without hashing again).
      this.ckHash = this.missHash;
      this.ckHashed = true;
      return -1;
    }
    // Not a SYN's key (most likely in no connection), IPv4: the reply node committed last is the walk's answer when it
    // heads its chain (the bucket of the hash it is linked under holds it first: only an insert puts a node in front,
    // and a removed node's bucket bit or head changes), has the key and is live — or its original, as lookupKey.
    const ra = this.replyA;
    if (ra >= 0 && this.likelyNew === false && (meta & V6_BIT) === 0) {
      const h = this.links[ra << 1]!;
      const bk = h & this.bucketMask;
      const keys = this.keys;
      const base = Math.imul(ra >> 1, R);
      const src = ck[K_SRC]!;
      if (
        this.buckets[bk] === ra &&
        (this.occupied[bk >>> 5]! & (1 << (bk & 31))) !== 0 &&
        keys[(base + REV + K_SRC) | 0] === src &&
        keys[(base + REV + K_DST) | 0] === ck[K_DST] &&
        keys[(base + REV + K_SL4) | 0] === ck[K_SL4] &&
        keys[(base + REV + K_DL4) | 0] === ck[K_DL4] &&
        keys[(base + REV + K_META) | 0] === meta &&
        now < this.recF[(base + R_EXP) >> 1]!
      ) {
        // Read before the field stores (after them TurboFan loads the array's length and base again).
        const hairpin = keys[base + K_SRC] === src;
        this.replyA = this.replyB;
        this.replyB = -1;
        this.ckHash = h;
        this.ckHashed = true;
        return hairpin === true && this.originalIs(ra, ck) ? ra - 1 : ra;
      }
    }
    if (this.ckHashed === false) {
      this.ckHash = this.hashAt(ck);
      this.ckHashed = true;
    }
    const n = this.lookupKey(ck, now, this.ckHash, this.likelyNew);
    if (n < 0) {
      // Five stores, not a loop: TurboFan repeats both arrays' map checks, lengths and bases each turn (≈ 22
      // instructions a word in its code; bench/README, sessions 16 and 17).
      mk[K_SRC] = ck[K_SRC]!;
      mk[K_DST] = ck[K_DST]!;
      mk[K_SL4] = ck[K_SL4]!;
      mk[K_DL4] = ck[K_DL4]!;
      mk[K_META] = meta;
      if (meta & V6_BIT) for (let i = KW; i < W; i++) mk[i] = ck[i]!;
      MK_OWNER[0] = this.memoId;
      this.missHash = this.ckHash;
      this.missVersion = this.version;
      this.missNow = now;
    }
    return n;
  }

  /** Connection `e`'s own original key looked up (is it still live and the first match?). */
  private lookupOwn(e: number, now: number): number {
    this.loadKey(e * 2, TK);
    return this.lookupKey(TK, now, this.links[e * 4]!, false);
  }

  /** Node `n`'s key into the key `k`. */
  private loadKey(n: number, k: Uint32Array): void {
    const keys = this.keys;
    const b = (n >> 1) * R + (n & 1) * REV;
    k[K_SRC] = keys[b + K_SRC]!;
    k[K_DST] = keys[b + K_DST]!;
    k[K_SL4] = keys[b + K_SL4]!;
    k[K_DL4] = keys[b + K_DL4]!;
    k[K_META] = keys[b + K_META]!;
    if (k[K_META]! & V6_BIT) {
      const v = this.v6keys!;
      const o = n * V6W;
      for (let i = 0; i < V6W; i++) k[KW + i] = v[o + i]!;
    }
  }

  /** The key `k` into node `n`'s. */
  private storeKey(n: number, k: Uint32Array): void {
    const keys = this.keys;
    // Int32 forms (a slot's word offset is below 2^28): no overflow checks.
    const b = (Math.imul(n >> 1, R) + (n & 1) * REV) | 0;
    // Unrolled, as lookupCk's memo.
    keys[b + K_SRC] = k[K_SRC]!;
    keys[(b + K_DST) | 0] = k[K_DST]!;
    keys[(b + K_SL4) | 0] = k[K_SL4]!;
    keys[(b + K_DL4) | 0] = k[K_DL4]!;
    keys[(b + K_META) | 0] = k[K_META]!;
    if (k[K_META]! & V6_BIT) {
      const v = (this.v6keys ??= new Uint32Array(this.allocated * 2 * V6W));
      const o = n * V6W;
      for (let i = 0; i < V6W; i++) v[o + i] = k[KW + i]!;
    }
  }

  /** Word `i` (0–3) of node `n`'s source (`src`) or destination address. */
  private addrWord(n: number, src: boolean, i: number): number {
    if (i === 0) return this.keys[(n >> 1) * R + (n & 1) * REV + (src ? K_SRC : K_DST)]!;
    return this.v6keys![n * V6W + (src ? i - 1 : 2 + i)]!;
  }

  /**
   * check_orig_tuple: a NATed packet whose reverse key finds nothing (it was rewritten since) is found by the
   * original tuple the previous ct() recorded in its metadata.
   */
  private checkOrigTuple(res: CtResult, now: number): number {
    if (this.words) return this.checkOrigWords(res, now);
    if (!(res.state & NAT_BITS) || !res.hasOriginal || res.originalProto === 0) return -1;
    const tk = TK;
    const ck = CK;
    const v6 = (ck[K_META]! & V6_BIT) !== 0;
    if (v6) {
      for (let i = 0; i < 4; i++) {
        tk[srcWord(i)] = read32(res.originalSrc, i * 4);
        tk[dstWord(i)] = read32(res.originalDst, i * 4);
      }
    } else {
      tk[K_SRC] = read32(res.originalSrc, 0);
      tk[K_DST] = read32(res.originalDst, 0);
    }
    const proto = (ck[K_META]! >>> 16) & 0xff;
    if (proto === 1 || proto === 58) {
      const id = ck[K_SL4]! >>> 16;
      const type = res.originalSrcPort & 0xff;
      tk[K_SL4] = (id << 16) | (type << 8);
      tk[K_DL4] = (id << 16) | ((proto === 1 ? reverseIcmp4Type(type) : type ^ 1) << 8);
    } else {
      tk[K_SL4] = res.originalSrcPort;
      tk[K_DL4] = res.originalDstPort;
    }
    tk[K_META] = (res.zone & 0xffff) | (res.originalProto << 16) | (v6 ? V6_BIT : 0);
    const n = this.lookupKey(tk, now, this.hashAt(tk), false);
    return n >= 0 ? n >> 1 : -1;
  }

  /**
   * checkOrigTuple with the tuple in the caller's words (executeWords): the words loadOriginal read it from — an IPv6
   * address's word i the bytes 12 − 4i.., an IPv4 one the ct_nw_* word, or, in an IPv6 frame, its IPv6 word's last.
   */
  private checkOrigWords(res: CtResult, now: number): number {
    const w = this.ow;
    const oproto = w[W_PROTO]!;
    if (!(res.state & NAT_BITS) || oproto === 0) return -1;
    const tk = TK;
    const ck = CK;
    const v6 = (ck[K_META]! & V6_BIT) !== 0;
    const frame6 = w[W_ETH_TYPE] === 0x86dd;
    if (v6) {
      for (let i = 0; i < 4; i++) {
        tk[srcWord(i)] = w[W_V6_SRC + 3 - i]!;
        tk[dstWord(i)] = w[W_V6_DST + 3 - i]!;
      }
    } else {
      tk[K_SRC] = frame6 ? w[W_V6_SRC + 3]! : w[W_NW_SRC]!;
      tk[K_DST] = frame6 ? w[W_V6_DST + 3]! : w[W_NW_DST]!;
    }
    const proto = (ck[K_META]! >>> 16) & 0xff;
    const sport = w[W_TP_SRC]!;
    if (proto === 1 || proto === 58) {
      const id = ck[K_SL4]! >>> 16;
      const type = sport & 0xff;
      tk[K_SL4] = (id << 16) | (type << 8);
      tk[K_DL4] = (id << 16) | ((proto === 1 ? reverseIcmp4Type(type) : type ^ 1) << 8);
    } else {
      tk[K_SL4] = sport;
      tk[K_DL4] = w[W_TP_DST]!;
    }
    tk[K_META] = (res.zone & 0xffff) | (oproto << 16) | (v6 ? V6_BIT : 0);
    const n = this.lookupKey(tk, now, this.hashAt(tk), false);
    return n >= 0 ? n >> 1 : -1;
  }

  /** conn_update_state: the per-protocol tracker's verdict as ct_state bits. Returns "create a new connection". */
  private updateState(frame: Uint8Array, d: DecodedFrame, res: CtResult, e: number, now: number): boolean {
    if (this.ctxRelated) {
      res.state |= CtState.REL;
      if (this.ctxReply === true) res.state |= CtState.RPL;
      return false;
    }
    return this.verdict(res, e, this.connUpdate(frame, d, e, this.ctxReply, now), now);
  }

  /** conn_update_state's answer to the tracker's {@link CtUpdate} `r`: the ct_state bits; returns "create a new connection". */
  private verdict(res: CtResult, e: number, r: number, now: number): boolean {
    switch (r) {
      case CtUpdate.VALID:
        res.state = (res.state | CtState.EST) & ~CtState.NEW;
        if (this.ctxReply === true) res.state |= CtState.RPL;
        return false;
      case CtUpdate.INVALID:
        res.state = CtState.INV;
        return false;
      case CtUpdate.NEW:
        if (this.lookupOwn(e, now) >= 0) this.forceExpire(e);
        return true;
      default:
        res.state |= CtState.NEW;
        return false;
    }
  }

  /** conn_update: dispatch to the protocol tracker; moves the expiration. */
  private connUpdate(frame: Uint8Array, d: DecodedFrame, e: number, reply: boolean, now: number): number {
    // Int32 forms of the record's offsets (Math.imul, shifts) and `| 0` sums: no overflow checks. `e | 0`: Math.imul
    // of an argument TurboFan cannot type takes it as any number (a Smi converted to a double and back, or a heap
    // number's); the `|` has Smi feedback, so the slot is checked a Smi and untagged (≈ 8 instructions fewer a call).
    const o = Math.imul(e | 0, R);
    const kind = this.recB[(((o + R_BYTES) << 2) + B_L4) | 0];
    if (kind === CtL4.TCP) {
      const l4 = d.l4Offset;
      const hw = read16(frame, (l4 + 12) | 0);
      const flags = hw & 0xfff;
      if (tcpInvalidFlags(flags)) {
        this.counters[CtReason.TCP_FLAGS]!++;
        return CtUpdate.INVALID;
      }
      const payload = (d.l3End - l4 - ((hw >> 12) << 2)) | 0;
      const r = tcpUpdate(this.tcp, e, reply, frame, l4, payload, this.seqCheck, flags);
      const tm = (r >> 4) - 1;
      if (tm >= 0) this.recF[(o + R_EXP) >> 1] = now + this.timeoutMs[tm]!;
      if ((r & 15) === CtUpdate.INVALID) this.counters[CtReason.TCP_WINDOW]!++;
      return r & 15;
    }
    if (kind === CtL4.OTHER) {
      // conntrack-other.c: FIRST → MULTIPLE on more original packets, BIDIR once a reply is seen.
      let s = this.recB[(e * R + R_BYTES) * 4 + B_STATE];
      if (reply && s !== 2) s = 2;
      else if (s === 0) s = 1;
      this.recB[(e * R + R_BYTES) * 4 + B_STATE] = s;
      this.recF[(e * R + R_EXP) >> 1] = now + this.timeoutMs[s === 0 ? CtTimeout.OTHER_FIRST : s === 1 ? CtTimeout.OTHER_MULTIPLE : CtTimeout.OTHER_BIDIR]!;
      return s === 2 ? CtUpdate.VALID : CtUpdate.VALID_NEW;
    }
    // conntrack-icmp.c: FIRST until a reply, then REPLY.
    let r: number = CtUpdate.VALID;
    if (reply && this.recB[(e * R + R_BYTES) * 4 + B_STATE] === 0) this.recB[(e * R + R_BYTES) * 4 + B_STATE] = 1;
    else if (this.recB[(e * R + R_BYTES) * 4 + B_STATE] === 0) r = CtUpdate.VALID_NEW;
    this.recF[(e * R + R_EXP) >> 1] = now + this.timeoutMs[this.recB[(e * R + R_BYTES) * 4 + B_STATE] === 0 ? CtTimeout.ICMP_FIRST : CtTimeout.ICMP_REPLY]!;
    return r;
  }

  /** conn_not_found: a packet without a connection is new (or invalid); on commit it creates one. */
  private connNotFound(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult, now: number): number {
    const ck = CK;
    const proto = (ck[K_META]! >>> 16) & 0xff;
    const kind = l4Kind(proto);
    // valid_new
    if (kind === CtL4.TCP) {
      const flags = read16(frame, d.l4Offset + 12) & 0xfff;
      if (!tcpValidNew(flags)) {
        this.counters[tcpInvalidFlags(flags) ? CtReason.TCP_FLAGS : CtReason.INVALID_NEW]!++;
        res.state = CtState.INV;
        return -1;
      }
    } else if (kind === CtL4.ICMP4 || kind === CtL4.ICMP6) {
      // Only requests start ICMP connections (an IPv6 packet carrying protocol 1 reads as ICMP here too, as in OVS).
      const type = d.l4Offset >= 0 ? frame[d.l4Offset]! : -1;
      const ok = kind === CtL4.ICMP4 ? type === 8 || type === 15 || type === 13 : type === 128;
      if (!ok) {
        this.counters[CtReason.INVALID_NEW]!++;
        res.state = CtState.INV;
        return -1;
      }
    }
    res.state = CtState.NEW;
    // Compared with true first (a commit's is), then false: any other value (a JavaScript caller's) by its truth.
    if (req.commit !== true && (req.commit === false || !req.commit)) return -1;

    // A target of the other family is refused; a request without an address (all zero: OpenFlow's `nat(src)` or
    // `nat(dst)` without a range, which ofproto-dpif-xlate put_ct_nat sends with no address attribute) has no family,
    // and OVS 3.1 commits it for either (find_addr keeps the packet's own address).
    if ((req.nat === CtNat.DNAT || req.nat === CtNat.SNAT) && req.natIpv6 !== ((ck[K_META]! & V6_BIT) !== 0) && !noAddress(req)) {
      this.counters[CtReason.NAT_FAMILY]!++;
      return -1;
    }
    const zone = ck[K_META]! & 0xffff;
    // Two Map lookups per commit only when some limit is configured (OVS: zone_limit_lookup_or_default).
    const zl = this.zoneLimits.size === 0 ? undefined : (this.zoneLimits.get(zone) ?? this.zoneLimits.get(DEFAULT_ZONE));
    if (zl !== undefined && zl.count >= zl.limit) {
      this.counters[CtReason.ZONE_FULL]!++;
      return -1;
    }
    if (this.nConns >= this.maxConns) {
      this.counters[CtReason.TABLE_FULL]!++;
      return -1;
    }
    const e = this.allocSlot();
    if (e < 0) {
      this.counters[CtReason.TABLE_FULL]!++;
      return -1;
    }
    // The record's offsets as int32 sums (Math.imul, `| 0`): a slot's word offset is below 2^28 (the pool's arrays
    // are typed arrays), and TurboFan checks no sum for overflow (≈ 30 checks in this function's code before).
    const fwd = Math.imul(e, R);
    const rb = (fwd + R_BYTES) << 2;
    const keys = this.keys;
    // The original key, and the reply key reversed into `tk` (NAT's tuple search below starts from it; without NAT it
    // gives the reply node's hash at the insert).
    const tk = TK;
    const meta = ck[K_META]!;
    const src = ck[K_SRC]!;
    const dst = ck[K_DST]!;
    const sl4 = ck[K_SL4]!;
    const dl4 = ck[K_DL4]!;
    keys[(fwd + K_SRC) | 0] = src;
    keys[(fwd + K_DST) | 0] = dst;
    keys[(fwd + K_SL4) | 0] = sl4;
    keys[(fwd + K_DL4) | 0] = dl4;
    keys[(fwd + K_META) | 0] = meta;
    // The reply node's key: the reversed one without `nat`; with it, the tuple search's, stored by it (else the slot
    // is freed, never linked).
    const searched = req.nat !== CtNat.NONE;
    if (searched === false) {
      keys[(fwd + REV + K_SRC) | 0] = dst;
      keys[(fwd + REV + K_DST) | 0] = src;
      keys[(fwd + REV + K_SL4) | 0] = dl4;
      keys[(fwd + REV + K_DL4) | 0] = sl4;
      keys[(fwd + REV + K_META) | 0] = meta;
    }
    tk[K_SRC] = dst;
    tk[K_DST] = src;
    tk[K_SL4] = dl4;
    tk[K_DL4] = sl4;
    tk[K_META] = meta;
    if (meta & V6_BIT) {
      for (let i = 1; i < 4; i++) {
        tk[srcWord(i)] = ck[dstWord(i)]!;
        tk[dstWord(i)] = ck[srcWord(i)]!;
      }
      this.storeKey(e * 2, ck);
      this.storeKey(e * 2 + 1, tk);
    }
    keys[(fwd + R_MARK) | 0] = 0;
    // Tracker kind set, NAT action, tracker state and flags cleared: one word cleared, one byte set.
    keys[(fwd + R_BYTES) | 0] = 0;
    this.recB[(rb + B_L4) | 0] = kind;
    if (kind === CtL4.TCP) {
      // tcp_new_conn, or the words it made for this engine's last TCP commit given the same frame generation: that
      // commit's segment (WordsConntrackEngine's promise: nothing but this engine wrote the frame since; its own writes,
      // NAT's, change addresses, ports and checksums). A SYN commits twice — zone 1's ct_lb_mark, zone 4's hidden
      // ct_commit — and tcpNewConn's words are a function of the segment's sequence number, flags, window, options (a
      // walk over them for the window scale) and payload length only: the second commit's tracker is the first's, as
      // OVS's second tcp_new_conn on the packet makes it. engine-synwords.property.test.ts compares it with tcpNewConn's.
      const g = this.callGen;
      const t = this.tcp;
      const sw = this.synWords;
      const at = Math.imul(e, T_STRIDE) & OFFSET_MASK;
      // Only the sender's three words are kept: tcp_new_conn gives the receiver seqlo 0, seqhi 1, max window 1, state
      // CLOSED and the scale 0 on a SYN, unknown on anything else — the sender's own scale then (a SYN's is 0 or the
      // option's flag with a shift below 15, never the unknown bit), so the receiver's packed word is 1 | the sender's
      // unknown bit.
      if (g !== 0 && g === this.synGen) {
        const p = sw[T_PACKED]!;
        t[(at + T_SEQLO) | 0] = sw[T_SEQLO]!;
        t[(at + T_SEQHI) | 0] = sw[T_SEQHI]!;
        t[(at + T_PACKED) | 0] = p;
        t[(at + T_PEER + T_SEQLO) | 0] = 0;
        t[(at + T_PEER + T_SEQHI) | 0] = 1;
        t[(at + T_PEER + T_PACKED) | 0] = (1 | (p & (T_WS_UNKNOWN << 16)) | (TS_CLOSED << 24)) >>> 0;
      } else {
        const l4 = d.l4Offset;
        tcpNewConn(t, e, frame, l4, d.l3End - l4 - ((frame[l4 + 12]! >> 4) << 2));
        if (g !== 0) {
          sw[T_SEQLO] = t[(at + T_SEQLO) | 0]!;
          sw[T_SEQHI] = t[(at + T_SEQHI) | 0]!;
          sw[T_PACKED] = t[(at + T_PACKED) | 0]!;
          this.synGen = g;
        }
      }
      this.recF[(fwd + R_EXP) >> 1] = now + this.timeoutMs[CtTimeout.TCP_FIRST_PACKET]!;
    } else {
      this.recF[(fwd + R_EXP) >> 1] = now + this.timeoutMs[kind === CtL4.OTHER ? CtTimeout.OTHER_FIRST : CtTimeout.ICMP_FIRST]!;
    }

    if (searched === true) {
      let act = 0;
      if (req.nat === CtNat.DNAT) act = DST | (req.natPortMin || req.natPortMax ? DST_PORT : 0);
      else if (req.nat === CtNat.SNAT) act = SRC | (req.natPortMin || req.natPortMax ? SRC_PORT : 0);
      this.recB[(rb + B_NAT) | 0] = act;
      if (act !== 0 ? this.natUniqueTuple(e, req, now) === false : this.nullTuple(e, now) === false) {
        this.counters[CtReason.NAT_EXHAUSTED]!++;
        this.freeSlot(e);
        return -1;
      }
    }

    if (zl !== undefined) {
      this.admitZone[e] = zl === this.zoneLimits.get(zone) ? zone : DEFAULT_ZONE;
      this.zoneSeq[e] = zl.seq;
      this.recB[(rb + B_FLAGS) | 0] = F_ZONE;
      zl.count++;
    }
    // Both nodes' hashes are known by now: the original key is ck, looked up just before (hashed unless the
    // miss memo answered); the reply key was hashed by the NAT tuple search that found it free.
    if (this.ckHashed === false) {
      this.ckHash = this.hashAt(ck);
      this.ckHashed = true;
    }
    // Neither node can stand in front of a live node of its key: the original key's lookup just missed (processOne),
    // and so did the NAT tuple search's of the reply key (nullTuple's too). A reply key without `nat` was looked up
    // by nobody.
    const natted = this.recB[(rb + B_NAT) | 0] !== 0;
    const n = e << 1;
    this.insertNodes(n, this.ckHash, searched === true ? this.revHash : this.hashTk(), searched === false);
    this.replyB = this.replyA;
    this.replyA = (n + 1) | 0;
    this.linkLive(e);
    this.nConns++;
    if (natted) {
      this.freshNode = (n + 1) | 0;
      this.freshVersion = this.version;
      this.freshEpoch = this.epochNow;
    }
    // natted: insertNodes and linkLive leave the record's NAT byte.
    if (natted === true) this.natPacket(frame, d, e, false, this.ctxRelated, res);
    return e;
  }

  /** handle_nat: translate with the connection's NAT unless this zone already did. */
  private handleNat(frame: Uint8Array, d: DecodedFrame, e: number, zone: number, reply: boolean, related: boolean, res: CtResult): void {
    if (this.recB[(e * R + R_BYTES) * 4 + B_NAT] && (!(res.state & NAT_BITS) || zone !== res.zone)) {
      res.state &= ~NAT_BITS;
      this.natPacket(frame, d, e, reply, related, res);
    }
  }

  private readMarkLabel(e: number, res: CtResult): void {
    if (this.words === true) {
      this.markLabelWords(e);
      return;
    }
    // Math.imul and the shift, as markLabelWords: no overflow checks.
    const o = Math.imul(e, R);
    res.mark = this.keys[(o + R_MARK) | 0]!;
    const out = res.label;
    if ((this.recB[(((o + R_BYTES) << 2) + B_FLAGS) | 0]! & F_LABEL) === 0) {
      out[0] = 0;
      out[1] = 0;
      out[2] = 0;
      out[3] = 0;
      return;
    }
    const l = (e * 4) | 0;
    const labels = this.labels;
    out[0] = labels[l]!;
    out[1] = labels[(l + 1) | 0]!;
    out[2] = labels[(l + 2) | 0]!;
    out[3] = labels[(l + 3) | 0]!;
  }

  /** readMarkLabel into the caller's words (executeWords). */
  private markLabelWords(e: number): void {
    const w = this.ow;
    // Math.imul and the shift: a record's word offset is below 2^28 (the pool's arrays are typed arrays), so the
    // int32 forms are the products, without the multiplications' overflow checks.
    const o = Math.imul(e, R);
    w[WM] = this.keys[(o + R_MARK) | 0]!;
    if ((this.recB[(((o + R_BYTES) << 2) + B_FLAGS) | 0]! & F_LABEL) === 0) {
      w[WL] = 0;
      w[WL + 1] = 0;
      w[WL + 2] = 0;
      w[WL + 3] = 0;
      return;
    }
    const l = (e * 4) | 0;
    const labels = this.labels;
    w[WL] = labels[l]!;
    w[WL + 1] = labels[(l + 1) | 0]!;
    w[WL + 2] = labels[(l + 2) | 0]!;
    w[WL + 3] = labels[(l + 3) | 0]!;
  }

  /**
   * writeMeta into the caller's words (executeWords), as the executor's storeOriginal writes a result's tuple: each
   * of the thirteen tuple words once — an IPv6 address's word i from the address's word 3 − i, the other family's
   * words 0, all 0 without a tuple. The result keeps the zone, state and the tuple's flags.
   */
  private writeMetaWords(res: CtResult, zone: number, e: number, haveKey: boolean): void {
    res.tupleWritten = true;
    res.state |= CtState.TRK;
    res.zone = zone;
    // A hidden call's words are cleared by its caller (a chassis' ct_commit: the executor's hideCt): ≈ 20 stores
    // and the record's loads for words nobody reads.
    if (this.hideOut === true) return;
    // An IPv4 tuple (all five of a full-cold SYN's calls here) by its own source: the record's words all read
    // before the first store (a store to `w` may alias any typed array, so a read after it reloads), the packet's key
    // from CK itself (a constant: a word is one load, where a merged `k` was a checked load from a field's array).
    let mark = 0;
    let l0 = 0;
    let l1 = 0;
    let l2 = 0;
    let l3 = 0;
    let src = 0;
    let dst = 0;
    let sl4 = 0;
    let dl4 = 0;
    let meta = 0;
    if (e >= 0) {
      const keys = this.keys;
      const o = Math.imul(e, R);
      meta = keys[(o + K_META) | 0]!;
      if ((meta & V6_BIT) !== 0) {
        this.metaWordsOther(this.ow, res, e, haveKey);
        return;
      }
      src = keys[o]!;
      dst = keys[(o + K_DST) | 0]!;
      sl4 = keys[(o + K_SL4) | 0]!;
      dl4 = keys[(o + K_DL4) | 0]!;
      mark = keys[(o + R_MARK) | 0]!;
      if ((this.recB[(((o + R_BYTES) << 2) + B_FLAGS) | 0]! & F_LABEL) !== 0) {
        const l = (e * 4) | 0;
        const labels = this.labels;
        l0 = labels[l]!;
        l1 = labels[(l + 1) | 0]!;
        l2 = labels[(l + 2) | 0]!;
        l3 = labels[(l + 3) | 0]!;
      }
    } else if (haveKey === true && (CK[K_META]! & V6_BIT) === 0) {
      meta = CK[K_META]!;
      src = CK[K_SRC]!;
      dst = CK[K_DST]!;
      sl4 = CK[K_SL4]!;
      dl4 = CK[K_DL4]!;
    } else {
      this.metaWordsOther(this.ow, res, e, haveKey);
      return;
    }
    res.hasOriginal = true;
    res.originalIpv6 = false;
    // The words by the constant when they are the first slot's (both captures' calls, all of them): see FIRST.
    const w = this.ow;
    if (w === FIRST) meta4Words(FIRST, mark, l0, l1, l2, l3, src, dst, sl4, dl4, meta);
    else meta4Words(w, mark, l0, l1, l2, l3, src, dst, sl4, dl4, meta);
  }

  /** writeMetaWords' other cases: an IPv6 tuple, or none (`haveKey` false without a connection: all thirteen words 0). */
  private metaWordsOther(w: Uint32Array, res: CtResult, e: number, haveKey: boolean): void {
    if (e >= 0) this.markLabelWords(e);
    else {
      w[WM] = 0;
      w[WL] = 0;
      w[WL + 1] = 0;
      w[WL + 2] = 0;
      w[WL + 3] = 0;
      if (haveKey !== true) {
        res.hasOriginal = false;
        res.originalIpv6 = false;
        w[W_NW_SRC] = 0;
        w[W_NW_DST] = 0;
        for (let i = 0; i < 4; i++) {
          w[W_V6_SRC + i] = 0;
          w[W_V6_DST + i] = 0;
        }
        w[W_TP_SRC] = 0;
        w[W_TP_DST] = 0;
        w[W_PROTO] = 0;
        return;
      }
    }
    // An IPv6 tuple (writeMetaWords wrote the IPv4 ones): an address's word i into the address's IPv6 word 3 − i.
    const o = e >= 0 ? Math.imul(e, R) : 0;
    const k = e >= 0 ? this.keys : CK;
    const proto = (k[(o + K_META) | 0]! >>> 16) & 0xff;
    res.hasOriginal = true;
    res.originalIpv6 = true;
    w[W_NW_SRC] = 0;
    w[W_NW_DST] = 0;
    for (let i = 0; i < 4; i++) {
      w[W_V6_SRC + 3 - i] = e >= 0 ? this.addrWord(e * 2, true, i) : CK[srcWord(i)]!;
      w[W_V6_DST + 3 - i] = e >= 0 ? this.addrWord(e * 2, false, i) : CK[dstWord(i)]!;
    }
    w[W_PROTO] = proto;
    if (proto === 58) {
      // OVS puts the ICMPv6 type and code where the ports go.
      w[W_TP_SRC] = (k[(o + K_SL4) | 0]! >>> 8) & 0xff;
      w[W_TP_DST] = k[(o + K_SL4) | 0]! & 0xff;
    } else {
      w[W_TP_SRC] = k[(o + K_SL4) | 0]! & 0xffff;
      w[W_TP_DST] = k[(o + K_DL4) | 0]! & 0xffff;
    }
  }

  /** write_ct_md: tracked, zone, the connection's mark/label and original tuple (else the packet's own tuple). */
  private writeMeta(res: CtResult, zone: number, e: number, haveKey: boolean): void {
    if (this.words === true) {
      this.writeMetaWords(res, zone, e, haveKey);
      return;
    }
    res.tupleWritten = true;
    res.state |= CtState.TRK;
    res.zone = zone;
    if (e >= 0) {
      this.readMarkLabel(e, res);
    } else {
      res.mark = 0;
      const l = res.label;
      l[0] = 0;
      l[1] = 0;
      l[2] = 0;
      l[3] = 0;
    }
    if (e < 0 && !haveKey) {
      res.clearOriginal();
      return;
    }
    const k = e >= 0 ? this.keys : CK;
    const o = e >= 0 ? (e * R) | 0 : 0;
    const meta = k[(o + K_META) | 0]!;
    const v6 = (meta & V6_BIT) !== 0;
    const proto = (meta >>> 16) & 0xff;
    res.hasOriginal = true;
    res.originalIpv6 = v6;
    if (v6) {
      for (let i = 0; i < 4; i++) {
        write32(res.originalSrc, i * 4, e >= 0 ? this.addrWord(e * 2, true, i) : k[srcWord(i)]!);
        write32(res.originalDst, i * 4, e >= 0 ? this.addrWord(e * 2, false, i) : k[dstWord(i)]!);
      }
    } else if (res === this.metaRes) {
      // Four word stores per address instead of sixteen byte stores (the view's words are in host order).
      const s = this.metaSrc32!;
      const t = this.metaDst32!;
      s[0] = hostOrder(k[o + K_SRC]!);
      t[0] = hostOrder(k[(o + K_DST) | 0]!);
      s[1] = 0;
      s[2] = 0;
      s[3] = 0;
      t[1] = 0;
      t[2] = 0;
      t[3] = 0;
    } else {
      const s = res.originalSrc;
      const t = res.originalDst;
      for (let i = 4; i < 16; i++) {
        s[i] = 0;
        t[i] = 0;
      }
      write32(s, 0, k[o + K_SRC]!);
      write32(t, 0, k[(o + K_DST) | 0]!);
      this.viewMeta(res);
    }
    res.originalProto = proto;
    if ((proto === 1 && !v6) || (proto === 58 && v6)) {
      // OVS puts the ICMP type and code where the ports go.
      res.originalSrcPort = (k[(o + K_SL4) | 0]! >>> 8) & 0xff;
      res.originalDstPort = k[(o + K_SL4) | 0]! & 0xff;
    } else {
      res.originalSrcPort = k[(o + K_SL4) | 0]! & 0xffff;
      res.originalDstPort = k[(o + K_DL4) | 0]! & 0xffff;
    }
  }

  /**
   * Word views of a result's original-tuple bytes, made once per result object (an executor carries one per
   * packet in flight, reused): only when both arrays are word-aligned.
   */
  private viewMeta(res: CtResult): void {
    const s = res.originalSrc;
    const t = res.originalDst;
    if (s.byteOffset % 4 !== 0 || t.byteOffset % 4 !== 0) return;
    this.metaRes = res;
    this.metaSrc32 = new Uint32Array(s.buffer, s.byteOffset, 4);
    this.metaDst32 = new Uint32Array(t.buffer, t.byteOffset, 4);
  }

  /** set_mark: `mark = value | (mark & ~mask)` (the value is expected within the mask, as OVS's flow parser ensures). */
  private setMark(e: number, req: CtRequest, res: CtResult): void {
    if (this.words === true) {
      this.setMarkWords(e, req);
      return;
    }
    const m = ((req.markValue & req.markMask) | (res.mark & ~req.markMask)) >>> 0;
    res.mark = m;
    this.keys[e * R + R_MARK] = m;
  }

  /** setMark on the mark in the caller's words (executeWords). */
  private setMarkWords(e: number, req: CtRequest): void {
    // The connection's mark, which writeMetaWords left in the words unless the call is hidden.
    const m = ((req.markValue & req.markMask) | (this.keys[e * R + R_MARK]! & ~req.markMask)) >>> 0;
    if (this.hideOut !== true) this.ow[WM] = m;
    this.keys[e * R + R_MARK] = m;
  }

  private setLabel(e: number, req: CtRequest, res: CtResult): void {
    if (this.words === true) {
      this.setLabelWords(e, req);
      return;
    }
    const l = e * 4;
    let any = 0;
    for (let i = 0; i < 4; i++) {
      const v = ((req.labelValue[i]! & req.labelMask[i]!) | (res.label[i]! & ~req.labelMask[i]!)) >>> 0;
      res.label[i] = v;
      this.labels[l + i] = v;
      if (v !== 0) any = 1;
    }
    const f = (e * R + R_BYTES) * 4 + B_FLAGS;
    this.recB[f] = (this.recB[f]! & F_ZONE) | any;
  }

  /** setLabel on the label in the caller's words (executeWords). */
  private setLabelWords(e: number, req: CtRequest): void {
    const w = this.ow;
    const l = e * 4;
    const f = (e * R + R_BYTES) * 4 + B_FLAGS;
    // A hidden call's words hold no label (writeMetaWords left them): the connection's, as markLabelWords reads it.
    const hidden = this.hideOut === true;
    const had = (this.recB[f]! & F_LABEL) !== 0;
    let any = 0;
    for (let i = 0; i < 4; i++) {
      const old = hidden ? (had ? this.labels[l + i]! : 0) : w[WL + i]!;
      const v = ((req.labelValue[i]! & req.labelMask[i]!) | (old & ~req.labelMask[i]!)) >>> 0;
      if (!hidden) w[WL + i] = v;
      this.labels[l + i] = v;
      if (v !== 0) any = 1;
    }
    this.recB[f] = (this.recB[f]! & F_ZONE) | any;
  }

  // ---------------------------------------------------------------- key extraction

  /**
   * conn_key_extract: the packet's key into `ck` (and, for an ICMP error, the embedded packet's key,
   * reversed, with `ctxRelated` set). Returns -1, or the {@link CtReason} that makes it untrackable.
   *
   * `check`: verify the IPv4 header's and the L4 checksums — unless the engine was made not to, or the packet's
   * sender vouches for them ({@link CtResult.checksumsGood}). OVS validates only where no offload flag vouches:
   * lib/conntrack.c v3.1.0 conn_key_extract passes `!hwol_good_l3_csum` (`dp_packet_ip_checksum_valid ||
   * dp_packet_hwol_is_ipv4`) to extract_l3_ipv4 and `!hwol_good_l4_csum` (`dp_packet_l4_checksum_valid ||
   * dp_packet_hwol_tx_l4_checksum`) to extract_l4 — the flags lib/netdev-linux.c netdev_linux_parse_vnet_hdr sets
   * for a frame a local stack sent with VIRTIO_NET_HDR_F_NEEDS_CSUM. Linux's conntrack (OVS's kernel datapath)
   * likewise sums a TCP/UDP segment only for a CHECKSUM_NONE or CHECKSUM_COMPLETE skb (net/netfilter/utils.c
   * nf_ip_checksum), not for the CHECKSUM_PARTIAL one a pod's stack hands its veth.
   */
  private extractKey(frame: Uint8Array, d: DecodedFrame, zone: number, check: boolean): number {
    this.likelyNew = false;
    this.ctxRelated = false;
    this.ctxReply = false;
    this.ckHashed = false;
    const ck = CK;
    if (d.status !== DecodeStatus.OK) {
      // A first fragment's L4 header can fail the decoder's length checks (UDP's length counts the whole datagram):
      // it is untracked as a fragment, as every other fragment is.
      if (d.ipFragment && (d.l3 === L3.IPV4 || d.l3 === L3.IPV6)) return CtReason.FRAGMENT;
      return d.l3 === L3.IPV4 || d.l3 === L3.IPV6 ? (d.l3Offset >= 0 && d.ipHeaderLength > 0 ? CtReason.L4_UNTRACKABLE : CtReason.NOT_IP) : CtReason.NOT_IP;
    }
    const l3 = d.l3Offset;
    let v6 = 0;
    // Both sums of an IPv4 TCP packet verified at once (tcp4SumsOk), where this buffer's view is made already (so that
    // the view is made when the two sumBytes calls below would make it); when they fail, those calls tell which.
    let sumsOk = false;
    if (d.l3 === L3.IPV4) {
      if (d.ipFragment) return CtReason.FRAGMENT;
      if (check === true) {
        if (d.ipProto === 6 && d.l4Offset >= 0 && this.viewed(frame) != null) sumsOk = this.tcp4SumsOk(frame, d, d.l4Offset);
        if (sumsOk === false && foldSum(this.sumBytes(frame, l3, d.ipHeaderLength)) !== 0xffff) return CtReason.L3_CHECKSUM;
      }
      ck[K_SRC] = d.ipSrc;
      ck[K_DST] = d.ipDst;
    } else if (d.l3 === L3.IPV6) {
      if (d.ipFragment) return CtReason.FRAGMENT;
      for (let i = 0; i < 4; i++) {
        ck[srcWord(i)] = read32(frame, l3 + 8 + i * 4);
        ck[dstWord(i)] = read32(frame, l3 + 24 + i * 4);
      }
      v6 = V6_BIT;
    } else {
      return CtReason.NOT_IP;
    }
    const proto = d.ipProto;
    ck[K_SL4] = 0;
    ck[K_DL4] = 0;
    ck[K_META] = zone | (proto << 16) | v6;
    const l4 = d.l4Offset;
    const size = d.l3End - l4;
    if (proto === 6 || proto === 17) {
      if (l4 < 0) return CtReason.L4_UNTRACKABLE;
      if (check === true && sumsOk === false) {
        const stored = read16(frame, l4 + (proto === 6 ? 16 : 6));
        // A UDP checksum of 0 over IPv4 means "none" (RFC 768).
        if (!(proto === 17 && !v6 && stored === 0) && !this.l4ChecksumOk(frame, d, l4, size, proto)) return CtReason.L4_CHECKSUM;
      }
      // The decode's ports, as the IPv4 addresses above: a caller keeps them the frame's (ConntrackEngine) — two field
      // loads for four checked byte reads.
      const sp = d.srcPort;
      const dp = d.dstPort;
      if (sp === 0 || dp === 0) return CtReason.L4_UNTRACKABLE;
      ck[K_SL4] = sp;
      ck[K_DL4] = dp;
      this.likelyNew = proto === 6 && (frame[l4 + 13]! & (TCP_SYN | TCP_ACK)) === TCP_SYN;
      return -1;
    }
    if (proto === 1 && !v6) {
      if (l4 < 0 || size < 8) return CtReason.L4_UNTRACKABLE;
      if (check === true && foldSum(sumWords(frame, l4, size)) !== 0xffff) return CtReason.L4_CHECKSUM;
      return this.extractIcmp4(frame, d, l4, size);
    }
    if (proto === 58 && v6) {
      if (l4 < 0 || size < 8) return CtReason.L4_UNTRACKABLE;
      if (check === true && !this.l4ChecksumOk(frame, d, l4, size, proto)) return CtReason.L4_CHECKSUM;
      return this.extractIcmp6(frame, d, l4, size);
    }
    // Other protocols have no L4 key.
    return -1;
  }

  private l4ChecksumOk(frame: Uint8Array, d: DecodedFrame, l4: number, size: number, proto: number): boolean {
    const pseudo = d.l3 === L3.IPV4 ? pseudoHeaderSumV4(d.ipSrc, d.ipDst, proto, size) : pseudoHeaderSumV6(frame, d.l3Offset + 8, d.l3Offset + 24, proto, size);
    return foldSum(this.sumBytes(frame, l4, size) + pseudo) === 0xffff;
  }

  /*
   * Checksum verification reads the buffer 16 bits at a time through a Uint16Array over it: half the loads of the
   * byte-wise sum, and no shift-and-or per word. The native words are byte-swapped on a little-endian host, and
   * the ones' complement sum of byte-swapped words is the byte-swapped sum (RFC 1071 §2 B), so the folded sum is
   * swapped back once. Making the view allocates: it is made for a buffer seen twice in a row (the executor's and
   * the benches' reused buffers), never per packet for a caller that hands over a new array each time.
   */

  /**
   * The ones' complement sum of `frame[off, off + len)` as 16-bit big-endian words (an odd tail padded with 0):
   * folded to at most 0xffff plus the tail byte, 0 only for all-zero bytes — what {@link foldSum} of wire's
   * `sumWords` folds to.
   */
  private sumBytes(frame: Uint8Array, off: number, len: number): number {
    let v = this.viewed(frame);
    if (v === null) {
      v = this.viewSum(frame);
      if (v === undefined) return sumWords(frame, off, len);
    }
    let i = off >> 1;
    const end = i + (len >> 1);
    // (A view is as long as its buffer was when made: a length-tracking array that grew since is read bytewise.)
    if (v === undefined || off & 1 || end > v.length) return sumWords(frame, off, len);
    let sum = viewWordsSum(v, i, end);
    if (len & 1) sum += frame[off + len - 1]! << 8;
    return sum;
  }

  /**
   * extractKey's checks of an IPv4 TCP packet's two checksums, for hintedTcp4: where the 16-bit view of this very
   * buffer is made and the IPv4 header has no options, both sums in one function (the IPv4 header's ten words
   * unrolled; the same arithmetic as {@link sumBytes}, whose two calls and l4ChecksumOk's were ≈ a fifth of a
   * replayed ACK's first call); otherwise those calls, so that the view is made when it would have been.
   */
  private tcp4SumsOk(frame: Uint8Array, d: DecodedFrame, l4: number): boolean {
    const l3 = d.l3Offset;
    const size = d.l3End - l4;
    const v = this.viewed(frame) ?? undefined;
    const j = l4 >> 1;
    const end = j + (size >> 1);
    // (A view shorter than the segment — a length-tracking buffer grown since — reads undefined past its end: the sums
    // are NaN, the answer "bad", and execute verifies as it always does.)
    if (v === undefined || d.ipHeaderLength !== 20 || l3 & 1) {
      return foldSum(this.sumBytes(frame, l3, d.ipHeaderLength)) === 0xffff && this.l4ChecksumOk(frame, d, l4, size, 6);
    }
    const i = l3 >> 1;
    // The sums in host order, unswapped: a folded sum is 0xffff exactly when its byte swap is, and the host-order sum
    // folds to the swap of the network-order one (RFC 1071 §2 B) — the same verdicts. The addresses' four words are
    // added once for both sums: the pseudo-header's are the header's own (OVS's packet_csum_pseudoheader reads them
    // there), the decode's ipSrc and ipDst, which l4ChecksumOk takes.
    const a = v[(i + 6) | 0]! + v[(i + 7) | 0]! + v[(i + 8) | 0]! + v[(i + 9) | 0]!;
    let ip = v[i]! + v[(i + 1) | 0]! + v[(i + 2) | 0]! + v[(i + 3) | 0]! + v[(i + 4) | 0]! + v[(i + 5) | 0]! + a;
    ip = (ip & 0xffff) + (ip >>> 16);
    ip = (ip & 0xffff) + (ip >>> 16);
    if (ip !== 0xffff) return false;
    if (size === 20) {
      // A segment of the bare header (ACKs, FINs, SYNs without options: most of a conversation's client segments): its
      // ten words added as the IPv4 header's are, without wideWordsSum's loop and float split (≈ 60 instructions a
      // call less: bench/README, session 41), with the addresses and the pseudo-header's protocol and length words.
      let s = v[j]! + v[(j + 1) | 0]! + v[(j + 2) | 0]! + v[(j + 3) | 0]! + v[(j + 4) | 0]! + v[(j + 5) | 0]! + v[(j + 6) | 0]! + v[(j + 7) | 0]! + v[(j + 8) | 0]! + v[(j + 9) | 0]! + a + PSEUDO_TCP20;
      s = (s & 0xffff) + (s >>> 16);
      s = (s & 0xffff) + (s >>> 16);
      return s === 0xffff;
    }
    const wide = frame === this.sumFrame ? this.sumWide : this.sumWide2;
    let sum = wide !== undefined && end <= v.length ? wideWordsSum(v, wide, j, end) : viewWordsSum(v, j, end);
    if (size & 1) sum += frame[l4 + size - 1]! << 8;
    return foldSum(sum + pseudoHeaderSumV4(d.ipSrc, d.ipDst, 6, size)) === 0xffff;
  }

  /** The view of `frame` if it is one of the two buffers viewed (undefined: viewed, but at an odd offset); null if not. */
  private viewed(frame: Uint8Array): Uint16Array | undefined | null {
    return frame === this.sumFrame ? this.sumView : frame === this.sumFrame2 ? this.sumView2 : null;
  }

  /**
   * The 16-bit view of `frame` (neither of the two viewed) for {@link sumBytes}, once it is the second such buffer in
   * a row; else undefined. It replaces the older of the two: the whole path hands the engine two buffers in turn
   * (the OVN hop's input and the switch's own), and with one view kept each turn summed bytewise once and made a
   * view anew — 0.4 views a frame in `http` (bench/README "Conntrack engine per http frame (session 15)").
   */
  private viewSum(frame: Uint8Array): Uint16Array | undefined {
    if (frame !== this.sumNext) {
      this.sumNext = frame;
      return undefined;
    }
    this.sumFrame2 = this.sumFrame;
    this.sumView2 = this.sumView;
    this.sumWide2 = this.sumWide;
    this.sumFrame = frame;
    this.sumView = frame.byteOffset & 1 ? undefined : new Uint16Array(frame.buffer, frame.byteOffset, frame.length >> 1);
    this.sumWide = frame.byteOffset & 3 ? undefined : new Uint32Array(frame.buffer, frame.byteOffset, frame.length >> 2);
    return this.sumView;
  }

  /** extract_l4_icmp: echo-like messages key on id and type; errors key on the packet they carry. */
  private extractIcmp4(frame: Uint8Array, d: DecodedFrame, l4: number, size: number): number {
    const ck = CK;
    const type = frame[l4]!;
    switch (type) {
      case 0:
      case 8:
      case 13:
      case 14:
      case 15:
      case 16: {
        if (frame[l4 + 1] !== 0) return CtReason.L4_UNTRACKABLE;
        const id = read16(frame, l4 + 4);
        ck[K_SL4] = (id << 16) | (type << 8);
        ck[K_DL4] = (id << 16) | (reverseIcmp4Type(type) << 8);
        return -1;
      }
      case 3:
      case 4:
      case 5:
      case 11:
      case 12:
        break;
      default:
        return CtReason.L4_UNTRACKABLE;
    }
    // The embedded header: no checksum check, but it must be whole, unfragmented and from the error's target.
    const tail = l4 + size;
    const il3 = l4 + 8;
    if (tail - il3 < 20) return CtReason.L4_UNTRACKABLE;
    const ihl = (frame[il3]! & 15) << 2;
    if (ihl < 20 || tail - il3 < ihl) return CtReason.L4_UNTRACKABLE;
    if (read16(frame, il3 + 6) & 0x3fff) return CtReason.L4_UNTRACKABLE;
    const isrc = read32(frame, il3 + 12);
    if (isrc !== d.ipDst) return CtReason.L4_UNTRACKABLE;
    const iproto = frame[il3 + 9]!;
    const il4 = il3 + ihl;
    ck[K_SRC] = isrc;
    ck[K_DST] = read32(frame, il3 + 16);
    ck[K_META] = (ck[K_META]! & 0xffff) | (iproto << 16);
    // ICMP errors need carry only 8 bytes of the embedded transport header (ICMP_ERROR_DATA_L4_LEN).
    if (!this.extractInnerL4(frame, il4, tail - il4, iproto, false, 8)) return CtReason.L4_UNTRACKABLE;
    reverseKey(ck);
    this.ctxRelated = true;
    this.innerL3 = il3;
    this.innerL4 = il4;
    return -1;
  }

  private extractIcmp6(frame: Uint8Array, d: DecodedFrame, l4: number, size: number): number {
    const ck = CK;
    const type = frame[l4]!;
    if (type === 128 || type === 129) {
      if (frame[l4 + 1] !== 0) return CtReason.L4_UNTRACKABLE;
      const id = read16(frame, l4 + 4);
      ck[K_SL4] = (id << 16) | (type << 8);
      ck[K_DL4] = (id << 16) | ((type ^ 1) << 8);
      return -1;
    }
    if (type < 1 || type > 4) return CtReason.L4_UNTRACKABLE;
    const tail = l4 + size;
    const il3 = l4 + 8;
    if (tail - il3 < 40) return CtReason.L4_UNTRACKABLE;
    const w = this.walk;
    if (walkIpv6(frame, il3, tail, w) < 0 || w.fragmented) return CtReason.L4_UNTRACKABLE;
    for (let i = 0; i < 16; i++) if (frame[il3 + 8 + i] !== frame[d.l3Offset + 24 + i]) return CtReason.L4_UNTRACKABLE;
    for (let i = 0; i < 4; i++) {
      ck[srcWord(i)] = read32(frame, il3 + 8 + i * 4);
      ck[dstWord(i)] = read32(frame, il3 + 24 + i * 4);
    }
    const iproto = w.protocol;
    const il4 = w.upperOffset;
    ck[K_META] = (ck[K_META]! & (0xffff | V6_BIT)) | (iproto << 16);
    if (!this.extractInnerL4(frame, il4, tail - il4, iproto, true, 0)) return CtReason.L4_UNTRACKABLE;
    reverseKey(ck);
    this.ctxRelated = true;
    this.innerL3 = il3;
    this.innerL4 = il4;
    return -1;
  }

  /** extract_l4 of an embedded packet (no checksum check, no further nesting). */
  private extractInnerL4(frame: Uint8Array, at: number, size: number, proto: number, v6: boolean, checkLen: number): boolean {
    const ck = CK;
    ck[K_SL4] = 0;
    ck[K_DL4] = 0;
    if (proto === 6 || proto === 17) {
      if (size < (checkLen || (proto === 6 ? 20 : 8))) return false;
      const sp = read16(frame, at);
      const dp = read16(frame, at + 2);
      ck[K_SL4] = sp;
      ck[K_DL4] = dp;
      return sp !== 0 && dp !== 0;
    }
    if (proto === 1 && !v6) {
      if (size < 8) return false;
      const type = frame[at]!;
      if (!(type === 0 || type === 8 || type === 13 || type === 14 || type === 15 || type === 16) || frame[at + 1] !== 0) return false;
      const id = read16(frame, at + 4);
      ck[K_SL4] = (id << 16) | (type << 8);
      ck[K_DL4] = (id << 16) | (reverseIcmp4Type(type) << 8);
      return true;
    }
    if (proto === 58 && v6) {
      if (size < 8) return false;
      const type = frame[at]!;
      if ((type !== 128 && type !== 129) || frame[at + 1] !== 0) return false;
      const id = read16(frame, at + 4);
      ck[K_SL4] = (id << 16) | (type << 8);
      ck[K_DL4] = (id << 16) | ((type ^ 1) << 8);
      return true;
    }
    return true;
  }

  // ---------------------------------------------------------------- NAT

  /**
   * nat_packet: rewrite the packet with connection `e`'s translation — forward for the original direction,
   * reversed for replies; for an ICMP error, the outer header one way and the embedded packet the other.
   */
  private natPacket(frame: Uint8Array, d: DecodedFrame, e: number, reply: boolean, related: boolean, res: CtResult): void {
    const keys = this.keys;
    // The two booleans (every caller's are) compared with true: a pointer compare, not V8's ToBoolean chain.
    // The translated tuple to write: for the original direction the reply key (read backwards), for replies the original key.
    // The offsets as int32 forms (Math.imul, shifts, `| 0` sums): a slot's word offset is below 2^28, so no product or
    // sum is checked for overflow.
    // `e | 0` as connUpdate's: the slot checked a Smi, not converted through a double.
    const o = Math.imul(e | 0, R);
    const kn = ((e << 1) + (reply === true ? 0 : 1)) | 0;
    const ko = (o + (reply === true ? 0 : REV)) | 0;
    const natAt = (((o + R_BYTES) << 2) + B_NAT) | 0;
    const act = reply === true ? natReverse(this.recB[natAt]!) : this.recB[natAt]!;
    if (act & SRC) res.state |= CtState.SNAT;
    else if (act & DST) res.state |= CtState.DNAT;
    if (!(act & (SRC | DST))) return;
    res.rewritten = true;
    this.natNode = related === true ? -1 : kn;
    const proto = (keys[(ko + K_META) | 0]! >>> 16) & 0xff;
    // The sums are made at the connection's first NATed packet, the commit's (natTcp4's rewrite is cheaper than the
    // field-by-field one by more than their cost), and serve its later packets — a first reply, an http connection's
    // every packet after. Made at the second instead (session 14), a connection whose SYN|ACK comes back paid both.
    if (related === false && proto === 6 && d.l3 === L3.IPV4) {
      const made = (((o + R_BYTES) << 2) + B_STATE) | 0;
      if (this.recB[made] === 0) {
        natSums(keys, o, this.recB[natAt]!);
        this.recB[made] = 1;
      }
      if (this.natTcp4(frame, d, e, reply, act) === true) return;
    }
    const l4size = d.l4Offset >= 0 ? d.l3End - d.l4Offset : 0;
    if (d.l3 === L3.IPV4) {
      if (act & SRC) rewriteIpv4Address(frame, d, 12, keys[(ko + K_DST) | 0]!);
      else rewriteIpv4Address(frame, d, 16, keys[(ko + K_SRC) | 0]!);
    } else if (act & SRC) {
      // OVS adjusts the L4 checksum of the connection's protocol — for an ICMPv6 error, that of the embedded
      // packet, at its offset in the ICMPv6 message (lib/conntrack.c v3.1.0 nat_packet_ipv6).
      this.setIpv6Addr(frame, d.l3Offset + 8, d.l4Offset, l4size, proto, this.addr4(kn, false));
    } else {
      this.setIpv6Addr(frame, d.l3Offset + 24, d.l4Offset, l4size, proto, this.addr4(kn, true));
    }
    if (related === true) this.natInner(frame, d, kn, proto, natReverse(act));
    else this.setPorts(frame, d.l4Offset, proto, keys[(ko + K_DL4) | 0]! & 0xffff, keys[(ko + K_SL4) | 0]! & 0xffff, d);
  }

  /**
   * nat_packet of an IPv4 TCP packet whose addresses and ports are its connection's key in its direction (as they
   * are unless something rewrote it since the lookup): the translated tuple written and both checksums adjusted by
   * the sums made at commit. The same bytes as the field-by-field path (RFC 1624 updates compose: the sum of the
   * adjustments is one adjustment, and only an all-zero sum is +0). A reply is adjusted by the negated sums, which
   * are exact except for ±0: a sum of 0 or 0xffff takes the field-by-field path. Returns false when it did not apply.
   * hintedTcp4 has these steps written out: a change here is a change there.
   */
  private natTcp4(frame: Uint8Array, d: DecodedFrame, e: number, reply: boolean, act: number): boolean {
    const keys = this.keys;
    // Record offsets as int32 forms (a slot's word offset is below 2^28): no overflow checks.
    // `e | 0` as connUpdate's.
    const b = Math.imul(e | 0, R);
    const from = (b + (reply === true ? REV : 0)) | 0;
    const to = (b + (reply === true ? 0 : REV)) | 0;
    const l3 = d.l3Offset & OFFSET_MASK;
    const l4 = d.l4Offset;
    if (l4 < 0 || ((d.l3End & OFFSET_MASK) - (l4 & OFFSET_MASK)) < 20) return false;
    const at = l4 & OFFSET_MASK;
    // The packet's tuple as `d` holds it: a caller keeps its addresses and ports current (ConntrackEngine), as the
    // lookups' keys take them — four field loads instead of twelve byte reads. The connection was found by this
    // tuple, or kept from the packet's previous ct() in the zone with the tuple unchanged since (sameTuple: OVS
    // forgets it on a rewrite), so it is the key in its direction; the compare guards the sums against a caller
    // that changed the frame other than the contract allows.
    if (d.srcPort !== keys[(from + K_SL4) | 0] || d.dstPort !== keys[(from + K_DL4) | 0] || d.ipSrc !== keys[from + K_SRC] || d.ipDst !== keys[(from + K_DST) | 0]) return false;
    const sums = keys[(b + R_NATSUM) | 0]!;
    let ipSum = sums >>> 16;
    let l4Sum = sums & 0xffff;
    if (reply === true) {
      // No test of l4Sum === 0: the TCP sum adds the ports' adjustments to the address's, and a fold is 0 only for
      // 0, so it is 0 only where ipSum is (engine.property.test.ts "a reply whose checksum fields are 0xffff").
      if (ipSum === 0 || ipSum === 0xffff || l4Sum === 0xffff) return false;
      ipSum = 0xffff - ipSum;
      l4Sum = 0xffff - l4Sum;
    }
    // The translated tuple is the other key read backwards.
    if (act & SRC) {
      const a = keys[(to + K_DST) | 0]!;
      write32(frame, l3 + 12, a);
      d.ipSrc = a;
    } else {
      const a = keys[to + K_SRC]!;
      write32(frame, l3 + 16, a);
      d.ipDst = a;
    }
    // A port the translation keeps (a DNAT to the same port, the client's port) is not written: the same bytes, and
    // the sums already hold no adjustment for it. The compare is with the decode's port, loaded for the check above.
    const ns = keys[(to + K_DL4) | 0]!;
    const nd = keys[(to + K_SL4) | 0]!;
    if (ns !== d.srcPort) {
      write16(frame, at, ns);
      d.srcPort = ns;
    }
    if (nd !== d.dstPort) {
      write16(frame, at + 2, nd);
      d.dstPort = nd;
    }
    write16(frame, l3 + 10, ~foldSum((~read16(frame, l3 + 10) & 0xffff) + ipSum) & 0xffff);
    write16(frame, at + 16, ~foldSum((~read16(frame, at + 16) & 0xffff) + l4Sum) & 0xffff);
    return true;
  }

  /** pat_packet / packet_set_{tcp,udp}_port: both ports, checksum adjusted (a zero UDP checksum stays zero). */
  private setPorts(frame: Uint8Array, l4: number, proto: number, sport: number, dport: number, d: DecodedFrame | undefined): void {
    if (proto === 6) {
      let sum = read16(frame, l4 + 16);
      const os = read16(frame, l4);
      const od = read16(frame, l4 + 2);
      if (os !== sport) sum = checksumAdjust16(sum, os, sport);
      if (od !== dport) sum = checksumAdjust16(sum, od, dport);
      write16(frame, l4, sport);
      write16(frame, l4 + 2, dport);
      write16(frame, l4 + 16, sum);
    } else if (proto === 17) {
      let sum = read16(frame, l4 + 6);
      const os = read16(frame, l4);
      const od = read16(frame, l4 + 2);
      if (sum !== 0) {
        if (os !== sport) sum = checksumAdjust16(sum, os, sport);
        if (od !== dport) sum = checksumAdjust16(sum, od, dport);
        write16(frame, l4 + 6, sum === 0 ? 0xffff : sum);
      }
      write16(frame, l4, sport);
      write16(frame, l4 + 2, dport);
    } else {
      return;
    }
    if (d !== undefined) {
      d.srcPort = sport;
      d.dstPort = dport;
    }
  }

  /** Node `n`'s source (`src`) or destination address, its four words in a scratch array. */
  private addr4(n: number, src: boolean): Uint32Array {
    const a = this.addr4Scratch;
    for (let i = 0; i < 4; i++) a[i] = this.addrWord(n, src, i);
    return a;
  }

  /**
   * Writes an IPv6 address (its 4 words in `words`) at `addrOff`, adjusting the checksum `proto` would
   * have at `l4` when the segment is long enough (packet_set_ipv6_addr / packet_update_csum128).
   */
  private setIpv6Addr(frame: Uint8Array, addrOff: number, l4: number, l4size: number, proto: number, words: Uint32Array): void {
    let at = -1;
    if (l4 >= 0) {
      if (proto === 6 && l4size >= 20) at = l4 + 16;
      else if (proto === 17 && l4size >= 8 && read16(frame, l4 + 6) !== 0) at = l4 + 6;
      else if (proto === 58 && l4size >= 4) at = l4 + 2;
    }
    if (at >= 0) {
      let sum = ~read16(frame, at) & 0xffff;
      for (let i = 0; i < 4; i++) {
        const old = read32(frame, addrOff + i * 4);
        const now = words[i]!;
        sum += (~(old >>> 16) & 0xffff) + (~old & 0xffff) + (now >>> 16) + (now & 0xffff);
      }
      const v = ~foldSum(sum) & 0xffff;
      write16(frame, at, proto === 17 && v === 0 ? 0xffff : v);
    }
    for (let i = 0; i < 4; i++) write32(frame, addrOff + i * 4, words[i]!);
  }

  /**
   * nat_inner_packet: translate the packet inside an ICMP error (its ports, then its address, with its own
   * checksums adjusted where they lie inside the message), then recompute the ICMP checksum.
   */
  private natInner(frame: Uint8Array, d: DecodedFrame, kn: number, proto: number, act: number): void {
    const keys = this.keys;
    const ko = (kn >> 1) * R + (kn & 1) * REV;
    const tail = d.l3End;
    const il3 = this.innerL3;
    const il4 = this.innerL4;
    const isize = tail - il4;
    // The embedded packet travels opposite to the key: its source port is the key's source.
    if (proto === 6) {
      // OVS adjusts the embedded TCP checksum even when the error carries only 8 bytes of the header; here the
      // adjustment is skipped when the checksum lies outside the message (OVS writes past the packet's end).
      const sport = keys[ko + K_SL4]! & 0xffff;
      const dport = keys[ko + K_DL4]! & 0xffff;
      if (isize >= 18) {
        this.setPorts(frame, il4, 6, sport, dport, undefined);
      } else {
        write16(frame, il4, sport);
        write16(frame, il4 + 2, dport);
      }
    } else if (proto === 17) {
      this.setPorts(frame, il4, 17, keys[ko + K_SL4]! & 0xffff, keys[ko + K_DL4]! & 0xffff, undefined);
    }
    if (d.l3 === L3.IPV4) {
      const src = act & SRC;
      const at = il3 + (src ? 12 : 16);
      const addr = src ? keys[ko + K_SRC]! : keys[ko + K_DST]!;
      const old = read32(frame, at);
      const iproto = frame[il3 + 9]!;
      if (iproto === 6 && isize >= 20) {
        write16(frame, il4 + 16, adjust32(read16(frame, il4 + 16), old, addr));
      } else if (iproto === 17 && isize >= 8) {
        const s = read16(frame, il4 + 6);
        if (s !== 0) {
          const v = adjust32(s, old, addr);
          write16(frame, il4 + 6, v === 0 ? 0xffff : v);
        }
      }
      write16(frame, il3 + 10, adjust32(read16(frame, il3 + 10), old, addr));
      write32(frame, at, addr);
      const l4 = d.l4Offset;
      write16(frame, l4 + 2, 0);
      write16(frame, l4 + 2, internetChecksum(frame, l4, tail - l4));
    } else {
      if (act & SRC) this.setIpv6Addr(frame, il3 + 8, il4, isize, proto, this.addr4(kn, true));
      else this.setIpv6Addr(frame, il3 + 24, il4, isize, proto, this.addr4(kn, false));
      const l4 = d.l4Offset;
      write16(frame, l4 + 2, 0);
      const sum = internetChecksum(frame, l4, tail - l4, pseudoHeaderSumV6(frame, d.l3Offset + 8, d.l3Offset + 24, 58, tail - l4));
      write16(frame, l4 + 2, sum);
    }
  }

  /**
   * nat_get_unique_tuple: choose the translated address (by hash within the range) and, for TCP/UDP, a port
   * whose reply tuple is free — the destination port range first for DNAT with ports, then the source port
   * (kept if free, else searched in its class: 1–511, 600–1023 or 1024–65535; up to 128 tries, then rounds of
   * random starts). Writes the reply key of slot `e`; false when every candidate is taken. `ck` holds the
   * original key, `tk` its reverse (the candidates are made there).
   */
  private natUniqueTuple(e: number, req: CtRequest, now: number): boolean {
    const ck = CK;
    const tk = TK;
    // `e | 0` as connUpdate's.
    const act = this.recB[(((Math.imul(e | 0, R) + R_BYTES) << 2) + B_NAT) | 0]!;
    const v6 = (ck[K_META]! & V6_BIT) !== 0;
    const proto = (ck[K_META]! >>> 16) & 0xff;
    const pat = proto === 6 || proto === 17;
    let minPort = req.natPortMin;
    let maxPort = req.natPortMax;
    if (minPort && !maxPort) maxPort = minPort;
    if (!minPort && maxPort) minPort = maxPort;

    // ct_lb's backend — IPv4 DNAT to one address and one port — has one first candidate: that address and port,
    // the source port kept. Tried here without the general search's set-up (no pick, so no hash of the request);
    // when it is taken, the search below starts over from the same candidate (a lookup changes nothing).
    if (act === (DST | DST_PORT) && minPort === maxPort && pat && !v6) {
      const amin = read32(req.natAddrMin, 0);
      if (amin === 0 || amin === read32(req.natAddrMax, 0)) {
        tk[K_SRC] = amin === 0 ? ck[K_DST]! : amin;
        tk[K_SL4] = minPort;
        tk[K_DL4] = ck[K_SL4]! & 0xffff;
        const h = this.hashTk();
        if (this.lookupKey(tk, now, h, true) < 0) {
          this.revHash = h;
          this.storeKey(e * 2 + 1, tk);
          return true;
        }
      }
    }

    // find_addr
    const a = this.addrScratch;
    const wordsOf = v6 ? 4 : 1;
    let zero = true;
    let oneAddr = true;
    for (let i = 0; i < wordsOf * 4; i++) {
      if (req.natAddrMin[i] !== 0) zero = false;
      if (req.natAddrMin[i] !== req.natAddrMax[i]) oneAddr = false;
    }
    // The hash only picks within a range (x % 1 is 0): a single address and port — ct_lb's backend — needs none.
    let hash = 0;
    if (!(zero || oneAddr) || (minPort !== maxPort && act & (SRC_PORT | DST_PORT))) {
      let h = this.hashSeed;
      for (let i = 0; i < 4; i++) h = mix(h, read32(req.natAddrMin, i * 4));
      for (let i = 0; i < 4; i++) h = mix(h, read32(req.natAddrMax, i * 4));
      h = mix(h, (maxPort << 16) | minPort);
      // The original key's words in their order of old (source address, destination address, ports, meta).
      // An IPv4 key's other address words are 0 in this hash (the scratch key's are not kept: CT_KEY_WORDS).
      for (let i = 0; i < 4; i++) h = mix(h, i === 0 || v6 ? ck[srcWord(i)]! : 0);
      for (let i = 0; i < 4; i++) h = mix(h, i === 0 || v6 ? ck[dstWord(i)]! : 0);
      h = mix(h, ck[K_SL4]!);
      h = mix(h, ck[K_DL4]!);
      h = mix(h, ck[K_META]!);
      hash = finish(h) >>> 0;
    }
    if (zero) {
      for (let i = 0; i < 4; i++) a[i] = ck[act & SRC ? srcWord(i) : dstWord(i)]!;
    } else if (!v6) {
      const min = read32(req.natAddrMin, 0);
      const max = read32(req.natAddrMax, 0);
      const range = ((max - min) >>> 0) + 1;
      a[0] = (min + (hash % range)) >>> 0;
      a[1] = 0;
      a[2] = 0;
      a[3] = 0;
    } else {
      for (let i = 0; i < 4; i++) a[i] = read32(req.natAddrMin, i * 4);
      // nat_ipv6_addrs_delta: ranges are used up to 2^32-1 addresses.
      let delta = 0;
      let sameHigh = true;
      for (let i = 0; i < 2; i++) if (read32(req.natAddrMax, i * 4) !== a[i]) sameHigh = false;
      if (sameHigh) {
        const hi = read32(req.natAddrMax, 8) - a[2]!;
        const lo = read32(req.natAddrMax, 12) - a[3]!;
        delta = hi * 0x100000000 + lo;
        if (delta < 0) delta = 0;
      } else {
        delta = 0xfffffffe;
      }
      if (delta > 0xfffffffe) delta = 0xfffffffe;
      let add = hash % (delta + 1);
      for (let i = 3; i >= 0 && add > 0; i--) {
        const s = a[i]! + add;
        a[i] = s >>> 0;
        add = Math.floor(s / 0x100000000);
      }
    }

    // set_sport_range / set_dport_range
    const keySport = ck[K_SL4]! & 0xffff;
    const keyDport = ck[K_DL4]! & 0xffff;
    let sCurr: number;
    let sMin: number;
    let sMax: number;
    if ((act & (SRC | SRC_PORT)) === SRC || act & DST) {
      sCurr = keySport;
      if (sCurr < 512) {
        sMin = 1;
        sMax = 511;
      } else if (sCurr < 1024) {
        sMin = 600;
        sMax = 1023;
      } else {
        sMin = 1024;
        sMax = 65535;
      }
    } else {
      sMin = minPort;
      sMax = maxPort;
      sCurr = sMin + (hash % (sMax - sMin + 1));
    }
    let dCurr: number;
    let dMin: number;
    let dMax: number;
    if (act & DST_PORT) {
      dMin = minPort;
      dMax = maxPort;
      dCurr = dMin + (hash % (dMax - dMin + 1));
    } else {
      dCurr = keyDport;
      dMin = dCurr;
      dMax = dCurr;
    }
    if (pat) {
      tk[K_SL4] = dCurr;
      tk[K_DL4] = sCurr;
    }
    if (act & SRC) tk[K_DST] = a[0]!;
    else tk[K_SRC] = a[0]!;
    if (v6) for (let i = 1; i < 4; i++) tk[act & SRC ? dstWord(i) : srcWord(i)] = a[i]!;

    let found: boolean;
    if (!pat) {
      this.revHash = this.hashAt(tk);
      found = this.lookupKey(tk, now, this.revHash, true) < 0;
    } else {
      found = false;
      if (act & DST_PORT) found = this.uniquePort(tk, K_SL4, dCurr, dMin, dMax, now);
      if (!found) found = this.uniquePort(tk, K_DL4, sCurr, sMin, sMax, now);
    }
    if (found) this.storeKey(e * 2 + 1, tk);
    return found;
  }

  /**
   * `nat` with no target committing a new connection (OVN's `ct_commit_nat` on one; never in OVN's own flows, which
   * use it on `ct.rel && !ct.new`). OVS 3.1 (lib/conntrack.c v3.1.0) runs its tuple search with no NAT flags and no
   * range (conn_not_found → nat_get_unique_tuple): find_addr leaves the address zero, set_sport_range takes the
   * range's ports (0–0), set_dport_range keeps the destination port, and store_addr_to_key writes the zero address
   * as the reply key's source — so the reply key is the reversed key with the source address 0 (`::` for IPv6) and,
   * for TCP and UDP, the destination port 0 (`reply=(src=0.0.0.0,…,dport=0)` in dpctl/dump-conntrack), checked
   * once against the table (nat_get_unique_l4 over the one port 0; ICMP: conn_lookup). The connection keeps
   * `nat_action` 0: no packet of it is translated or gets a NAT bit (nat_packet, handle_nat). What shows: the
   * server's replies are not this connection's (a new connection's or invalid), and a second such commit whose reply
   * key is the same — the same client, destination port (ICMP: id) and zone, any VIP and source port — is refused
   * for want of a tuple (+new, no entry). `tk` holds the reversed key. False when the key is taken.
   */
  private nullTuple(e: number, now: number): boolean {
    const tk = TK;
    const meta = tk[K_META]!;
    const proto = (meta >>> 16) & 0xff;
    tk[K_SRC] = 0;
    if (meta & V6_BIT) for (let i = 1; i < 4; i++) tk[srcWord(i)] = 0;
    if (proto === 6 || proto === 17) tk[K_DL4] = 0;
    this.revHash = this.hashAt(tk);
    if (this.lookupKey(tk, now, this.revHash, true) >= 0) return false;
    this.storeKey(e * 2 + 1, tk);
    return true;
  }

  /** nat_get_unique_l4: walk the port range from `curr` for a reply tuple no connection uses. */
  private uniquePort(k: Uint32Array, field: number, curr: number, min: number, max: number, now: number): boolean {
    const range = (max - min + 1) & 0xffff;
    let attempts = Math.min(range, 128);
    const orig = curr;
    for (;;) {
      let i = 0;
      const inRange = curr >= min && curr <= max;
      let n = (inRange ? max - min + 1 : max - min + 2) & 0xffff;
      for (; n > 0; n--) {
        if (i++ >= attempts) break;
        k[field] = curr;
        const h = this.hashAt(k);
        if (this.lookupKey(k, now, h, true) < 0) {
          this.revHash = h;
          return true;
        }
        curr = curr < min || curr > max || curr === max ? min : curr + 1;
      }
      if (attempts < range && attempts >= 16) {
        attempts = attempts >> 1;
        curr = min + (this.random() % range);
        continue;
      }
      k[field] = orig;
      return false;
    }
  }

  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    return x >>> 0;
  }

  // ---------------------------------------------------------------- table

  /**
   * hashAt(TK), the same words in the same order, read from the constant scratch key itself: a word is one load, where
   * hashAt's argument costs its map check and a checked load per word (≈ 91 instructions a call out of line; a SYN's
   * commits hash two reply keys, the DNAT's in natUniqueTuple and the plain one's in connNotFound).
   */
  private hashTk(): number {
    const meta = TK[K_META]!;
    let h = mix(this.hashSeed, meta);
    h = mix(h, TK[K_SRC]!);
    h = mix(h, TK[K_DST]!);
    h = mix(h, TK[K_SL4]!);
    h = mix(h, TK[K_DL4]!);
    if (meta & V6_BIT) {
      for (let i = 1; i < 4; i++) {
        h = mix(h, TK[srcWord(i)]!);
        h = mix(h, TK[dstWord(i)]!);
      }
    }
    return finish(h);
  }

  private hashAt(k: Uint32Array): number {
    // IPv4 keys leave address words 1–3 zero: hash only the words that can differ. lookedTcp4 makes this value from
    // the words at hand: a change here must go there too, or its lookups miss and its calls take execute
    // (conn-replay.property.test.ts's "own node looked up" case fails then); so must hashTk, this function on TK
    // (engine-table.property.test.ts fails then).
    const meta = k[K_META]!;
    let h = mix(this.hashSeed, meta);
    h = mix(h, k[K_SRC]!);
    h = mix(h, k[K_DST]!);
    h = mix(h, k[K_SL4]!);
    h = mix(h, k[K_DL4]!);
    if (meta & V6_BIT) {
      for (let i = 1; i < 4; i++) {
        h = mix(h, k[srcWord(i)]!);
        h = mix(h, k[dstWord(i)]!);
      }
    }
    return finish(h);
  }

  /**
   * The live node (`slot * 2 + direction`) whose key equals `k` (hash `h`, from {@link hashAt}), or -1.
   * Expired connections are skipped: expired from `now >= expiration` on (lib/conntrack.c v3.1.0 conn_expired, line
   * 2446; ovs-vswitchd agrees at the millisecond in test/ct-ovs.test.ts's expiry conversations). Unless `miss` (a lookup expected to find nothing), the chain's nodes are
   * compared by key in their records, not first by the hash kept in `links`: buckets hold half a node on average,
   * so a node in the bucket is nearly always the one sought, and a hit then reads the bucket and the record —
   * which the state update reads next anyway — without a cache miss on `links` too. A lookup expected to miss
   * (a SYN's, a NAT tuple probe) compares the hashes first: `links` is a quarter of the records' size, so a node
   * that differs costs a read more likely cached. Either order gives the same answer. The expiration is read
   * last: a node whose key matches is almost always the one sought, so a miss costs no read of it.
   */
  private lookupKey(k: Uint32Array, now: number, h: number, miss: boolean): number {
    const keys = this.keys;
    const links = this.links;
    const bk = h & this.bucketMask;
    if ((this.occupied[bk >>> 5]! & (1 << (bk & 31))) === 0) return -1;
    const meta = k[K_META]!;
    const src = k[K_SRC]!;
    const dst = k[K_DST]!;
    const sl4 = k[K_SL4]!;
    const dl4 = k[K_DL4]!;
    // A strict test of the flag once: `miss` as a condition in the loop was a full ToBoolean each turn (the callers
    // pass a field), and `| 0` makes the index sums plain int32 adds (no overflow checks: bench/README, session 16).
    const byHash = miss === true;
    for (let n = this.buckets[bk]!; n >= 0; n = links[(n * 2 + 1) | 0]!) {
      const base = ((n >> 1) * R) | 0;
      const b = (base + (n & 1) * REV) | 0;
      if (byHash && links[(n * 2) | 0] !== h) continue;
      if (keys[(b + K_META) | 0] !== meta || keys[(b + K_SL4) | 0] !== sl4 || keys[(b + K_DL4) | 0] !== dl4 || keys[(b + K_SRC) | 0] !== src || keys[(b + K_DST) | 0] !== dst) continue;
      if ((meta & V6_BIT && !this.v6Equal(n, k)) || now >= this.recF[(base + R_EXP) >> 1]!) continue;
      // OVS compares the original key first: a connection whose two keys are equal matches as original. The first
      // word differs but where the connection's two ends share an address (a hairpin); the rest is compared apart,
      // keeping this function under TurboFan's inlining limit (460 bytes of bytecode) for lookupCk.
      return n & 1 && keys[(base + K_SRC) | 0] === src && this.originalIs(n, k) ? n - 1 : n;
    }
    return -1;
  }

  /**
   * Whether reply node `n`'s record holds the key `k` as its original key too (lookupKey's and hinted's check).
   * Unrolled: a loop over the KW words was ≈ 22 instructions a word in TurboFan's code (bench/README, session 17).
   */
  private originalIs(n: number, k: Uint32Array): boolean {
    const keys = this.keys;
    const base = (n >> 1) * R;
    const meta = k[K_META]!;
    return (
      keys[base + K_SRC] === k[K_SRC] &&
      keys[base + K_DST] === k[K_DST] &&
      keys[base + K_SL4] === k[K_SL4] &&
      keys[base + K_DL4] === k[K_DL4] &&
      keys[base + K_META] === meta &&
      (!(meta & V6_BIT) || this.v6Equal(n - 1, k))
    );
  }

  /** Whether node `n`'s IPv6 words are the key `k`'s. */
  private v6Equal(n: number, k: Uint32Array): boolean {
    const v = this.v6keys!;
    const o = n * V6W;
    for (let i = 0; i < V6W; i++) if (v[o + i] !== k[KW + i]) return false;
    return true;
  }

  /**
   * Links a new connection's two nodes (their keys already written) into their buckets: node `n` under hash `h0`, then
   * node n + 1 under `h1`, in that order (the second's chain may hold the first). `shadows`: a live node of the second's
   * key may be in its chain. Without it the chain is not walked: a node the new one stands in front of is expired, and
   * stays expired (time running back starts a new epoch), so no hint to it is taken anyway — a walk read one random
   * node's `links` in a third or more of a full table's inserts. The first node never shadows (its key's lookup just
   * missed). One function for both, the table's arrays loaded once: after a single node's insert (its field store)
   * TurboFan loaded the three arrays, their lengths and bases again for the second.
   */
  private insertNodes(n: number, h0: number, h1: number, shadows: boolean): void {
    const links = this.links;
    const buckets = this.buckets;
    const occupied = this.occupied;
    const mask = this.bucketMask;
    // A shift and `| 0`: a node's index is below 2^29 (two a slot), no overflow check.
    const at0 = n << 1;
    const b0 = h0 & mask;
    const ow0 = b0 >>> 5;
    const bit0 = 1 << (b0 & 31);
    // An empty bucket (per the bitmap) is not read: the store alone does not wait for its cache line.
    const occ0 = occupied[ow0]!;
    links[at0] = h0;
    links[(at0 + 1) | 0] = (occ0 & bit0) !== 0 ? buckets[b0]! : -1;
    buckets[b0] = n;
    occupied[ow0] = occ0 | bit0;
    const at1 = (at0 + 2) | 0;
    const b1 = h1 & mask;
    const ow1 = b1 >>> 5;
    const bit1 = 1 << (b1 & 31);
    // Read after the first's store: the two buckets' bits may share a word.
    const occ1 = occupied[ow1]!;
    links[at1] = h1;
    if (shadows === true && (occ1 & bit1) !== 0) {
      // A node of the same hash (any key equal to the new one's has it) may now stand behind the new node: a hint
      // to it would no longer be what a lookup finds.
      for (let m = buckets[b1]!; m >= 0; m = links[m * 2 + 1]!) {
        if (links[m * 2] === h1) {
          this.epochNow = ++epochs;
          break;
        }
      }
    }
    links[(at1 + 1) | 0] = (occ1 & bit1) !== 0 ? buckets[b1]! : -1;
    buckets[b1] = (n + 1) | 0;
    occupied[ow1] = occ1 | bit1;
    this.version += 2;
  }

  private removeNode(n: number): void {
    const ri = this.links;
    const at = n * 2;
    const b = ri[at]! & this.bucketMask;
    let p = this.buckets[b]!;
    if (p === n) {
      const next = ri[at + 1]!;
      this.buckets[b] = next;
      if (next < 0) this.occupied[b >>> 5]! &= ~(1 << (b & 31));
      return;
    }
    while (p >= 0) {
      const pl = p * 2 + 1;
      const next = ri[pl]!;
      if (next === n) {
        ri[pl] = ri[at + 1]!;
        return;
      }
      p = next;
    }
  }

  private linkLive(e: number): void {
    this.livePrev[e] = -1;
    const head = this.liveHead;
    this.liveNext[e] = head;
    if (head >= 0) this.livePrev[head] = e;
    // Stored on every call: a store reached only into an empty list (after a flush) would have no type feedback when
    // the function is optimized, and deoptimize it then.
    this.liveTail = head >= 0 ? this.liveTail : e;
    this.liveHead = e;
  }

  private allocSlot(): number {
    if (this.freeHead >= 0) {
      const e = this.freeHead;
      this.freeHead = this.liveNext[e]!;
      return e;
    }
    if (this.used === this.capacity) {
      if (this.capacity >= this.maxConns) return -1;
      try {
        this.grow(Math.min(this.maxConns, this.capacity * 2));
      } catch (err) {
        // Out of memory for even the doubled pool: the commit is refused as with a full table (counted by the caller).
        if (err instanceof RangeError) return -1;
        throw err;
      }
    }
    return this.used++;
  }

  /** Returns a slot that was never inserted (NAT exhaustion) to the free list. */
  private freeSlot(e: number): void {
    this.keys[e * R + R_GEN] = (this.keys[e * R + R_GEN] + 1) >>> 0;
    this.liveNext[e] = this.freeHead;
    this.freeHead = e;
  }

  /** conn_clean: unlink a live connection, release its zone count, recycle the slot. */
  private removeConn(e: number, reason: number): void {
    this.removeNode(e * 2);
    this.removeNode(e * 2 + 1);
    const p = this.livePrev[e]!;
    const n = this.liveNext[e]!;
    if (p >= 0) this.liveNext[p] = n;
    else this.liveHead = n;
    if (n >= 0) this.livePrev[n] = p;
    else this.liveTail = p;
    if (this.recB[(e * R + R_BYTES) * 4 + B_FLAGS]! & F_ZONE) {
      const zl = this.zoneLimits.get(this.admitZone[e]!);
      if (zl && zl.seq === this.zoneSeq[e]) zl.count--;
    }
    this.nConns--;
    this.counters[reason]!++;
    this.freeSlot(e);
  }

  private forceExpire(e: number): void {
    if (this.recF[(e * R + R_EXP) >> 1] !== 0) this.counters[CtReason.FORCE_EXPIRED]!++;
    this.recF[(e * R + R_EXP) >> 1] = 0;
  }

  /**
   * The pool doubles. Its first growth allocates the reserved slots (copying the initial ones); within them only
   * the bucket array is remade, the per-slot arrays already span them; past them every per-slot array is
   * allocated anew and copied.
   */
  private grow(cap: number): void {
    const nb = bucketCount(cap);
    // The new bucket arrays are made before the reservation: made after it, while it is still a young object, each
    // met a scavenge (see allocSlots).
    const buckets = nb !== this.bucketMask + 1 ? new Int32Array(nb) : undefined;
    const occupied = buckets ? new Uint32Array((nb + 31) >>> 5) : undefined;
    if (cap > this.allocated) {
      let n = Math.max(cap, this.reserved);
      try {
        this.allocSlots(n, this.used);
      } catch (err) {
        // The reservation's address space refused (a memory limit): the doubled pool only (allocSlots replaced
        // nothing: its one allocation failed).
        if (!(err instanceof RangeError) || n === cap) throw err;
        n = cap;
        this.allocSlots(n, this.used);
      }
      this.allocated = n;
    }
    this.capacity = cap;
    if (buckets) this.rehash(nb, buckets, occupied!);
  }

  /**
   * The per-slot arrays for `n` slots, the first `keep` slots' contents copied: all of them views of one allocation
   * (record, links, labels, the four bookkeeping columns, TCP peers — 136 bytes a slot, in that order; every
   * column's offset a multiple of 8). A large one is fresh zero pages from the operating system (glibc's calloc maps
   * allocations of 32 MiB and more itself, and never clears mapped pages), so a slot's pages become resident only
   * when a connection is first written to it. The pool's doubling used to allocate every array anew and copy: the
   * old arrays stayed resident until a full collection (≈ 50 MiB in the 1 M-frame http bench, bench/README "Memory
   * (session 7)"). One allocation, not one per column: V8 answers an array buffer allocated while the young
   * generation's buffers hold at least its size and 32 MiB with a scavenge ("external memory pressure",
   * Heap::AllocateExternalBackingStore in V8's src/heap/heap.cc), so each column of the reservation after the first
   * cost a collection — three or four per engine, 38–65 ms of an http replay's ≈ 1 s (bench/README "Conntrack engine
   * per http frame (session 15)"). A SharedArrayBuffer, not an ArrayBuffer: V8 counts an ArrayBuffer's whole length
   * as the isolate's external memory when it is made (a backing store's PerIsolateAccountingLength, 0 for a shared
   * one: src/objects/backing-store.h), so the reservation (≈ 390 MiB of untouched address space in the default
   * cluster) read as memory pressure — a scavenge and an incremental marking, then a full collection, at every
   * engine's first growth (each cold bench run's first 2 000 frames; bench/README "The reservation V8 counted as
   * memory (session 39)"). Nothing shares it with another thread; its pages are the same calloc'd zero pages.
   */
  private allocSlots(n: number, keep: number): void {
    const oLinks = n * R * 4;
    const oLabels = oLinks + n * 16;
    const oCold = oLabels + n * 16;
    const oTcp = oCold + n * 16;
    const buf = new SharedArrayBuffer(oTcp + n * TCP_STRIDE * 4);
    const keys = new Uint32Array(buf, 0, n * R);
    if (keep) keys.set(this.keys.subarray(0, keep * R));
    this.keys = keys;
    this.recF = new Float64Array(buf, 0, (n * R) >> 1);
    this.recB = new Uint8Array(buf, 0, n * R * 4);
    const links = new Int32Array(buf, oLinks, n * 4);
    if (keep) links.set(this.links.subarray(0, keep * 4));
    this.links = links;
    const labels = new Uint32Array(buf, oLabels, n * 4);
    if (keep) labels.set(this.labels.subarray(0, keep * 4));
    this.labels = labels;
    if (this.v6keys) {
      const v = new Uint32Array(n * 2 * V6W);
      v.set(this.v6keys.subarray(0, keep * 2 * V6W));
      this.v6keys = v;
    }
    const admitZone = new Int32Array(buf, oCold, n);
    const zoneSeq = new Uint32Array(buf, oCold + n * 4, n);
    const liveNext = new Int32Array(buf, oCold + n * 8, n);
    const livePrev = new Int32Array(buf, oCold + n * 12, n);
    if (keep) {
      admitZone.set(this.admitZone.subarray(0, keep));
      zoneSeq.set(this.zoneSeq.subarray(0, keep));
      liveNext.set(this.liveNext.subarray(0, keep));
      livePrev.set(this.livePrev.subarray(0, keep));
    }
    this.admitZone = admitZone;
    this.zoneSeq = zoneSeq;
    this.liveNext = liveNext;
    this.livePrev = livePrev;
    const tcp = new Uint32Array(buf, oTcp, n * TCP_STRIDE);
    if (keep) tcp.set(this.tcp.subarray(0, keep * TCP_STRIDE));
    this.tcp = tcp;
  }

  /**
   * The table rebuilt with `nb` buckets. A chain's order is the reverse of its nodes' insertion order (inserts push
   * at the head, removals do not reorder), and which of two live nodes with the same key a lookup finds (the newer,
   * nearer the head) must not depend on whether the pool grew in between. Every node in the table is one of a live
   * connection's two, inserted at its commit (original, then reply) when it was linked at the live list's head: so
   * the live list walked from its tail (the oldest connection) and each connection's nodes pushed at their new
   * buckets' heads, original then reply, makes every chain as inserting them anew would. That walk reads the
   * connections' links in about the order the pool handed the slots out, where splitting each old chain read one
   * random node's links per node; the new buckets are written at random, and read only when the bitmap says the
   * bucket is taken.
   */
  private rehash(nb: number, buckets: Int32Array, occupied: Uint32Array): void {
    const links = this.links;
    const prev = this.livePrev;
    const mask = nb - 1;
    // `buckets` (nb) and `occupied` (a bit per bucket) fresh: not filled with -1, a bucket is read only while its bit
    // is set, and the bit is set with its first store.
    // The connection's two nodes written out, not as a loop of two: TurboFan checks each array's map and bounds
    // again on every pass of a loop, once for both nodes of straight code. The offsets as shifts and `| 0` sums (a slot
    // is below 2^28): no overflow checks.
    for (let e = this.liveTail; e >= 0; e = prev[e]!) {
      const n = e << 1;
      const at = e << 2;
      const b0 = links[at]! & mask;
      const w0 = b0 >>> 5;
      const bit0 = 1 << (b0 & 31);
      const occ0 = occupied[w0]!;
      links[(at + 1) | 0] = (occ0 & bit0) !== 0 ? buckets[b0]! : -1;
      buckets[b0] = n;
      occupied[w0] = occ0 | bit0;
      const b1 = links[(at + 2) | 0]! & mask;
      const w1 = b1 >>> 5;
      const bit1 = 1 << (b1 & 31);
      const occ1 = occupied[w1]!;
      links[(at + 3) | 0] = (occ1 & bit1) !== 0 ? buckets[b1]! : -1;
      buckets[b1] = (n + 1) | 0;
      occupied[w1] = occ1 | bit1;
    }
    this.buckets = buckets;
    this.occupied = occupied;
    this.bucketMask = mask;
    // Chains keep their order, so lookups answer as before; a new epoch all the same (rare, and nothing to prove).
    this.epochNow = ++epochs;
  }

  /** Removes every connection expired at `now` (OVS's clean thread, `ct_sweep`). Returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (let e = this.liveHead; e >= 0; ) {
      const next = this.liveNext[e]!;
      if (now >= this.recF[(e * R + R_EXP) >> 1]) {
        this.removeConn(e, CtReason.EXPIRED);
        n++;
      }
      e = next;
    }
    return n;
  }

  /** Removes every connection, or those of one zone (`dpctl/flush-conntrack [zone=N]`). */
  flush(zone?: number): number {
    if (zone === undefined) return this.clear();
    let n = 0;
    for (let e = this.liveHead; e >= 0; ) {
      const next = this.liveNext[e]!;
      if (zone === undefined || (this.keys[e * R + K_META]! & 0xffff) === zone) {
        this.removeConn(e, CtReason.FLUSHED);
        n++;
      }
      e = next;
    }
    return n;
  }

  /**
   * Every connection removed at once: the pool starts over from slot 0 and only the bucket bitmap is cleared
   * (a bucket whose bit is clear is never read, so its stale head needs no store). Unlinking connection by
   * connection read each one's record, links and bucket — three cache misses apiece in a large table — for a
   * table left empty anyway. Zone-limit counts all drop to 0: a count is the number of live connections admitted
   * under it. The per-packet connection cache is dropped (slots are reused without a generation bump).
   */
  private clear(): number {
    const n = this.nConns;
    this.occupied.fill(0);
    this.liveHead = -1;
    this.liveTail = -1;
    this.freeHead = -1;
    this.used = 0;
    this.nConns = 0;
    this.cacheSlot = -1;
    this.xNode = -1;
    this.replyA = -1;
    this.replyB = -1;
    this.epochNow = ++epochs;
    for (const zl of this.zoneLimits.values()) zl.count = 0;
    this.counters[CtReason.FLUSHED]! += n;
    return n;
  }

  /** The live (unexpired) connections at `now`, optionally of one zone — for dumps, traces and tests. */
  connections(now: number, zone?: number): CtConnectionInfo[] {
    const out: CtConnectionInfo[] = [];
    for (let e = this.liveHead; e >= 0; e = this.liveNext[e]!) {
      if (now >= this.recF[(e * R + R_EXP) >> 1]) continue;
      const fwd = e * R;
      const z = this.keys[fwd + K_META]! & 0xffff;
      if (zone !== undefined && z !== zone) continue;
      out.push(this.info(e, now));
    }
    return out;
  }

  private info(e: number, now: number): CtConnectionInfo {
    const keys = this.keys;
    const fwd = e * R;
    const meta = keys[fwd + K_META]!;
    const v6 = (meta & V6_BIT) !== 0;
    const proto = (meta >>> 16) & 0xff;
    const icmp = (proto === 1 && !v6) || (proto === 58 && v6);
    const tuple = (n: number): CtTupleInfo => {
      const k = new Uint32Array(W);
      this.loadKey(n, k);
      const t: CtTupleInfo = { src: addrText(k, true, v6), dst: addrText(k, false, v6), sport: 0, dport: 0 };
      if (icmp) {
        t.icmpId = k[K_SL4]! >>> 16;
        t.icmpType = (k[K_SL4]! >>> 8) & 0xff;
        t.icmpCode = k[K_SL4]! & 0xff;
      } else {
        t.sport = k[K_SL4]! & 0xffff;
        t.dport = k[K_DL4]! & 0xffff;
      }
      return t;
    };
    const labelSet = (this.recB[(e * R + R_BYTES) * 4 + B_FLAGS]! & F_LABEL) !== 0;
    const lw = (i: number): number => (labelSet ? this.labels[e * 4 + i]! : 0);
    const nat = this.recB[(e * R + R_BYTES) * 4 + B_NAT];
    const info: CtConnectionInfo = {
      zone: meta & 0xffff,
      ipv6: v6,
      proto,
      orig: tuple(e * 2),
      reply: tuple(e * 2 + 1),
      mark: this.keys[e * R + R_MARK],
      label: [lw(0), lw(1), lw(2), lw(3)],
      nat: nat & SRC ? 'src' : nat & DST ? 'dst' : undefined,
      timeout: Math.max(0, Math.floor((this.recF[(e * R + R_EXP) >> 1] - now) / 1000)),
      slot: e,
    };
    if (this.recB[(e * R + R_BYTES) * 4 + B_L4] === CtL4.TCP) {
      info.tcpStateOrig = TCP_NAMES[tcpPeerState(this.tcp, e, 0)];
      info.tcpStateReply = TCP_NAMES[tcpPeerState(this.tcp, e, 1)];
      const wo = tcpPeerWscale(this.tcp, e, 0);
      const wr = tcpPeerWscale(this.tcp, e, 1);
      info.tcpWscaleOrig = wo & 0xf;
      info.tcpWscaleReply = wr & 0xf;
      info.tcpFlagsOrig = tcpDumpFlags(wo);
      info.tcpFlagsReply = tcpDumpFlags(wr);
    }
    return info;
  }

  /** The raw TCP peer states of a connection slot (tests). */
  tcpStates(slot: number): [number, number] {
    return [tcpPeerState(this.tcp, slot, 0), tcpPeerState(this.tcp, slot, 1)];
  }

  /**
   * The table as `ovs-appctl dpctl/dump-conntrack` prints it (lib/ct-dpif.c `ct_dpif_format_entry`; `stats` adds
   * `timeout=` as `-s` does, `verbose` the per-peer TCP states, scales and flags as `-m` does), one line per live
   * connection, sorted.
   */
  formatDump(now: number, options: { zone?: number; stats?: boolean; verbose?: boolean } = {}): string[] {
    return this.connections(now, options.zone)
      .map((c) => formatConnection(c, options.stats ?? false, options.verbose ?? false))
      .sort();
  }
}

/**
 * A peer's window scale byte as the dump's TCP flags (lib/conntrack-tcp.c `tcp_peer_to_protoinfo_flags`: only these
 * two of lib/ct-dpif.h's CT_DPIF_TCP_FLAGS, in their bit order — WINDOW_SCALE bit 0, BE_LIBERAL bit 3), joined by
 * `|` as lib/flow.c `format_flags` does, `0` for none.
 */
const tcpDumpFlags = (ws: number): string => {
  const names: string[] = [];
  if (ws & WSCALE_FLAG) names.push('WINDOW_SCALE');
  if (ws & WSCALE_UNKNOWN) names.push('BE_LIBERAL');
  return names.length ? names.join('|') : '0';
};

const TCP_NAMES: readonly string[] = ['CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT_1', 'CLOSING', 'LAST_ACK', 'FIN_WAIT_2', 'TIME_WAIT'];

/**
 * The checksum adjustments (RFC 1624: ~old + new per changed 16-bit word, folded) of the original direction's NAT
 * of the IPv4 connection record at `b`, as {@link R_NATSUM} holds them: the translated address (from the key to the
 * reply key read backwards) for the IP header, that and both ports for TCP. A field left as it is adds nothing, as
 * the field-by-field rewrite skips it. Stored here, not returned: a 32-bit result handed back from a call that is
 * not inlined is a heap number (14.6 bytes per frame of full-cold, whose every SYN-ACK is such a first reply).
 */
const natSums = (keys: Uint32Array, b: number, act: number): void => {
  // `| 0` sums: `b` is a record's word offset, below 2^28 (no overflow checks).
  let ip = 0;
  if (act & SRC) ip = addrSum(keys[(b + K_SRC) | 0]!, keys[(b + REV + K_DST) | 0]!);
  else if (act & DST) ip = addrSum(keys[(b + K_DST) | 0]!, keys[(b + REV + K_SRC) | 0]!);
  let l4 = ip;
  const os = keys[(b + K_SL4) | 0]!;
  const ns = keys[(b + REV + K_DL4) | 0]!;
  if (os !== ns) l4 += (~os & 0xffff) + ns;
  const od = keys[(b + K_DL4) | 0]!;
  const nd = keys[(b + REV + K_SL4) | 0]!;
  if (od !== nd) l4 += (~od & 0xffff) + nd;
  keys[(b + R_NATSUM) | 0] = ((foldSum(ip) << 16) | foldSum(l4)) >>> 0;
};

const addrSum = (old: number, now: number): number => {
  if (old === now) return 0;
  return (~(old >>> 16) & 0xffff) + (~old & 0xffff) + (now >>> 16) + (now & 0xffff);
};

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** A 20-byte TCP segment's pseudo-header words but the addresses (0x0006, the length 0x0014) in host order. */
const PSEUDO_TCP20 = LITTLE_ENDIAN ? 0x0600 + 0x1400 : 6 + 20;

/** Whether a NAT request names no address (its range all zero). */
const noAddress = (req: CtRequest): boolean => {
  for (let i = 0; i < 16; i++) if (req.natAddrMin[i] !== 0 || req.natAddrMax[i] !== 0) return false;
  return true;
};

/** A big-endian (network order) word as a Uint32Array element must hold it for its bytes to read the same. */
const hostOrder = (x: number): number => {
  if (!LITTLE_ENDIAN) return x;
  return ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)) >>> 0;
};

const adjust32 = (sum: number, oldValue: number, newValue: number): number => {
  const s = (~sum & 0xffff) + (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) + (newValue >>> 16) + (newValue & 0xffff);
  return ~foldSum(s) & 0xffff;
};

/**
 * Buckets for `cap` connections (2·cap nodes): at least twice the nodes, so that a full pool's chains average at
 * most half a node — most misses end at an empty bucket. A power of four: the buckets grow fourfold at every other
 * doubling of the pool (between them 4–8 buckets a connection), so a rehash moves the live connections once per
 * fourfold growth instead of once per doubling — a third of the moves over a long run (each ≈ 128 instructions a
 * connection, two a SYN), for at most twice the bucket array (16 → 32 bytes a slot, plus the bitmap).
 * OVS's cmap doubles (lib/cmap.c cmap_insert → cmap_rehash); the bucket count changes no answer here (a chain keeps
 * its insertion order through a rehash), only when the moves are paid.
 */
const bucketCount = (cap: number): number => {
  let n = 16;
  while (n < cap * 4) n *= 4;
  return n;
};

const l4Kind = (proto: number): number => {
  if (proto === 6) return CtL4.TCP;
  if (proto === 1) return CtL4.ICMP4;
  if (proto === 58) return CtL4.ICMP6;
  return CtL4.OTHER;
};

/** Whether two IPv6 keys' address words past the first (KW…W-1) are equal. */
const sameV6Words = (a: Uint32Array, b: Uint32Array): boolean => {
  for (let i = KW; i < W; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** conn_key_reverse: swap the endpoints of the key `k` (an IPv4 key's first words only: CT_KEY_WORDS). */
const reverseKey = (k: Uint32Array): void => {
  let t = k[K_SRC]!;
  k[K_SRC] = k[K_DST]!;
  k[K_DST] = t;
  t = k[K_SL4]!;
  k[K_SL4] = k[K_DL4]!;
  k[K_DL4] = t;
  if (k[K_META]! & V6_BIT) {
    for (let i = 1; i < 4; i++) {
      const s = srcWord(i);
      const d = dstWord(i);
      t = k[s]!;
      k[s] = k[d]!;
      k[d] = t;
    }
  }
};

/** The source (`src`) or destination address of the key `k` as text, as OVS prints it (inet_ntop). */
function addrText(k: Uint32Array, src: boolean, v6: boolean): string {
  if (!v6) return formatIPv4(k[src ? K_SRC : K_DST]! >>> 0);
  // Output only (dump lines): one small buffer per call is fine.
  const b = new Uint8Array(16);
  for (let i = 0; i < 4; i++) write32(b, 4 * i, k[src ? srcWord(i) : dstWord(i)]!);
  return formatIPv6Ntop(b, 0);
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 58: 'icmpv6', 6: 'tcp', 17: 'udp', 132: 'sctp', 136: 'udplite', 33: 'dccp', 2: 'igmp' };

function formatTuple(t: CtTupleInfo, icmp: boolean): string {
  const l4 = icmp ? `,id=${t.icmpId},type=${t.icmpType},code=${t.icmpCode}` : `,sport=${t.sport},dport=${t.dport}`;
  return `src=${t.src},dst=${t.dst}${l4}`;
}

/**
 * One connection as `dpctl/dump-conntrack` prints it; `stats` as `-s`, `verbose` as `-m` (lib/ct-dpif.c
 * `ct_dpif_format_entry`). The userspace datapath leaves an entry's `id` and `status` zero and counts no packets or
 * bytes (lib/conntrack.c `conn_to_ct_dpif_entry` fills neither), so `-m` prints `id=0` and `status=0` for every entry.
 */
export function formatConnection(c: CtConnectionInfo, stats = false, verbose = false): string {
  const icmp = (c.proto === 1 && !c.ipv6) || (c.proto === 58 && c.ipv6);
  let s = `${PROTO_NAMES[c.proto] ?? String(c.proto)},orig=(${formatTuple(c.orig, icmp)}),reply=(${formatTuple(c.reply, icmp)})`;
  if (verbose) s += ',id=0';
  if (c.zone) s += `,zone=${c.zone}`;
  if (verbose) s += ',status=0';
  if (stats) s += `,timeout=${c.timeout}`;
  if (c.mark) s += `,mark=${c.mark}`;
  if (c.label.some((w) => w !== 0)) {
    // ds_put_hex: the 16 label bytes most significant first, leading zero bytes dropped.
    let hex = '';
    for (let i = 3; i >= 0; i--) hex += (c.label[i]! >>> 0).toString(16).padStart(8, '0');
    const bytes = hex.match(/../g)!;
    let k = 0;
    while (bytes[k] === '00') k++;
    s += `,labels=0x${parseInt(bytes[k]!, 16).toString(16)}${bytes.slice(k + 1).join('')}`;
  }
  if (c.tcpStateOrig !== undefined && verbose) {
    // ct_dpif_format_protoinfo_tcp_verbose: both states as they are (no coalescing), the scales only when either is set.
    s += `,protoinfo=(state_orig=${c.tcpStateOrig},state_reply=${c.tcpStateReply}`;
    if (c.tcpWscaleOrig || c.tcpWscaleReply) s += `,wscale_orig=${c.tcpWscaleOrig},wscale_reply=${c.tcpWscaleReply}`;
    s += `,flags_orig=${c.tcpFlagsOrig},flags_reply=${c.tcpFlagsReply})`;
  } else if (c.tcpStateOrig !== undefined) {
    const order = TCP_NAMES;
    let st = Math.max(order.indexOf(c.tcpStateOrig), order.indexOf(c.tcpStateReply!));
    // coalesce_tcp_state: printed as the kernel would name it.
    if (st === 9) st = 10;
    else if (st === 3) st = 4;
    s += `,protoinfo=(state=${order[st]})`;
  }
  return s;
}

/**
 * {@link viewWordsSum} of `[i, end)` (`end` within `v`) read through `wide`, the 32-bit view of the same buffer from
 * the same offset: an odd first or last 16-bit word from `v`, the rest two at a time. The 32-bit words are summed
 * as float64 — exact: a segment of at most 16 384 of them sums below 2^46 — and folded once after the loop, since
 * 2^16 ≡ 1 (mod 2^16 − 1) makes a 32-bit word's ones' complement sum that of its two 16-bit halves (RFC 1071 §2 A).
 * Half the loads and adds of viewWordsSum's loop, and no fold test in it: ≈ 200 instructions of an http ACK's check.
 */
const wideWordsSum = (v: Uint16Array, wide: Uint32Array, i: number, end: number): number => {
  let sum = 0;
  if (i & 1 && i < end) {
    sum = v[i]!;
    i++;
  }
  // Word indexes masked (OFFSET_MASK: themselves, a frame's offsets being below 2^17) and the four-word turns counted
  // against k1 − 3 (`k + 4 <= k1`): TurboFan then bounds the induction and checks none of its sums for overflow.
  const k1 = (end >> 1) & OFFSET_MASK;
  const k4 = (k1 - 3) | 0;
  let s = 0;
  let k = (i >> 1) & OFFSET_MASK;
  // Four words a turn: the loop's own work (the induction, its compare, V8's stack check) was most of a word's cost.
  for (; k < k4; k += 4) s += wide[k]! + wide[(k + 1) | 0]! + wide[(k + 2) | 0]! + wide[(k + 3) | 0]!;
  for (; k < k1; k++) s += wide[k]!;
  if (end & 1 && end > i) sum += v[end - 1]!;
  const hi = Math.floor(s / 65536);
  sum += s - hi * 65536 + (hi % 65536) + Math.floor(hi / 65536);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return LITTLE_ENDIAN ? ((sum & 0xff) << 8) | (sum >>> 8) : sum;
};

/**
 * The ones' complement sum of the 16-bit view's words `[i, end)` in host order, folded to 16 bits and swapped to
 * network order on a little-endian host: the loop sumBytes and tcp4SumsOk share (small enough for TurboFan to inline
 * into both).
 */
const viewWordsSum = (v: Uint16Array, i: number, end: number): number => {
  let sum = 0;
  for (; i + 4 <= end; i += 4) {
    sum += v[i]! + v[i + 1]! + v[i + 2]! + v[i + 3]!;
    if (sum > 0x3fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  for (; i < end; i++) sum += v[i]!;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return LITTLE_ENDIAN ? ((sum & 0xff) << 8) | (sum >>> 8) : sum;
};

/**
 * A connection tracker that behaves like Open vSwitch's userspace conntrack (ovs lib/conntrack.c v3.1.0, the
 * version Debian ships; behaviour cited per function below): zones, connections stored only on commit, the
 * ct_state bits as OVS sets them, TCP window tracking, ICMP and "other" protocol states, NAT with reply
 * un-NAT and NAT of the packet inside related ICMP errors, ct_mark/ct_label, table and zone limits and
 * timeouts from OVS's default policy, in simulated time.
 *
 * Storage is a pool of connection slots in typed arrays (keys as 32-bit words, IPv6 as four words), chained
 * in an open hash table by node `slot * 2 + direction`; freed slots are reused, the pool grows by doubling
 * up to the table limit. Executing a packet allocates nothing.
 * @module
 */
import {
  formatIPv6,
  DecodeStatus,
  L3,
  VippathError,
  checksumAdjust16,
  foldSum,
  internetChecksum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  read16,
  read32,
  rewriteIpv4Address,
  sumWords,
  walkIpv6,
  write16,
  write32,
  type DecodedFrame,
  type Ipv6Walk,
} from '@vippath/wire';
import { CtNat, CtState, type ConntrackEngine, type CtRequest, type CtResult } from '../lflow/ct-api.js';
import { CT_DEFAULT_CONN_LIMIT, CT_DEFAULT_TIMEOUTS, CtL4, CtNatAction, CtReason, CtTimeout, timeoutTable, type CtTimeoutPolicy } from './constants.js';
import { CtUpdate, allocTcpPeers, growTcpPeers, tcpInvalidFlags, tcpNewConn, tcpUpdate, tcpValidNew, type TcpPeers } from './tcp.js';

/** Words per connection key: source address (4), destination address (4), source L4, destination L4, meta. */
export const CT_KEY_WORDS = 11;
const K_SRC = 0;
const K_DST = 4;
const K_SL4 = 8;
const K_DL4 = 9;
/** zone (bits 0–15) | IP protocol (16–23) | 1 << 24 for IPv6. */
const K_META = 10;
const V6_BIT = 1 << 24;

const { SRC, SRC_PORT, DST, DST_PORT } = CtNatAction;
const NAT_BITS = CtState.SNAT | CtState.DNAT;
const NO_TIMEOUT = Number.POSITIVE_INFINITY;

/** Options of an {@link OvsConntrack}. */
export interface OvsConntrackOptions {
  /** Most connections the whole table holds (`dpctl/ct-set-maxconns`); OVS's default is 3 000 000. */
  maxConnections?: number;
  /** Slots allocated up front; the pool doubles as needed up to `maxConnections`. Default 1024. */
  initialCapacity?: number;
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

/** Zone-limit bookkeeping of a slot admitted without any limit. */
const INVALID_ZONE = -2;
/** The default zone limit's key (OVS `DEFAULT_ZONE`). */
const DEFAULT_ZONE = -1;

/** Bad configuration of an engine (limits, zones). */
export class ConntrackConfigError extends VippathError {
  constructor(message: string) {
    super('CONNTRACK_CONFIG', message);
  }
}

function reverseIcmp4Type(type: number): number {
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
}

function natReverse(a: number): number {
  if (a & SRC) return (a & ~SRC) | DST;
  if (a & DST) return (a & ~DST) | SRC;
  return a;
}

function mix(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x9e3779b1);
  return h ^ (h >>> 15);
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  // A signed 32-bit result stays a small integer in V8 (no boxed number per call).
  return h ^ (h >>> 16);
}

/**
 * The engine. One instance is one datapath's conntrack (all zones), as `dp->conntrack` in dpif-netdev.
 * Implements the logical-flow executor's {@link ConntrackEngine}.
 */
export class OvsConntrack implements ConntrackEngine {
  /** Per-{@link CtReason} counts. */
  readonly counters = new Float64Array(16);

  private capacity: number;
  private readonly maxConns: number;
  private readonly timeouts: Float64Array;
  private readonly seqCheck: boolean;
  private readonly validate: boolean;
  private readonly sweepInterval: number;
  private nextSweep: number;
  private rng: number;
  private readonly hashSeed: number;

  // Slot storage.
  private keys: Uint32Array;
  private chain: Int32Array;
  private nodeHash: Int32Array;
  private buckets: Int32Array;
  private bucketMask: number;
  private expiration: Float64Array;
  private l4: Uint8Array;
  private l4State: Uint8Array;
  private natAction: Uint8Array;
  private mark: Uint32Array;
  private label: Uint32Array;
  private admitZone: Int32Array;
  private zoneSeq: Uint32Array;
  private generation: Uint32Array;
  private liveNext: Int32Array;
  private livePrev: Int32Array;
  private tcp: TcpPeers;
  private liveHead = -1;
  private freeHead = -1;
  /** Slots ever handed out (the rest of the pool is untouched). */
  private used = 0;
  private nConns = 0;

  private readonly zoneLimits = new Map<number, ZoneLimit>();
  private zoneLimitSeq = 0;

  // Per-packet scratch (OVS `struct conn_lookup_ctx`).
  private readonly ck = new Uint32Array(CT_KEY_WORDS);
  private readonly tk = new Uint32Array(CT_KEY_WORDS);
  private ctxHash = 0;
  private ctxReply = false;
  private ctxRelated = false;
  private innerL3 = 0;
  private innerL4 = 0;
  private readonly walk: Ipv6Walk = { protocol: 0, upperOffset: 0, extensionCount: 0, fragmented: false, fragmentOffset: 0 };
  private readonly addrScratch = new Uint32Array(4);

  // OVS's `pkt->md.conn`: the connection a packet's previous ct() (without NAT) found, reused by the next
  // ct() in the same zone (process_one_fast). Tied to the result object the executor carries per packet.
  private cacheResult: CtResult | undefined;
  private cacheSlot = -1;
  private cacheGen = 0;
  private cacheState = 0;
  private cacheReply = false;
  private cacheRelated = false;

  constructor(options: OvsConntrackOptions = {}) {
    const max = options.maxConnections ?? CT_DEFAULT_CONN_LIMIT;
    if (!Number.isInteger(max) || max < 1) throw new ConntrackConfigError(`maxConnections must be a positive integer, got ${max}`);
    this.maxConns = max;
    this.capacity = Math.max(1, Math.min(max, options.initialCapacity ?? 1024));
    this.timeouts = timeoutTable({ ...CT_DEFAULT_TIMEOUTS, ...options.timeouts });
    for (const v of this.timeouts) if (!(v >= 0)) throw new ConntrackConfigError('timeouts must be non-negative numbers of seconds');
    this.seqCheck = options.tcpSequenceCheck ?? true;
    this.validate = options.validateChecksums ?? true;
    this.sweepInterval = options.sweepIntervalMs ?? 20_000;
    this.nextSweep = this.sweepInterval > 0 ? this.sweepInterval : NO_TIMEOUT;
    this.hashSeed = (options.seed ?? 0x5eed) | 0;
    this.rng = (this.hashSeed ^ 0x9e3779b9) | 1;
    const cap = this.capacity;
    this.keys = new Uint32Array(cap * 2 * CT_KEY_WORDS);
    this.chain = new Int32Array(cap * 2);
    this.nodeHash = new Int32Array(cap * 2);
    this.expiration = new Float64Array(cap);
    this.l4 = new Uint8Array(cap);
    this.l4State = new Uint8Array(cap);
    this.natAction = new Uint8Array(cap);
    this.mark = new Uint32Array(cap);
    this.label = new Uint32Array(cap * 4);
    this.admitZone = new Int32Array(cap);
    this.zoneSeq = new Uint32Array(cap);
    this.generation = new Uint32Array(cap);
    this.liveNext = new Int32Array(cap);
    this.livePrev = new Int32Array(cap);
    this.tcp = allocTcpPeers(cap);
    const nb = bucketCount(cap);
    this.buckets = new Int32Array(nb).fill(-1);
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
    for (let e = this.liveHead; e >= 0; e = this.liveNext[e]!) if ((this.keys[e * 2 * CT_KEY_WORDS + K_META]! & 0xffff) === zone) n++;
    return n;
  }

  // ---------------------------------------------------------------- hot path

  /**
   * One `ct()` action on one packet (`conntrack_execute` for a batch of one). `result` carries the packet's
   * conntrack metadata between calls, as `pkt->md` does in OVS: its state and zone on entry are the previous
   * `ct()`'s, so reset it (`CtResult.reset`) when a new packet starts. `now` is simulated milliseconds.
   */
  execute(frame: Uint8Array, _length: number, d: DecodedFrame, req: CtRequest, res: CtResult, now: number): void {
    if (now >= this.nextSweep) {
      this.sweep(now);
      this.nextSweep = now + this.sweepInterval;
    }
    res.rewritten = false;
    const zone = req.zone & 0xffff;
    const nat = req.nat !== CtNat.NONE;

    // process_one_fast: the packet's previous ct() in this zone found a connection and nothing rewrote it since.
    if (
      this.cacheResult === res &&
      this.cacheSlot >= 0 &&
      this.generation[this.cacheSlot] === this.cacheGen &&
      res.state === this.cacheState &&
      res.zone === zone &&
      !req.force &&
      (this.keys[this.cacheSlot * 2 * CT_KEY_WORDS + K_META]! & 0xffff) === zone
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
      return;
    }
    this.cacheSlot = -1;

    const bad = this.extractKey(frame, d, zone);
    if (bad >= 0) {
      this.counters[bad]!++;
      res.state = CtState.INV;
      this.writeMeta(res, zone, -1, false);
      return;
    }
    this.processOne(frame, d, req, res, zone, nat, now);
  }

  /** process_one (lib/conntrack.c): lookup, state update, commit, NAT, metadata. */
  private processOne(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult, zone: number, nat: boolean, now: number): void {
    // A new zone starts from a clean ct_state.
    if (res.state !== 0 && res.zone !== zone) res.state = 0;

    let e = this.initialLookup(!!(res.state & NAT_BITS), now);

    // force: a connection seen in the other direction is expired and this packet starts a new one.
    if (req.force && this.ctxReply && e >= 0) {
      if (this.lookupKey(this.keys, e * 2 * CT_KEY_WORDS, now) >= 0) this.forceExpire(e);
      e = -1;
    }

    let createNew = false;
    if (e >= 0) {
      createNew = this.updateState(frame, d, res, e, now);
      if (nat && !createNew) this.handleNat(frame, d, e, zone, this.ctxReply, this.ctxRelated, res);
    } else if (!nat && (e = this.checkOrigTuple(res, now)) >= 0) {
      createNew = this.updateState(frame, d, res, e, now);
    } else if (this.ctxRelated) {
      // No connection is ever created from an ICMP error.
      this.counters[CtReason.RELATED_NOT_FOUND]!++;
      res.state = CtState.INV;
    } else {
      createNew = true;
    }

    if (createNew) {
      e = -1;
      if (this.lookupKey(this.ck, 0, now) < 0) e = this.connNotFound(frame, d, req, res, now);
    }

    this.writeMeta(res, zone, e, true);
    if (e >= 0) {
      if (req.setMark) this.setMark(e, req, res);
      if (req.setLabel) this.setLabel(e, req, res);
    }
    if (!nat && e >= 0) {
      this.cacheResult = res;
      this.cacheSlot = e;
      this.cacheGen = this.generation[e]!;
      this.cacheReply = this.ctxReply;
      this.cacheRelated = this.ctxRelated;
      this.cacheState = res.state;
    }
  }

  /** initial_conn_lookup: a packet NATed by an earlier ct() in this zone is looked up by its reverse. */
  private initialLookup(natted: boolean, now: number): number {
    const ck = this.ck;
    if (natted) reverseKey(ck, 0);
    const n = this.lookupKey(ck, 0, now);
    this.ctxReply = n >= 0 && (n & 1) === 1;
    if (!natted) return n >= 0 ? n >> 1 : -1;
    if (n < 0) {
      reverseKey(ck, 0);
      return -1;
    }
    this.ctxReply = !this.ctxReply;
    const e = n >> 1;
    const from = (e * 2 + (this.ctxReply ? 1 : 0)) * CT_KEY_WORDS;
    for (let i = 0; i < CT_KEY_WORDS; i++) ck[i] = this.keys[from + i]!;
    return e;
  }

  /**
   * check_orig_tuple: a NATed packet whose reverse key finds nothing (it was rewritten since) is found by the
   * original tuple the previous ct() recorded in its metadata.
   */
  private checkOrigTuple(res: CtResult, now: number): number {
    if (!(res.state & NAT_BITS) || !res.hasOriginal || res.originalProto === 0) return -1;
    const tk = this.tk;
    const ck = this.ck;
    const v6 = (ck[K_META]! & V6_BIT) !== 0;
    if (v6) {
      for (let i = 0; i < 4; i++) {
        tk[K_SRC + i] = read32(res.originalSrc, i * 4);
        tk[K_DST + i] = read32(res.originalDst, i * 4);
      }
    } else {
      tk.fill(0, 0, 8);
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
    const n = this.lookupKey(tk, 0, now);
    return n >= 0 ? n >> 1 : -1;
  }

  /** conn_update_state: the per-protocol tracker's verdict as ct_state bits. Returns "create a new connection". */
  private updateState(frame: Uint8Array, d: DecodedFrame, res: CtResult, e: number, now: number): boolean {
    if (this.ctxRelated) {
      res.state |= CtState.REL;
      if (this.ctxReply) res.state |= CtState.RPL;
      return false;
    }
    const r = this.connUpdate(frame, d, e, this.ctxReply, now);
    switch (r) {
      case CtUpdate.VALID:
        res.state = (res.state | CtState.EST) & ~CtState.NEW;
        if (this.ctxReply) res.state |= CtState.RPL;
        return false;
      case CtUpdate.INVALID:
        res.state = CtState.INV;
        return false;
      case CtUpdate.NEW:
        if (this.lookupKey(this.keys, e * 2 * CT_KEY_WORDS, now) >= 0) this.forceExpire(e);
        return true;
      default:
        res.state |= CtState.NEW;
        return false;
    }
  }

  /** conn_update: dispatch to the protocol tracker; moves the expiration. */
  private connUpdate(frame: Uint8Array, d: DecodedFrame, e: number, reply: boolean, now: number): number {
    const kind = this.l4[e]!;
    if (kind === CtL4.TCP) {
      const l4 = d.l4Offset;
      const flags = read16(frame, l4 + 12) & 0xfff;
      if (tcpInvalidFlags(flags)) {
        this.counters[CtReason.TCP_FLAGS]!++;
        return CtUpdate.INVALID;
      }
      const payload = d.l3End - l4 - ((frame[l4 + 12]! >> 4) << 2);
      const r = tcpUpdate(this.tcp, e, reply, frame, l4, payload, this.seqCheck);
      const tm = (r >> 4) - 1;
      if (tm >= 0) this.expiration[e] = now + this.timeouts[tm]! * 1000;
      if ((r & 15) === CtUpdate.INVALID) this.counters[CtReason.TCP_WINDOW]!++;
      return r & 15;
    }
    if (kind === CtL4.OTHER) {
      // conntrack-other.c: FIRST → MULTIPLE on more original packets, BIDIR once a reply is seen.
      let s = this.l4State[e]!;
      if (reply && s !== 2) s = 2;
      else if (s === 0) s = 1;
      this.l4State[e] = s;
      this.expiration[e] = now + this.timeouts[s === 0 ? CtTimeout.OTHER_FIRST : s === 1 ? CtTimeout.OTHER_MULTIPLE : CtTimeout.OTHER_BIDIR]! * 1000;
      return s === 2 ? CtUpdate.VALID : CtUpdate.VALID_NEW;
    }
    // conntrack-icmp.c: FIRST until a reply, then REPLY.
    let r: number = CtUpdate.VALID;
    if (reply && this.l4State[e] === 0) this.l4State[e] = 1;
    else if (this.l4State[e] === 0) r = CtUpdate.VALID_NEW;
    this.expiration[e] = now + this.timeouts[this.l4State[e] === 0 ? CtTimeout.ICMP_FIRST : CtTimeout.ICMP_REPLY]! * 1000;
    return r;
  }

  /** conn_not_found: a packet without a connection is new (or invalid); on commit it creates one. */
  private connNotFound(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult, now: number): number {
    const ck = this.ck;
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
    if (!req.commit) return -1;

    if ((req.nat === CtNat.DNAT || req.nat === CtNat.SNAT) && req.natIpv6 !== ((ck[K_META]! & V6_BIT) !== 0)) {
      this.counters[CtReason.NAT_FAMILY]!++;
      return -1;
    }
    const zone = ck[K_META]! & 0xffff;
    const zl = this.zoneLimits.get(zone) ?? this.zoneLimits.get(DEFAULT_ZONE);
    if (zl && zl.count >= zl.limit) {
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
    const fwd = e * 2 * CT_KEY_WORDS;
    const rev = fwd + CT_KEY_WORDS;
    const keys = this.keys;
    for (let i = 0; i < CT_KEY_WORDS; i++) keys[fwd + i] = ck[i]!;
    for (let i = 0; i < CT_KEY_WORDS; i++) keys[rev + i] = ck[i]!;
    reverseKey(keys, rev);
    this.l4[e] = kind;
    this.l4State[e] = 0;
    this.mark[e] = 0;
    this.label.fill(0, e * 4, e * 4 + 4);
    this.natAction[e] = 0;
    if (kind === CtL4.TCP) {
      const l4 = d.l4Offset;
      tcpNewConn(this.tcp, e, frame, l4, d.l3End - l4 - ((frame[l4 + 12]! >> 4) << 2));
      this.expiration[e] = now + this.timeouts[CtTimeout.TCP_FIRST_PACKET]! * 1000;
    } else {
      this.expiration[e] = now + this.timeouts[kind === CtL4.OTHER ? CtTimeout.OTHER_FIRST : CtTimeout.ICMP_FIRST]! * 1000;
    }

    if (req.nat !== CtNat.NONE) {
      let act = 0;
      if (req.nat === CtNat.DNAT) act = DST | (req.natPortMin || req.natPortMax ? DST_PORT : 0);
      else if (req.nat === CtNat.SNAT) act = SRC | (req.natPortMin || req.natPortMax ? SRC_PORT : 0);
      this.natAction[e] = act;
      if (act && !this.natUniqueTuple(e, req, now)) {
        this.counters[CtReason.NAT_EXHAUSTED]!++;
        this.freeSlot(e);
        return -1;
      }
    }

    if (zl) {
      this.admitZone[e] = zl === this.zoneLimits.get(zone) ? zone : DEFAULT_ZONE;
      this.zoneSeq[e] = zl.seq;
      zl.count++;
    } else {
      this.admitZone[e] = INVALID_ZONE;
    }
    this.insertNode(e * 2);
    this.insertNode(e * 2 + 1);
    this.linkLive(e);
    this.nConns++;
    if (this.natAction[e]) this.natPacket(frame, d, e, false, this.ctxRelated, res);
    return e;
  }

  /** handle_nat: translate with the connection's NAT unless this zone already did. */
  private handleNat(frame: Uint8Array, d: DecodedFrame, e: number, zone: number, reply: boolean, related: boolean, res: CtResult): void {
    if (this.natAction[e] && (!(res.state & NAT_BITS) || zone !== res.zone)) {
      res.state &= ~NAT_BITS;
      this.natPacket(frame, d, e, reply, related, res);
    }
  }

  private readMarkLabel(e: number, res: CtResult): void {
    res.mark = this.mark[e]!;
    const l = e * 4;
    res.label[0] = this.label[l]!;
    res.label[1] = this.label[l + 1]!;
    res.label[2] = this.label[l + 2]!;
    res.label[3] = this.label[l + 3]!;
  }

  /** write_ct_md: tracked, zone, the connection's mark/label and original tuple (else the packet's own tuple). */
  private writeMeta(res: CtResult, zone: number, e: number, haveKey: boolean): void {
    res.tupleWritten = true;
    res.state |= CtState.TRK;
    res.zone = zone;
    if (e >= 0) {
      this.readMarkLabel(e, res);
    } else {
      res.mark = 0;
      res.label.fill(0);
    }
    if (e < 0 && !haveKey) {
      res.clearOriginal();
      return;
    }
    const k = e >= 0 ? this.keys : this.ck;
    const o = e >= 0 ? e * 2 * CT_KEY_WORDS : 0;
    const meta = k[o + K_META]!;
    const v6 = (meta & V6_BIT) !== 0;
    const proto = (meta >>> 16) & 0xff;
    res.hasOriginal = true;
    res.originalIpv6 = v6;
    if (v6) {
      for (let i = 0; i < 4; i++) {
        write32(res.originalSrc, i * 4, k[o + K_SRC + i]!);
        write32(res.originalDst, i * 4, k[o + K_DST + i]!);
      }
    } else {
      res.originalSrc.fill(0);
      res.originalDst.fill(0);
      write32(res.originalSrc, 0, k[o + K_SRC]!);
      write32(res.originalDst, 0, k[o + K_DST]!);
    }
    res.originalProto = proto;
    if ((proto === 1 && !v6) || (proto === 58 && v6)) {
      // OVS puts the ICMP type and code where the ports go.
      res.originalSrcPort = (k[o + K_SL4]! >>> 8) & 0xff;
      res.originalDstPort = k[o + K_SL4]! & 0xff;
    } else {
      res.originalSrcPort = k[o + K_SL4]! & 0xffff;
      res.originalDstPort = k[o + K_DL4]! & 0xffff;
    }
  }

  /** set_mark: `mark = value | (mark & ~mask)` (the value is expected within the mask, as OVS's flow parser ensures). */
  private setMark(e: number, req: CtRequest, res: CtResult): void {
    const m = ((req.markValue & req.markMask) | (res.mark & ~req.markMask)) >>> 0;
    res.mark = m;
    this.mark[e] = m;
  }

  private setLabel(e: number, req: CtRequest, res: CtResult): void {
    const l = e * 4;
    for (let i = 0; i < 4; i++) {
      const v = ((req.labelValue[i]! & req.labelMask[i]!) | (res.label[i]! & ~req.labelMask[i]!)) >>> 0;
      res.label[i] = v;
      this.label[l + i] = v;
    }
  }

  // ---------------------------------------------------------------- key extraction

  /**
   * conn_key_extract: the packet's key into `ck` (and, for an ICMP error, the embedded packet's key,
   * reversed, with `ctxRelated` set). Returns -1, or the {@link CtReason} that makes it untrackable.
   */
  private extractKey(frame: Uint8Array, d: DecodedFrame, zone: number): number {
    this.ctxRelated = false;
    this.ctxReply = false;
    const ck = this.ck;
    if (d.status !== DecodeStatus.OK) {
      return d.l3 === L3.IPV4 || d.l3 === L3.IPV6 ? (d.l3Offset >= 0 && d.ipHeaderLength > 0 ? CtReason.L4_UNTRACKABLE : CtReason.NOT_IP) : CtReason.NOT_IP;
    }
    const l3 = d.l3Offset;
    let v6 = 0;
    if (d.l3 === L3.IPV4) {
      if (d.ipFragment) return CtReason.FRAGMENT;
      if (this.validate && internetChecksum(frame, l3, d.ipHeaderLength) !== 0) return CtReason.L3_CHECKSUM;
      ck.fill(0, 0, 8);
      ck[K_SRC] = d.ipSrc;
      ck[K_DST] = d.ipDst;
    } else if (d.l3 === L3.IPV6) {
      if (d.ipFragment) return CtReason.FRAGMENT;
      for (let i = 0; i < 4; i++) {
        ck[K_SRC + i] = read32(frame, l3 + 8 + i * 4);
        ck[K_DST + i] = read32(frame, l3 + 24 + i * 4);
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
      if (this.validate) {
        const stored = read16(frame, l4 + (proto === 6 ? 16 : 6));
        // A UDP checksum of 0 over IPv4 means "none" (RFC 768).
        if (!(proto === 17 && !v6 && stored === 0) && !this.l4ChecksumOk(frame, d, l4, size, proto)) return CtReason.L4_CHECKSUM;
      }
      const sp = read16(frame, l4);
      const dp = read16(frame, l4 + 2);
      if (sp === 0 || dp === 0) return CtReason.L4_UNTRACKABLE;
      ck[K_SL4] = sp;
      ck[K_DL4] = dp;
      return -1;
    }
    if (proto === 1 && !v6) {
      if (l4 < 0 || size < 8) return CtReason.L4_UNTRACKABLE;
      if (this.validate && foldSum(sumWords(frame, l4, size)) !== 0xffff) return CtReason.L4_CHECKSUM;
      return this.extractIcmp4(frame, d, l4, size);
    }
    if (proto === 58 && v6) {
      if (l4 < 0 || size < 8) return CtReason.L4_UNTRACKABLE;
      if (this.validate && !this.l4ChecksumOk(frame, d, l4, size, proto)) return CtReason.L4_CHECKSUM;
      return this.extractIcmp6(frame, d, l4, size);
    }
    // Other protocols have no L4 key.
    return -1;
  }

  private l4ChecksumOk(frame: Uint8Array, d: DecodedFrame, l4: number, size: number, proto: number): boolean {
    const pseudo = d.l3 === L3.IPV4 ? pseudoHeaderSumV4(d.ipSrc, d.ipDst, proto, size) : pseudoHeaderSumV6(frame, d.l3Offset + 8, d.l3Offset + 24, proto, size);
    return foldSum(sumWords(frame, l4, size, pseudo)) === 0xffff;
  }

  /** extract_l4_icmp: echo-like messages key on id and type; errors key on the packet they carry. */
  private extractIcmp4(frame: Uint8Array, d: DecodedFrame, l4: number, size: number): number {
    const ck = this.ck;
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
    reverseKey(ck, 0);
    this.ctxRelated = true;
    this.innerL3 = il3;
    this.innerL4 = il4;
    return -1;
  }

  private extractIcmp6(frame: Uint8Array, d: DecodedFrame, l4: number, size: number): number {
    const ck = this.ck;
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
      ck[K_SRC + i] = read32(frame, il3 + 8 + i * 4);
      ck[K_DST + i] = read32(frame, il3 + 24 + i * 4);
    }
    const iproto = w.protocol;
    const il4 = w.upperOffset;
    ck[K_META] = (ck[K_META]! & (0xffff | V6_BIT)) | (iproto << 16);
    if (!this.extractInnerL4(frame, il4, tail - il4, iproto, true, 0)) return CtReason.L4_UNTRACKABLE;
    reverseKey(ck, 0);
    this.ctxRelated = true;
    this.innerL3 = il3;
    this.innerL4 = il4;
    return -1;
  }

  /** extract_l4 of an embedded packet (no checksum check, no further nesting). */
  private extractInnerL4(frame: Uint8Array, at: number, size: number, proto: number, v6: boolean, checkLen: number): boolean {
    const ck = this.ck;
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
    // The translated tuple to write: for the original direction the reply key (read backwards), for replies the original key.
    const ko = (e * 2 + (reply ? 0 : 1)) * CT_KEY_WORDS;
    const act = reply ? natReverse(this.natAction[e]!) : this.natAction[e]!;
    if (act & SRC) res.state |= CtState.SNAT;
    else if (act & DST) res.state |= CtState.DNAT;
    if (!(act & (SRC | DST))) return;
    res.rewritten = true;
    const proto = (keys[ko + K_META]! >>> 16) & 0xff;
    const l4size = d.l4Offset >= 0 ? d.l3End - d.l4Offset : 0;
    if (d.l3 === L3.IPV4) {
      if (act & SRC) rewriteIpv4Address(frame, d, 12, keys[ko + K_DST]!);
      else rewriteIpv4Address(frame, d, 16, keys[ko + K_SRC]!);
    } else if (act & SRC) {
      // OVS adjusts the L4 checksum of the connection's protocol — for an ICMPv6 error, that of the embedded
      // packet, at its offset in the ICMPv6 message (lib/conntrack.c v3.1.0 nat_packet_ipv6).
      this.setIpv6Addr(frame, d.l3Offset + 8, d.l4Offset, l4size, proto, keys, ko + K_DST);
    } else {
      this.setIpv6Addr(frame, d.l3Offset + 24, d.l4Offset, l4size, proto, keys, ko + K_SRC);
    }
    if (related) this.natInner(frame, d, ko, proto, natReverse(act));
    else this.setPorts(frame, d.l4Offset, proto, keys[ko + K_DL4]! & 0xffff, keys[ko + K_SL4]! & 0xffff, d);
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
    if (d) {
      d.srcPort = sport;
      d.dstPort = dport;
    }
  }

  /**
   * Writes an IPv6 address (4 words of `words` at `wo`) at `addrOff`, adjusting the checksum `proto` would
   * have at `l4` when the segment is long enough (packet_set_ipv6_addr / packet_update_csum128).
   */
  private setIpv6Addr(frame: Uint8Array, addrOff: number, l4: number, l4size: number, proto: number, words: Uint32Array, wo: number): void {
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
        const now = words[wo + i]!;
        sum += (~(old >>> 16) & 0xffff) + (~old & 0xffff) + (now >>> 16) + (now & 0xffff);
      }
      const v = ~foldSum(sum) & 0xffff;
      write16(frame, at, proto === 17 && v === 0 ? 0xffff : v);
    }
    for (let i = 0; i < 4; i++) write32(frame, addrOff + i * 4, words[wo + i]!);
  }

  /**
   * nat_inner_packet: translate the packet inside an ICMP error (its ports, then its address, with its own
   * checksums adjusted where they lie inside the message), then recompute the ICMP checksum.
   */
  private natInner(frame: Uint8Array, d: DecodedFrame, ko: number, proto: number, act: number): void {
    const keys = this.keys;
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
      if (act & SRC) this.setIpv6Addr(frame, il3 + 8, il4, isize, proto, keys, ko + K_SRC);
      else this.setIpv6Addr(frame, il3 + 24, il4, isize, proto, keys, ko + K_DST);
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
   * random starts). Writes the reply key of slot `e`; false when every candidate is taken.
   */
  private natUniqueTuple(e: number, req: CtRequest, now: number): boolean {
    const keys = this.keys;
    const fwd = e * 2 * CT_KEY_WORDS;
    const rev = fwd + CT_KEY_WORDS;
    const act = this.natAction[e]!;
    const v6 = (keys[fwd + K_META]! & V6_BIT) !== 0;
    const proto = (keys[fwd + K_META]! >>> 16) & 0xff;
    const pat = proto === 6 || proto === 17;
    let minPort = req.natPortMin;
    let maxPort = req.natPortMax;
    if (minPort && !maxPort) maxPort = minPort;
    if (!minPort && maxPort) minPort = maxPort;

    let h = this.hashSeed;
    for (let i = 0; i < 4; i++) h = mix(h, read32(req.natAddrMin, i * 4));
    for (let i = 0; i < 4; i++) h = mix(h, read32(req.natAddrMax, i * 4));
    h = mix(h, (maxPort << 16) | minPort);
    for (let i = 0; i < CT_KEY_WORDS; i++) h = mix(h, keys[fwd + i]!);
    const hash = finish(h) >>> 0;

    // find_addr
    const a = this.addrScratch;
    const wordsOf = v6 ? 4 : 1;
    let zero = true;
    for (let i = 0; i < wordsOf * 4; i++) if (req.natAddrMin[i] !== 0) zero = false;
    if (zero) {
      const from = fwd + (act & SRC ? K_SRC : K_DST);
      for (let i = 0; i < 4; i++) a[i] = keys[from + i]!;
    } else if (!v6) {
      const min = read32(req.natAddrMin, 0);
      const max = read32(req.natAddrMax, 0);
      const range = ((max - min) >>> 0) + 1;
      a.fill(0);
      a[0] = (min + (hash % range)) >>> 0;
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
    const keySport = keys[fwd + K_SL4]! & 0xffff;
    const keyDport = keys[fwd + K_DL4]! & 0xffff;
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
      keys[rev + K_SL4] = dCurr;
      keys[rev + K_DL4] = sCurr;
    }
    const to = rev + (act & SRC ? K_DST : K_SRC);
    for (let i = 0; i < 4; i++) keys[to + i] = a[i]!;

    if (!pat) return this.lookupKey(keys, rev, now) < 0;
    let found = false;
    if (act & DST_PORT) found = this.uniquePort(rev, K_SL4, dCurr, dMin, dMax, now);
    if (!found) found = this.uniquePort(rev, K_DL4, sCurr, sMin, sMax, now);
    return found;
  }

  /** nat_get_unique_l4: walk the port range from `curr` for a reply tuple no connection uses. */
  private uniquePort(ko: number, field: number, curr: number, min: number, max: number, now: number): boolean {
    const keys = this.keys;
    const range = (max - min + 1) & 0xffff;
    let attempts = Math.min(range, 128);
    const orig = curr;
    for (;;) {
      let i = 0;
      const inRange = curr >= min && curr <= max;
      let n = (inRange ? max - min + 1 : max - min + 2) & 0xffff;
      for (; n > 0; n--) {
        if (i++ >= attempts) break;
        keys[ko + field] = curr;
        if (this.lookupKey(keys, ko, now) < 0) return true;
        curr = curr < min || curr > max || curr === max ? min : curr + 1;
      }
      if (attempts < range && attempts >= 16) {
        attempts = attempts >> 1;
        curr = min + (this.random() % range);
        continue;
      }
      keys[ko + field] = orig;
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

  private hashAt(k: Uint32Array, o: number): number {
    // IPv4 keys leave address words 1–3 zero: hash only the words that can differ.
    const meta = k[o + K_META]!;
    let h = mix(this.hashSeed, meta);
    h = mix(h, k[o + K_SRC]!);
    h = mix(h, k[o + K_DST]!);
    h = mix(h, k[o + K_SL4]!);
    h = mix(h, k[o + K_DL4]!);
    if (meta & V6_BIT) {
      for (let i = 1; i < 4; i++) {
        h = mix(h, k[o + K_SRC + i]!);
        h = mix(h, k[o + K_DST + i]!);
      }
    }
    return finish(h);
  }

  /** The live node (`slot * 2 + direction`) whose key equals `k[o…]`, or -1. Expired connections are skipped. */
  private lookupKey(k: Uint32Array, o: number, now: number): number {
    const h = this.hashAt(k, o);
    const keys = this.keys;
    for (let n = this.buckets[h & this.bucketMask]!; n >= 0; n = this.chain[n]!) {
      if (this.nodeHash[n] !== h) continue;
      const e = n >> 1;
      if (now >= this.expiration[e]!) continue;
      const b = n * CT_KEY_WORDS;
      if (keys[b + K_META] !== k[o + K_META] || keys[b + K_SL4] !== k[o + K_SL4] || keys[b + K_DL4] !== k[o + K_DL4]) continue;
      let i = 0;
      while (i < 8 && keys[b + i] === k[o + i]) i++;
      if (i < 8) continue;
      // OVS compares the original key first: a connection whose two keys are equal matches as original.
      if (n & 1) {
        const f = e * 2 * CT_KEY_WORDS;
        let j = 0;
        while (j < CT_KEY_WORDS && keys[f + j] === k[o + j]) j++;
        if (j === CT_KEY_WORDS) return n - 1;
      }
      return n;
    }
    return -1;
  }

  private insertNode(n: number): void {
    const h = this.hashAt(this.keys, n * CT_KEY_WORDS);
    this.nodeHash[n] = h;
    const b = h & this.bucketMask;
    this.chain[n] = this.buckets[b]!;
    this.buckets[b] = n;
  }

  private removeNode(n: number): void {
    const b = this.nodeHash[n]! & this.bucketMask;
    let p = this.buckets[b]!;
    if (p === n) {
      this.buckets[b] = this.chain[n]!;
      return;
    }
    while (p >= 0) {
      const next = this.chain[p]!;
      if (next === n) {
        this.chain[p] = this.chain[n]!;
        return;
      }
      p = next;
    }
  }

  private linkLive(e: number): void {
    this.livePrev[e] = -1;
    this.liveNext[e] = this.liveHead;
    if (this.liveHead >= 0) this.livePrev[this.liveHead] = e;
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
      this.grow(Math.min(this.maxConns, this.capacity * 2));
    }
    return this.used++;
  }

  /** Returns a slot that was never inserted (NAT exhaustion) to the free list. */
  private freeSlot(e: number): void {
    this.generation[e] = (this.generation[e]! + 1) >>> 0;
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
    const az = this.admitZone[e]!;
    if (az !== INVALID_ZONE) {
      const zl = this.zoneLimits.get(az);
      if (zl && zl.seq === this.zoneSeq[e]) zl.count--;
    }
    this.nConns--;
    this.counters[reason]!++;
    this.freeSlot(e);
  }

  private forceExpire(e: number): void {
    if (this.expiration[e] !== 0) this.counters[CtReason.FORCE_EXPIRED]!++;
    this.expiration[e] = 0;
  }

  private grow(cap: number): void {
    const old = this.capacity;
    const W = CT_KEY_WORDS;
    const g = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(a: T, per: number, make: (n: number) => T): T => {
      const b = make(cap * per);
      b.set(a.subarray(0, old * per) as never);
      return b;
    };
    this.keys = g(this.keys, 2 * W, (n) => new Uint32Array(n));
    this.chain = g(this.chain, 2, (n) => new Int32Array(n));
    this.nodeHash = g(this.nodeHash, 2, (n) => new Int32Array(n));
    this.expiration = g(this.expiration, 1, (n) => new Float64Array(n));
    this.l4 = g(this.l4, 1, (n) => new Uint8Array(n));
    this.l4State = g(this.l4State, 1, (n) => new Uint8Array(n));
    this.natAction = g(this.natAction, 1, (n) => new Uint8Array(n));
    this.mark = g(this.mark, 1, (n) => new Uint32Array(n));
    this.label = g(this.label, 4, (n) => new Uint32Array(n));
    this.admitZone = g(this.admitZone, 1, (n) => new Int32Array(n));
    this.zoneSeq = g(this.zoneSeq, 1, (n) => new Uint32Array(n));
    this.generation = g(this.generation, 1, (n) => new Uint32Array(n));
    this.liveNext = g(this.liveNext, 1, (n) => new Int32Array(n));
    this.livePrev = g(this.livePrev, 1, (n) => new Int32Array(n));
    this.tcp = growTcpPeers(this.tcp, cap, old);
    this.capacity = cap;
    const nb = bucketCount(cap);
    this.buckets = new Int32Array(nb).fill(-1);
    this.bucketMask = nb - 1;
    for (let e = this.liveHead; e >= 0; e = this.liveNext[e]!) {
      for (let dir = 0; dir < 2; dir++) {
        const n = e * 2 + dir;
        const b = this.nodeHash[n]! & this.bucketMask;
        this.chain[n] = this.buckets[b]!;
        this.buckets[b] = n;
      }
    }
  }

  /** Removes every connection expired at `now` (OVS's clean thread, `ct_sweep`). Returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (let e = this.liveHead; e >= 0; ) {
      const next = this.liveNext[e]!;
      if (now >= this.expiration[e]!) {
        this.removeConn(e, CtReason.EXPIRED);
        n++;
      }
      e = next;
    }
    return n;
  }

  /** Removes every connection, or those of one zone (`dpctl/flush-conntrack [zone=N]`). */
  flush(zone?: number): number {
    let n = 0;
    for (let e = this.liveHead; e >= 0; ) {
      const next = this.liveNext[e]!;
      if (zone === undefined || (this.keys[e * 2 * CT_KEY_WORDS + K_META]! & 0xffff) === zone) {
        this.removeConn(e, CtReason.FLUSHED);
        n++;
      }
      e = next;
    }
    return n;
  }

  /** The live (unexpired) connections at `now`, optionally of one zone — for dumps, traces and tests. */
  connections(now: number, zone?: number): CtConnectionInfo[] {
    const out: CtConnectionInfo[] = [];
    for (let e = this.liveHead; e >= 0; e = this.liveNext[e]!) {
      if (now >= this.expiration[e]!) continue;
      const fwd = e * 2 * CT_KEY_WORDS;
      const z = this.keys[fwd + K_META]! & 0xffff;
      if (zone !== undefined && z !== zone) continue;
      out.push(this.info(e, now));
    }
    return out;
  }

  private info(e: number, now: number): CtConnectionInfo {
    const keys = this.keys;
    const fwd = e * 2 * CT_KEY_WORDS;
    const meta = keys[fwd + K_META]!;
    const v6 = (meta & V6_BIT) !== 0;
    const proto = (meta >>> 16) & 0xff;
    const icmp = (proto === 1 && !v6) || (proto === 58 && v6);
    const tuple = (o: number): CtTupleInfo => {
      const t: CtTupleInfo = { src: addrText(keys, o + K_SRC, v6), dst: addrText(keys, o + K_DST, v6), sport: 0, dport: 0 };
      if (icmp) {
        t.icmpId = keys[o + K_SL4]! >>> 16;
        t.icmpType = (keys[o + K_SL4]! >>> 8) & 0xff;
        t.icmpCode = keys[o + K_SL4]! & 0xff;
      } else {
        t.sport = keys[o + K_SL4]! & 0xffff;
        t.dport = keys[o + K_DL4]! & 0xffff;
      }
      return t;
    };
    const nat = this.natAction[e]!;
    const info: CtConnectionInfo = {
      zone: meta & 0xffff,
      ipv6: v6,
      proto,
      orig: tuple(fwd),
      reply: tuple(fwd + CT_KEY_WORDS),
      mark: this.mark[e]!,
      label: [this.label[e * 4]!, this.label[e * 4 + 1]!, this.label[e * 4 + 2]!, this.label[e * 4 + 3]!],
      nat: nat & SRC ? 'src' : nat & DST ? 'dst' : undefined,
      timeout: Math.max(0, Math.floor((this.expiration[e]! - now) / 1000)),
      slot: e,
    };
    if (this.l4[e] === CtL4.TCP) {
      info.tcpStateOrig = TCP_NAMES[this.tcp.state[e * 2]!];
      info.tcpStateReply = TCP_NAMES[this.tcp.state[e * 2 + 1]!];
    }
    return info;
  }

  /** The raw TCP peer states of a connection slot (tests). */
  tcpStates(slot: number): [number, number] {
    return [this.tcp.state[slot * 2]!, this.tcp.state[slot * 2 + 1]!];
  }

  /**
   * The table as `ovs-appctl dpctl/dump-conntrack` prints it (lib/ct-dpif.c `ct_dpif_format_entry`, not verbose;
   * `stats` adds `timeout=` as `-s` does), one line per live connection, sorted.
   */
  formatDump(now: number, options: { zone?: number; stats?: boolean } = {}): string[] {
    return this.connections(now, options.zone)
      .map((c) => formatConnection(c, options.stats ?? false))
      .sort();
  }
}

const TCP_NAMES: readonly string[] = ['CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT_1', 'CLOSING', 'LAST_ACK', 'FIN_WAIT_2', 'TIME_WAIT'];

function adjust32(sum: number, oldValue: number, newValue: number): number {
  const s = (~sum & 0xffff) + (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) + (newValue >>> 16) + (newValue & 0xffff);
  return ~foldSum(s) & 0xffff;
}

function bucketCount(cap: number): number {
  let n = 16;
  while (n < cap * 2) n *= 2;
  return n;
}

function l4Kind(proto: number): number {
  if (proto === 6) return CtL4.TCP;
  if (proto === 1) return CtL4.ICMP4;
  if (proto === 58) return CtL4.ICMP6;
  return CtL4.OTHER;
}

/** conn_key_reverse: swap the endpoints of the key at `k[o…]`. */
function reverseKey(k: Uint32Array, o: number): void {
  for (let i = 0; i < 4; i++) {
    const t = k[o + K_SRC + i]!;
    k[o + K_SRC + i] = k[o + K_DST + i]!;
    k[o + K_DST + i] = t;
  }
  const t = k[o + K_SL4]!;
  k[o + K_SL4] = k[o + K_DL4]!;
  k[o + K_DL4] = t;
}

function addrText(k: Uint32Array, o: number, v6: boolean): string {
  if (!v6) {
    const a = k[o]!;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  }
  // Output only (dump lines): one small buffer per call is fine. inet_ntop's text, as OVS prints, is RFC 5952's.
  const b = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const x = k[o + i]!;
    b[4 * i] = x >>> 24;
    b[4 * i + 1] = (x >>> 16) & 255;
    b[4 * i + 2] = (x >>> 8) & 255;
    b[4 * i + 3] = x & 255;
  }
  return formatIPv6(b, 0);
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 58: 'icmpv6', 6: 'tcp', 17: 'udp', 132: 'sctp', 136: 'udplite', 33: 'dccp', 2: 'igmp' };

function formatTuple(t: CtTupleInfo, icmp: boolean): string {
  const l4 = icmp ? `,id=${t.icmpId},type=${t.icmpType},code=${t.icmpCode}` : `,sport=${t.sport},dport=${t.dport}`;
  return `src=${t.src},dst=${t.dst}${l4}`;
}

/** One connection as `dpctl/dump-conntrack` prints it. */
export function formatConnection(c: CtConnectionInfo, stats = false): string {
  const icmp = (c.proto === 1 && !c.ipv6) || (c.proto === 58 && c.ipv6);
  let s = `${PROTO_NAMES[c.proto] ?? String(c.proto)},orig=(${formatTuple(c.orig, icmp)}),reply=(${formatTuple(c.reply, icmp)})`;
  if (c.zone) s += `,zone=${c.zone}`;
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
  if (c.tcpStateOrig !== undefined) {
    const order = TCP_NAMES;
    let st = Math.max(order.indexOf(c.tcpStateOrig), order.indexOf(c.tcpStateReply!));
    // coalesce_tcp_state: printed as the kernel would name it.
    if (st === 9) st = 10;
    else if (st === 3) st = 4;
    s += `,protoinfo=(state=${order[st]})`;
  }
  return s;
}


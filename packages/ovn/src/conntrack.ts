/**
 * Connection tracking as OVN uses it: one table per (chassis, zone), each entry an original and a reply
 * tuple, optionally with the DNAT that `ct_lb_mark(backends=…)` committed. Lookups key on numbers (a hash
 * of the 5-tuple with an equality check), time is simulated (ms), the table is bounded and evicts the
 * least recently seen entry when full (counted). Timeouts are Linux nf_conntrack's defaults
 * (net/netfilter/nf_conntrack_proto_{tcp,udp,icmp}.c): TCP SYN_SENT 120 s, ESTABLISHED 5 days, FIN/close
 * states 120 s; UDP 30 s, 120 s once replied; ICMP 30 s.
 */

/** A connection's endpoints: protocol, source and destination (IPv4 as uint32) and ports (ICMP: id, 0). */
export interface Tuple {
  /** IP protocol; IPv6 connections carry 0x100 on top, so the two families never share a key. */
  proto: number;
  src: number;
  sport: number;
  dst: number;
  dport: number;
}

/** TCP state as conntrack sees it (simplified to the states that change timeouts). */
export type TcpState = 'syn_sent' | 'syn_recv' | 'established' | 'fin_wait' | 'close';

/** One tracked connection. */
export interface CtEntry {
  orig: Tuple;
  /** The tuple replies carry: after DNAT, from the backend back to the client. */
  reply: Tuple;
  /** Destination NAT applied to the original direction, if committed by a load balancer. */
  dnat?: { ip: number; port: number } | undefined;
  tcp?: TcpState | undefined;
  replied: boolean;
  created: number;
  lastSeen: number;
  /** Set when the entry leaves the table (expired, evicted, removed). */
  dead?: boolean;
  /** The zone's least-recently-used list (intrusive: no allocation, no holes to skip). */
  older?: CtEntry | undefined;
  newer?: CtEntry | undefined;
}

/** What `ct` found for a packet. */
export interface CtLookup {
  entry: CtEntry | undefined;
  /** True when the packet travels in the reply direction. */
  reply: boolean;
}

const MS = 1000;
const TIMEOUTS = {
  tcp: { syn_sent: 120 * MS, syn_recv: 60 * MS, established: 432_000 * MS, fin_wait: 120 * MS, close: 10 * MS },
  udp: { unreplied: 30 * MS, replied: 120 * MS },
  icmp: 30 * MS,
  other: 600 * MS,
} as const;

function hashTuple(t: Tuple): number {
  let h = Math.imul(t.proto ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ t.src, 0xc2b2ae35);
  h = Math.imul(h ^ t.dst, 0x85ebca6b);
  h = Math.imul(h ^ ((t.sport << 16) | t.dport), 0xc2b2ae35);
  return (h ^ (h >>> 13)) >>> 0;
}

function same(a: Tuple, b: Tuple): boolean {
  return a.proto === b.proto && a.src === b.src && a.dst === b.dst && a.sport === b.sport && a.dport === b.dport;
}

/** One conntrack zone. */
export class Conntrack {
  private readonly byHash = new Map<number, Array<{ entry: CtEntry; reply: boolean }>>();
  /** Entries by last use: `oldest` … `newest`, linked through the entries; touching moves one to the end. */
  private oldest: CtEntry | undefined;
  private newest: CtEntry | undefined;
  private count = 0;
  /** Bumped on every insert and removal: a cached "no entry here" is void once it changes. */
  version = 0;
  /** Entries evicted because the table was full. */
  evictions = 0;
  /** Entries removed because they timed out. */
  expirations = 0;

  constructor(readonly limit = 65536) {}

  get size(): number {
    return this.count;
  }

  /** How long `e` may stay idle in its current state (Linux's nf_conntrack timeouts), ms. */
  timeoutOf(e: CtEntry): number {
    const proto = e.orig.proto & 0xff;
    if (proto === 6) return TIMEOUTS.tcp[e.tcp ?? 'syn_sent'];
    if (proto === 17) return e.replied ? TIMEOUTS.udp.replied : TIMEOUTS.udp.unreplied;
    if (proto === 1 || proto === 58) return TIMEOUTS.icmp;
    return TIMEOUTS.other;
  }

  /** Finds the connection a packet belongs to (either direction), expiring it first if it timed out. */
  lookup(t: Tuple, now: number): CtLookup {
    const list = this.byHash.get(hashTuple(t));
    if (list) {
      for (const item of list) {
        if (!same(item.reply ? item.entry.reply : item.entry.orig, t)) continue;
        if (now - item.entry.lastSeen > this.timeoutOf(item.entry)) {
          this.remove(item.entry);
          this.expirations++;
          return { entry: undefined, reply: false };
        }
        return { entry: item.entry, reply: item.reply };
      }
    }
    return { entry: undefined, reply: false };
  }

  /** Records a packet of a known connection: last-seen time, replied flag, TCP state. */
  touch(e: CtEntry, reply: boolean, tcpFlags: number, now: number): void {
    e.lastSeen = now;
    if (this.newest !== e) {
      this.unlink(e);
      this.append(e);
    }
    if (reply) e.replied = true;
    if ((e.orig.proto & 0xff) !== 6) return;
    const syn = (tcpFlags & 0x02) !== 0;
    const ack = (tcpFlags & 0x10) !== 0;
    if (tcpFlags & 0x04) e.tcp = 'close';
    else if (tcpFlags & 0x01) e.tcp = 'fin_wait';
    else if (reply && syn && ack && e.tcp === 'syn_sent') e.tcp = 'syn_recv';
    else if (!reply && ack && e.tcp === 'syn_recv') e.tcp = 'established';
    else if (ack && !syn && e.tcp !== 'fin_wait' && e.tcp !== 'close' && e.replied) e.tcp = 'established';
  }

  /**
   * Commits a new connection (`ct(commit)`), with DNAT when given and, for a hairpin, the source NAT to the
   * VIP (`ct_snat_to_vip`). Evicts the stalest entry when full.
   */
  commit(orig: Tuple, dnat: { ip: number; port: number } | undefined, now: number, snat?: number): CtEntry {
    if (this.count >= this.limit) this.evictOldest();
    const reply: Tuple = {
      proto: orig.proto,
      src: dnat ? dnat.ip : orig.dst,
      sport: dnat ? dnat.port : orig.dport,
      dst: snat ?? orig.src,
      dport: orig.sport,
    };
    // One object shape for every entry (optional fields present as undefined) keeps property access fast.
    const entry: CtEntry = {
      orig: { proto: orig.proto, src: orig.src, sport: orig.sport, dst: orig.dst, dport: orig.dport },
      reply, replied: false, created: now, lastSeen: now, dnat, tcp: (orig.proto & 0xff) === 6 ? 'syn_sent' : undefined, dead: false, older: undefined, newer: undefined,
    };
    this.insert(entry.orig, entry, false);
    this.insert(entry.reply, entry, true);
    this.append(entry);
    this.count++;
    this.version++;
    return entry;
  }

  private insert(t: Tuple, entry: CtEntry, reply: boolean): void {
    const h = hashTuple(t);
    const list = this.byHash.get(h);
    if (list) list.push({ entry, reply });
    else this.byHash.set(h, [{ entry, reply }]);
  }

  private removeTuple(t: Tuple, entry: CtEntry): void {
    const h = hashTuple(t);
    const list = this.byHash.get(h);
    if (!list) return;
    const i = list.findIndex((x) => x.entry === entry);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byHash.delete(h);
  }

  remove(entry: CtEntry): void {
    if (entry.dead) return;
    this.removeTuple(entry.orig, entry);
    this.removeTuple(entry.reply, entry);
    this.unlink(entry);
    entry.dead = true;
    this.count--;
    this.version++;
  }

  /** Evicts the least recently used entry (the stalest lastSeen: simulated time only moves forward). */
  private append(e: CtEntry): void {
    e.older = this.newest;
    e.newer = undefined;
    if (this.newest) this.newest.newer = e;
    else this.oldest = e;
    this.newest = e;
  }

  private unlink(e: CtEntry): void {
    if (e.older) e.older.newer = e.newer;
    else if (this.oldest === e) this.oldest = e.newer;
    if (e.newer) e.newer.older = e.older;
    else if (this.newest === e) this.newest = e.older;
    e.older = undefined;
    e.newer = undefined;
  }

  private evictOldest(): void {
    const oldest = this.oldest;
    if (oldest) {
      this.remove(oldest);
      this.evictions++;
    }
  }

  /** Every entry (for reports and invariants). */
  entries(): CtEntry[] {
    const out: CtEntry[] = [];
    for (const list of this.byHash.values()) for (const x of list) if (!x.reply) out.push(x.entry);
    return out;
  }
}

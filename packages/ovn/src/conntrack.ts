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
  dnat?: { ip: number; port: number };
  tcp?: TcpState;
  replied: boolean;
  created: number;
  lastSeen: number;
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
  private count = 0;
  /** Entries evicted because the table was full. */
  evictions = 0;
  /** Entries removed because they timed out. */
  expirations = 0;

  constructor(readonly limit = 65536) {}

  get size(): number {
    return this.count;
  }

  private timeout(e: CtEntry): number {
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
        if (now - item.entry.lastSeen > this.timeout(item.entry)) {
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
    const entry: CtEntry = { orig: { ...orig }, reply, replied: false, created: now, lastSeen: now, ...(dnat ? { dnat } : {}), ...((orig.proto & 0xff) === 6 ? { tcp: 'syn_sent' as TcpState } : {}) };
    this.insert(entry.orig, entry, false);
    this.insert(entry.reply, entry, true);
    this.count++;
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
    this.removeTuple(entry.orig, entry);
    this.removeTuple(entry.reply, entry);
    this.count--;
  }

  private evictOldest(): void {
    let oldest: CtEntry | undefined;
    for (const list of this.byHash.values()) for (const x of list) if (!x.reply && (!oldest || x.entry.lastSeen < oldest.lastSeen)) oldest = x.entry;
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

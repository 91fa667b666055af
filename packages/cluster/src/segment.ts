/**
 * The physical segment: a learning switch carrying the cluster's VLAN (and any other) between the outside and
 * every node's NIC. It learns per VLAN (independent VLAN learning, as ovs-vswitchd's NORMAL does), ages an entry
 * from when its MAC was last seen, and forgets the oldest when full (counted). Where a frame goes is decided
 * here; carrying it to the NICs is the datapath's. The tables are keyed by the MAC as a 48-bit number
 * (int-lru.ts: no Map, no boxed key per lookup — a wire seeing new clients turns its table over all the time).
 */
import { IntLruTable } from './int-lru.js';

export class WireSegment {
  /** The MAC table of the cluster's VLAN (every cached flow's). */
  readonly fdb: IntLruTable<string>;
  /** The MAC tables of the other VLANs (0: untagged), made when a frame of that VLAN first crosses. */
  private readonly otherFdbs = new Map<number, IntLruTable<string>>();
  private readonly floods = new Map<string, string[]>();
  /** Bumped whenever a MAC is learned on a new port or forgotten: cached decisions that checked the table hold while it stays. */
  changes = 0;

  constructor(readonly vlan: number, readonly limit: number, private readonly ports: readonly string[]) {
    this.fdb = new IntLruTable(limit);
  }

  /** MAC addresses forgotten because a table was full. */
  get evictions(): number {
    let n = this.fdb.evictions;
    for (const t of this.otherFdbs.values()) n += t.evictions;
    return n;
  }

  /** MAC addresses known now (over every VLAN). */
  get size(): number {
    let n = this.fdb.size;
    for (const t of this.otherFdbs.values()) n += t.size;
    return n;
  }

  /**
   * The MAC table of a frame's VLAN: the outer 802.1Q tag's VID, 0 when untagged. (802.1ad outer tags count as
   * untagged: a C-VLAN switch does not parse them.)
   */
  tableOf(frame: Uint8Array): IntLruTable<string> {
    const vid = frame[12] === 0x81 && frame[13] === 0 && frame.length >= 16 ? ((frame[14]! & 0x0f) << 8) | frame[15]! : 0;
    if (vid === this.vlan) return this.fdb;
    let t = this.otherFdbs.get(vid);
    if (!t) this.otherFdbs.set(vid, (t = new IntLruTable(this.limit)));
    return t;
  }

  learn(table: IntLruTable<string>, mac: number, port: string): void {
    // A switch ages an entry from when its MAC was last seen, not first learned: a busy sender (the node that
    // answers every ARP) must not be the one forgotten when the table fills with new clients.
    if (table.touchIf(mac, port)) return;
    this.changes++;
    table.set(mac, port);
  }

  /** Every port but `from`: where a broadcast or unknown destination goes (one list per port, made once). */
  floodFrom(from: string): string[] {
    let list = this.floods.get(from);
    if (!list) this.floods.set(from, (list = this.ports.filter((t) => t !== from)));
    return list;
  }

  /** The link of `port` went down: the MACs learned there are forgotten. */
  forgetPort(port: string): void {
    let forgotten = this.fdb.deleteWhere((p) => p === port);
    for (const t of this.otherFdbs.values()) forgotten += t.deleteWhere((p) => p === port);
    if (forgotten) this.changes++;
  }
}

/**
 * The simulation's flow cache, in the spirit of OVS's exact-match cache: the first packet of a flow runs every
 * stage; what it did up to the OVN switch is compiled into an entry — the bytes to rewrite, the counters to
 * credit — and later packets of the same flow replay that entry, then run the switch (its logical flows, with the
 * chassis' conntrack) and everything after it for real.
 *
 * Only a pure TCP ACK from the outside that the wire sends to one node and br-provider's own rule sends to the
 * patch port (no NORMAL, no learning, nothing else on the way) makes an entry. An entry is used only while every
 * fact it rests on still holds — the wire's MAC table, the bridge's version, the simulation's generation — so a
 * cached packet's counters, conntrack state and delivered bytes are those of an uncached one (a property test
 * checks it). The switch is not replayed: its conntrack calls (OVS's TCP tracking, timeouts, NAT) change state
 * an entry could only reproduce by making them. */
import type { DropCode } from './drops.js';
import type { Bridge, BridgeEffects } from '@vippath/openflow';
import type { ResponderDrop, Speaker } from '@vippath/metallb';
import type { NodePath } from './datapath.js';
import { LruTable } from './lru.js';
import type { TraceStep } from './outputs.js';

/** A compiled flow. */
export interface CacheEntry {
  // The key: every header field the full path looked at, plus the frame's length. MACs as 16 + 32 bits (small
  // integers to V8: no boxing), and as 48-bit numbers for the wire's table.
  srcHi: number;
  srcLo: number;
  dstHi: number;
  dstLo: number;
  srcMac: number;
  dstMac: number;
  tci: number;
  ipSrc: number;
  ipDst: number;
  ports: number;
  flags: number;
  length: number;
  // What it rests on.
  generation: number;
  /** The wire's change counter when the facts below were last checked: unchanged ⇒ still true. */
  fdbStamp: number;
  node: string;
  /** The node's path, whose switch hop a hit resumes at. */
  path: NodePath;
  bridge: Bridge;
  bridgeVersion: number;
  // What it does up to the switch; the switch and what follows run for real.
  stageDelta: Int32Array;
  edgeIds: Int32Array;
  edgeDelta: Int32Array;
  /** br-provider's effects up to the switch (its own rules' statistics; no NORMAL), replayed by the bridge. */
  effects: BridgeEffects;
  dstMacBytes: Uint8Array;
  /** Where the frame came from into the switch, and at what depth (for the switch's own hop). */
  from: string;
  depth: number;
  hits: number;
  /** The steps the full path recorded up to the switch (when it was traced): a cached packet's trace starts with them. */
  stages: TraceStep[] | undefined;
}

/**
 * A cached ARP request for an announced VIP from the outside: flooded to every node, answered by the owner's
 * speaker, ignored elsewhere. Its effects are refreshes of MAC entries the bridges already hold, counters
 * (flows, speakers' drop reasons, stages, edges, drops) and the owner's reply, whose bytes depend only on the
 * request's first 46 bytes (the key, compared in full).
 */
export interface ArpEntry {
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

/** Entries by a hash of the key; collisions are compared field by field. */
export class FlowCache {
  private readonly table: LruTable<number, CacheEntry>;
  hits = 0;
  misses = 0;
  /** Entries refused because a fact they rested on changed (replaced by the next full-path packet). */
  stale = 0;

  constructor(readonly limit = 65536) {
    this.table = new LruTable(limit);
  }

  get size(): number {
    return this.table.size;
  }

  static hash(srcLo: number, dstLo: number, ipSrc: number, ipDst: number, ports: number, flags: number): number {
    let h = Math.imul(srcLo ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ dstLo, 0xc2b2ae35);
    h = Math.imul(h ^ ipSrc, 0x85ebca6b);
    h = Math.imul(h ^ ipDst, 0xc2b2ae35);
    h = Math.imul(h ^ ports, 0x85ebca6b);
    h = Math.imul(h ^ flags, 0xc2b2ae35);
    return (h ^ (h >>> 15)) | 0;
  }

  get(hash: number): CacheEntry | undefined {
    return this.table.get(hash);
  }

  set(hash: number, entry: CacheEntry): void {
    this.table.set(hash, entry);
  }

  delete(hash: number): void {
    this.table.delete(hash);
  }
}

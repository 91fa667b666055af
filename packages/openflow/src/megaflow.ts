/**
 * br-provider's megaflow cache: what ovs-vswitchd's datapath flow table is to its OpenFlow tables. A packet that
 * misses is translated as before while the bridge accumulates wildcards — the masks of every classifier subtable
 * it probed and the fields NORMAL read (ofproto/ofproto-dpif-xlate.c, `ctx->wc`) — and the translation becomes an
 * entry: the packet's key under those masks → the datapath actions (byte edits, outputs) and what to credit (the
 * rules' statistics, NORMAL's MAC refreshes: OVS's xlate cache, XC_RULE / XC_NORMAL). Entries are grouped by mask
 * (lib/dpif-netdev.c's dpcls subtables, each a hash on the masked key), so a lookup costs one hash per distinct
 * mask, whatever the number of flows.
 *
 * The key is the classifier's key under the mask, plus two words always matched exactly, as OVS always matches
 * in_port, dl_type and nw_frag (xlate_wc_init): in_port with dl_type, and the frame's layout — the decoder's facts
 * the actions branch on (L3 kind, VLAN tag count, whether there is an L4 header, the IP protocol) with the second
 * VLAN tag (what a pop exposes). Hashes are kept to 30 bits: small integers, which a Map takes without boxing.
 * @module
 */
import type { Action } from './actions.js';
import type { Flow } from './flow.js';
import { Slot } from './key.js';
import type { MacSlot, MacTable } from './mac-table.js';

/** Key words matched exactly in every megaflow (folded into {@link MfEntry.w0}), never part of a mask. */
export function alwaysExact(slot: number): boolean {
  return slot === Slot.IN_PORT || slot === Slot.DL_TYPE;
}

/** The datapath actions an entry replays on the packet, in order (three words each: op, a, b). */
export const MfOp = {
  /** A header rewrite: `actions[i]`, run as the slow path ran it (checksums follow the packet's own bytes). */
  SET: 0,
  /** push_vlan with TPID a (the tag copies the outer TCI, as the action does). */
  PUSH_VLAN: 1,
  POP_VLAN: 2,
  /** The outer TCI written as a (a load/move into vlan_tci on a tagged packet). */
  WRITE_TCI: 3,
  /** A tag with TCI a pushed (a load/move into vlan_tci on an untagged packet). */
  PUSH_TCI: 4,
  DEC_TTL: 5,
  /** The packet as it is, out of port a. */
  OUTPUT: 6,
  /** NORMAL's output to port a in VLAN b (re-tagged for the port when it must be). */
  OUTPUT_NORMAL: 7,
} as const;

/** How NORMAL decided where a packet goes, as far as the MAC table was concerned. */
export const MfDst = {
  /** Multicast, or dropped before the lookup: the table was not read for the destination. */
  NONE: 0,
  /** Forwarded to (or dropped on) a fresh learned entry: it must still be there, on that port, fresh. */
  LEARNED: 1,
  /** Flooded for want of an entry: there must still be none. */
  ABSENT: 2,
} as const;

/** What one NORMAL action read of the MAC table and refreshed in it; checked before its entry is used. */
export class MfNormal {
  /** The VLAN's table (undefined: the input port does not carry the packet's VLAN; nothing was read). */
  table: MacTable | undefined = undefined;
  /** The bridge's count of MAC insertions when the destination was last seen absent. */
  inserts = 0;
  /** The source entry NORMAL refreshed (undefined: it learned nothing — multicast source — or learned it anew). */
  src: MacSlot | undefined = undefined;
  /**
   * NORMAL learned the source anew (it was in no entry). Such an entry is keyed on the source being unknown (the
   * bridge's exact words say so), not on the source itself: a hit learns the packet's own source on {@link srcPort}.
   */
  srcNew = false;
  srcMac = 0;
  srcPort = 0;
  /** What the refresh records in the bridge's effects (made once, pushed on every hit). */
  learned: object | undefined = undefined;
  dstKind: number = MfDst.NONE;
  dstMac = 0;
  dst: MacSlot | undefined = undefined;
  dstPort = 0;
}

/**
 * What a megaflow does: its datapath actions and what it credits. Shared by every entry that does the same (all
 * the MAC pairs NORMAL forwards the same way), so a hit touches one hot copy.
 */
export class MfProgram {
  constructor(
    /** {@link MfOp} triples. */
    readonly ops: Int32Array,
    /** The rewrite of each SET op (by op index; undefined for others). */
    readonly actions: ReadonlyArray<Action | undefined>,
    /** Rules hit, in order, and the bytes each counted relative to the input length (VLAN pushes and pops move it). */
    readonly rules: readonly Flow[],
    readonly byteDelta: Int32Array,
    readonly controller: number,
  ) {}

  /** Whether this program is these contents (the same rewrite objects, the same rule objects). */
  is(ops: readonly number[], actions: ReadonlyArray<Action | undefined>, rules: readonly Flow[], bytes: readonly number[], controller: number): boolean {
    if (controller !== this.controller || ops.length !== this.ops.length || rules.length !== this.rules.length) return false;
    for (let i = 0; i < ops.length; i++) if (ops[i] !== this.ops[i]) return false;
    for (let i = 0; i < actions.length; i++) if (actions[i] !== this.actions[i]) return false;
    for (let i = 0; i < rules.length; i++) if (rules[i] !== this.rules[i] || bytes[i] !== this.byteDelta[i]) return false;
    return true;
  }
}

/** One megaflow. */
export class MfEntry {
  /** Next entry in the same hash bucket. */
  next: MfEntry | undefined = undefined;
  hits = 0;
  constructor(
    readonly subtable: MfSubtable,
    readonly hash: number,
    /** The exact words: in_port and dl_type, the layout and the inner tag. */
    readonly w0: number,
    readonly w1: number,
    /**
     * The key's words under the subtable's masks, in the subtable's slot order: a plain array of exactly that
     * length (≈ 30–60 bytes; a typed array of a few words costs ≈ 180 with its ArrayBuffer, a third of an entry).
     */
    readonly values: readonly number[],
    readonly program: MfProgram,
    readonly normals: readonly MfNormal[],
  ) {}
}

/** The entries sharing one mask (OVS: a dpcls subtable). */
export class MfSubtable {
  readonly buckets = new Map<number, MfEntry>();
  size = 0;
  /** Hits since the last reordering (the busiest subtable is probed first, as dpcls's pvector does). */
  hits = 0;
  constructor(
    readonly slots: Int32Array,
    readonly masks: Uint32Array,
    readonly signature: string,
  ) {}

  hash(key: Uint32Array, w0: number, w1: number): number {
    const slots = this.slots;
    const masks = this.masks;
    let h = Math.imul(0x811c9dc5 ^ w0, 0x01000193);
    h = Math.imul(h ^ w1, 0x01000193);
    for (let i = 0; i < slots.length; i++) h = Math.imul(h ^ (key[slots[i]!]! & masks[i]!), 0x01000193);
    return (h ^ (h >>> 15)) & 0x3fffffff;
  }

  /** Whether this subtable's mask is `mask` (the exact words aside). */
  hasMask(mask: Uint32Array): boolean {
    let n = 0;
    for (let s = 0; s < mask.length; s++) {
      if (mask[s] === 0 || alwaysExact(s)) continue;
      if (n >= this.slots.length || this.slots[n] !== s || this.masks[n] !== mask[s]) return false;
      n++;
    }
    return n === this.slots.length;
  }

  find(key: Uint32Array, w0: number, w1: number): MfEntry | undefined {
    let e = this.buckets.get(this.hash(key, w0, w1));
    const slots = this.slots;
    const masks = this.masks;
    outer: while (e !== undefined) {
      if (e.w0 === w0 && e.w1 === w1) {
        const v = e.values;
        for (let i = 0; i < slots.length; i++) {
          if ((key[slots[i]!]! & masks[i]!) !== v[i]) {
            e = e.next;
            continue outer;
          }
        }
        return e;
      }
      e = e.next;
    }
    return undefined;
  }
}

/** Counters of a bridge's megaflow cache. */
export interface MegaflowStats {
  /** Packets served from the cache. */
  hits: number;
  /** Packets translated by the tables (and, when they could be, installed). */
  misses: number;
  /** Entries found void (a MAC entry they rest on moved, went or aged) and dropped. */
  stale: number;
  /** Translations not installed: they changed the MAC table, hit a translation limit, or were too long. */
  uncacheable: number;
  /** Packets the cache does not take: malformed, or with more than two VLAN tags. */
  bypassed: number;
  /** Times the whole cache was dropped: flow-table or port changes, MAC flushes, or the entry limit reached. */
  flushes: number;
  entries: number;
  /** Distinct masks (subtables). */
  masks: number;
}

/** Scratch for {@link MegaflowTable.values}. */
const VALUES: number[] = [];

function byHits(a: MfSubtable, b: MfSubtable): number {
  return b.hits - a.hits;
}

/** The megaflow table: subtables by mask, each a hash on the masked key. */
export class MegaflowTable {
  private subtables: MfSubtable[] = [];
  private readonly bySignature = new Map<string, MfSubtable>();
  private lookups = 0;
  size = 0;
  /** Programs by a hash of their content (valid while the flow tables are: cleared with the entries). */
  private readonly programs = new Map<number, MfProgram[]>();

  get masks(): number {
    return this.subtables.length;
  }

  lookup(key: Uint32Array, w0: number, w1: number): MfEntry | undefined {
    const subs = this.subtables;
    if ((++this.lookups & 4095) === 0 && subs.length > 1) {
      subs.sort(byHits);
      for (let i = 0; i < subs.length; i++) subs[i]!.hits >>>= 1;
    }
    for (let i = 0; i < subs.length; i++) {
      const e = subs[i]!.find(key, w0, w1);
      if (e !== undefined) {
        subs[i]!.hits++;
        return e;
      }
    }
    return undefined;
  }

  /** The subtable of `mask` (made on first use): its words are the non-zero ones but the exact ones. */
  subtable(mask: Uint32Array): MfSubtable {
    // Most misses land in a subtable that exists: found by comparing masks, without making its signature.
    for (const t of this.subtables) if (t.hasMask(mask)) return t;
    const slots: number[] = [];
    for (let s = 0; s < mask.length; s++) if (mask[s] !== 0 && !alwaysExact(s)) slots.push(s);
    const signature = slots.map((s) => `${s}:${mask[s]}`).join(',');
    let t = this.bySignature.get(signature);
    if (t === undefined) {
      t = new MfSubtable(Int32Array.from(slots), Uint32Array.from(slots.map((s) => mask[s]!)), signature);
      this.bySignature.set(signature, t);
      this.subtables.push(t);
    }
    return t;
  }

  /** The masked words of `key` in `t`'s slot order (as int32s: what `&` gives, so compared without conversion). */
  static values(t: MfSubtable, key: Uint32Array): number[] {
    const n = t.slots.length;
    const v = VALUES;
    v.length = 0;
    for (let i = 0; i < n; i++) v.push(key[t.slots[i]!]! & t.masks[i]!);
    // A copy of exactly n elements (push grows an array's store in steps of 16 and more).
    return v.slice(0, n);
  }

  /** The program of these contents: an existing one when an entry already does the same. */
  program(ops: readonly number[], actions: ReadonlyArray<Action | undefined>, rules: readonly Flow[], bytes: readonly number[], controller: number): MfProgram {
    let h = Math.imul(0x811c9dc5 ^ controller, 0x01000193);
    for (let i = 0; i < ops.length; i++) h = Math.imul(h ^ ops[i]!, 0x01000193);
    for (let i = 0; i < rules.length; i++) h = Math.imul(h ^ rules[i]!.seq ^ (bytes[i]! << 20), 0x01000193);
    h &= 0x3fffffff;
    let list = this.programs.get(h);
    if (list === undefined) this.programs.set(h, (list = []));
    for (const p of list) if (p.is(ops, actions, rules, bytes, controller)) return p;
    const p = new MfProgram(Int32Array.from(ops), actions.slice(), rules.slice(), Int32Array.from(bytes), controller);
    list.push(p);
    return p;
  }

  insert(e: MfEntry): void {
    const t = e.subtable;
    e.next = t.buckets.get(e.hash);
    t.buckets.set(e.hash, e);
    t.size++;
    this.size++;
  }

  remove(e: MfEntry): void {
    const t = e.subtable;
    let p = t.buckets.get(e.hash);
    if (p === e) {
      if (e.next === undefined) t.buckets.delete(e.hash);
      else t.buckets.set(e.hash, e.next);
    } else {
      while (p !== undefined && p.next !== e) p = p.next;
      if (p === undefined) return;
      p.next = e.next;
    }
    t.size--;
    this.size--;
    if (t.size === 0) {
      this.bySignature.delete(t.signature);
      this.subtables = this.subtables.filter((x) => x !== t);
    }
  }

  clear(): void {
    this.subtables = [];
    this.bySignature.clear();
    this.programs.clear();
    this.size = 0;
  }
}

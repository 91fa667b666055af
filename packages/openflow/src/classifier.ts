/**
 * One flow table's classifier: tuple-space search as OVS's lib/classifier.c does it. Flows with the same
 * set of (slot, mask) pairs share a subtable holding a hash map from the masked key to its flows; a lookup
 * probes each subtable (highest-priority subtables first, stopping once none can beat the best match), so
 * its cost grows with the number of distinct masks, not of flows. No allocation per lookup.
 */
import type { Flow } from './flow.js';
import { KEY_SLOTS, Slot } from './key.js';

/**
 * A subtable's fields in OVS's lookup stages (lib/classifier.c, staged lookup): metadata (in_port, registers),
 * then L2, L3 and L4. A packet whose fields up to a stage match no flow of the subtable cannot match any, so a
 * megaflow need only match the fields up to that stage — the return traffic of Kube-OVN's `in_port=<NIC>,tcp,
 * nw_dst=VIP,tp_dst=80` rule, coming from the patch port, is not split by address and port.
 */
function stageOf(slot: number): number {
  if (slot === Slot.IN_PORT || slot >= Slot.METADATA_HI) return 0;
  if (slot <= Slot.VLAN_TCI) return 1;
  if (slot === Slot.TP_SRC || slot === Slot.TP_DST || slot === Slot.TCP_FLAGS || (slot >= Slot.ND_TARGET && slot < Slot.ND_TARGET + 4)) return 3;
  return 2;
}

interface Subtable {
  /** The fields, by stage then slot. */
  slots: Int32Array;
  masks: Uint32Array;
  /** Where each stage but the last ends in {@link slots}, and the prefix hashes of the flows up to it (counted). */
  stageEnds: Int32Array;
  stageHashes: Array<Map<number, number>>;
  signature: string;
  maxPriority: number;
  buckets: Map<number, Flow[]>;
  size: number;
}

const FNV = 0x811c9dc5;

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x01000193);
  return h ^ (h >>> 15);
}

// Kept to 30 bits: a small integer, which a Map takes without boxing it (a uint32 above 2^30 is a heap number).
function hashMasked(key: Uint32Array, t: Subtable): number {
  let h = FNV;
  for (let i = 0; i < t.slots.length; i++) h = mix(h, key[t.slots[i]!]! & t.masks[i]!);
  return h & 0x3fffffff;
}

/** The hashes of `key`'s fields up to each stage end of `t` (a flow's, when it is inserted or removed). */
function stagePrefixes(key: Uint32Array, t: Subtable): number[] {
  const out: number[] = [];
  let h = FNV;
  let s = 0;
  for (let i = 0; i < t.slots.length; i++) {
    if (s < t.stageEnds.length && i === t.stageEnds[s]) {
      out.push(h & 0x3fffffff);
      s++;
    }
    h = mix(h, key[t.slots[i]!]! & t.masks[i]!);
  }
  return out;
}

function keyOfFlow(flow: Flow): Uint32Array {
  const key = new Uint32Array(KEY_SLOTS);
  for (const m of flow.match) key[m.slot] = m.value;
  return key;
}

function flowHash(flow: Flow, t: Subtable): number {
  return hashMasked(keyOfFlow(flow), t);
}

function countStages(flow: Flow, t: Subtable, by: number): void {
  const prefixes = stagePrefixes(keyOfFlow(flow), t);
  for (let s = 0; s < prefixes.length; s++) {
    const m = t.stageHashes[s]!;
    const n = (m.get(prefixes[s]!) ?? 0) + by;
    if (n === 0) m.delete(prefixes[s]!);
    else m.set(prefixes[s]!, n);
  }
}

function newSubtable(flow: Flow, signature: string): Subtable {
  const fields = flow.match.map((m) => ({ slot: m.slot, mask: m.mask })).sort((a, b) => stageOf(a.slot) - stageOf(b.slot) || a.slot - b.slot);
  const ends: number[] = [];
  for (let i = 1; i < fields.length; i++) if (stageOf(fields[i]!.slot) !== stageOf(fields[i - 1]!.slot)) ends.push(i);
  return {
    slots: Int32Array.from(fields.map((f) => f.slot)), masks: Uint32Array.from(fields.map((f) => f.mask)),
    stageEnds: Int32Array.from(ends), stageHashes: ends.map(() => new Map()),
    signature, maxPriority: -1, buckets: new Map(), size: 0,
  };
}

function matches(flow: Flow, key: Uint32Array): boolean {
  const m = flow.match;
  for (let i = 0; i < m.length; i++) {
    const x = m[i]!;
    if (((key[x.slot]! & x.mask) >>> 0) !== x.value >>> 0) return false;
  }
  return true;
}

/** Whether two flows match exactly the same packets by the same fields (matches are kept sorted by slot). */
function sameMatch(a: Flow, b: Flow): boolean {
  if (a.match.length !== b.match.length) return false;
  for (let i = 0; i < a.match.length; i++) {
    const x = a.match[i]!;
    const y = b.match[i]!;
    if (x.slot !== y.slot || x.mask !== y.mask || ((x.value & x.mask) >>> 0) !== ((y.value & y.mask) >>> 0)) return false;
  }
  return true;
}

/** Higher priority first; among equals, the earlier added. */
function better(a: Flow, b: Flow | undefined): boolean {
  return !b || a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}

/** A classifier over one table's flows. */
export class Classifier {
  private subtables: Subtable[] = [];
  private readonly bySignature = new Map<string, Subtable>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  insert(flow: Flow): void {
    const signature = flow.match.map((m) => `${m.slot}:${m.mask}`).join(',');
    let t = this.bySignature.get(signature);
    if (!t) {
      t = newSubtable(flow, signature);
      this.bySignature.set(signature, t);
      this.subtables.push(t);
    }
    const h = flowHash(flow, t);
    const list = t.buckets.get(h) ?? [];
    // A flow with the same match and priority is replaced, as ovs-ofctl add-flow(s) does (OFPFC_ADD over an
    // identical flow: seen with ovs-vswitchd 3.1, the later of two such lines in one add-flows file stays).
    const same = list.findIndex((f) => f.priority === flow.priority && sameMatch(f, flow));
    if (same >= 0) {
      // It takes the old flow's place among equal-priority overlaps too (OVS keeps the rule's subtable, which
      // decides such ties there).
      flow.seq = list[same]!.seq;
      list[same] = flow;
      list.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
      return;
    }
    list.push(flow);
    list.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    t.buckets.set(h, list);
    countStages(flow, t, 1);
    t.size++;
    if (flow.priority > t.maxPriority) {
      t.maxPriority = flow.priority;
      this.subtables.sort((a, b) => b.maxPriority - a.maxPriority);
    }
    this.count++;
  }

  remove(flow: Flow): boolean {
    const signature = flow.match.map((m) => `${m.slot}:${m.mask}`).join(',');
    const t = this.bySignature.get(signature);
    if (!t) return false;
    const h = flowHash(flow, t);
    const list = t.buckets.get(h);
    const i = list?.indexOf(flow) ?? -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) t.buckets.delete(h);
    countStages(flow, t, -1);
    t.size--;
    this.count--;
    if (t.size === 0) {
      this.bySignature.delete(signature);
      this.subtables = this.subtables.filter((x) => x !== t);
    } else {
      let max = -1;
      for (const l of t.buckets.values()) for (const f of l) max = Math.max(max, f.priority);
      t.maxPriority = max;
      this.subtables.sort((a, b) => b.maxPriority - a.maxPriority);
    }
    return true;
  }

  /**
   * The highest-priority flow matching `key`, or undefined (table miss). With `wc`, the masks of every subtable
   * probed are OR-ed into it, as OVS's classifier_lookup un-wildcards them (a megaflow must match what decided the
   * lookup, including the subtables that did not match) — restricted to the bits `clean` still has of the packet
   * (bits the actions wrote earlier are the rules' own and decided already). A subtable whose flows share no
   * stage prefix with the packet is left at that stage, its later fields not un-wildcarded (staged lookup).
   */
  lookup(key: Uint32Array, wc?: Uint32Array, clean?: Uint32Array): Flow | undefined {
    let best: Flow | undefined;
    const subtables = this.subtables;
    for (let i = 0; i < subtables.length; i++) {
      const t = subtables[i]!;
      // Subtables that cannot beat the best match are not probed, so a megaflow need not match their fields.
      if (best && best.priority > t.maxPriority) break;
      if (wc !== undefined && !this.probe(t, key, wc, clean!)) continue;
      const list = t.buckets.get(hashMasked(key, t));
      if (!list) continue;
      for (let j = 0; j < list.length; j++) {
        const f = list[j]!;
        if (best && !better(f, best)) break;
        if (matches(f, key)) {
          best = f;
          break;
        }
      }
    }
    return best;
  }

  /**
   * Un-wildcards what a lookup in `t` reads: its fields stage by stage, stopping after the first stage at which no
   * flow of `t` shares the packet's fields (then false: `t` cannot match, so the bucket need not be looked at).
   */
  private probe(t: Subtable, key: Uint32Array, wc: Uint32Array, clean: Uint32Array): boolean {
    const slots = t.slots;
    const masks = t.masks;
    let h = FNV;
    let stage = 0;
    for (let k = 0; k < slots.length; k++) {
      if (stage < t.stageEnds.length && k === t.stageEnds[stage]) {
        if (!t.stageHashes[stage]!.has(h & 0x3fffffff)) return false;
        stage++;
      }
      const s = slots[k]!;
      wc[s] = wc[s]! | (masks[k]! & clean[s]!);
      h = mix(h, key[s]! & masks[k]!);
    }
    return true;
  }

  /** All flows, in no particular order. */
  *flows(): IterableIterator<Flow> {
    for (const t of this.subtables) for (const l of t.buckets.values()) yield* l;
  }
}

/** A flow table is a classifier over its flows (the name the rest of vippath's docs use). */
export { Classifier as FlowTable };

/**
 * One flow table's classifier: tuple-space search as OVS's lib/classifier.c does it. Flows with the same
 * set of (slot, mask) pairs share a subtable holding a hash map from the masked key to its flows; a lookup
 * probes each subtable (highest-priority subtables first, stopping once none can beat the best match), so
 * its cost grows with the number of distinct masks, not of flows. No allocation per lookup.
 */
import type { Flow } from './flow.js';
import { KEY_SLOTS } from './key.js';

interface Subtable {
  slots: Int32Array;
  masks: Uint32Array;
  signature: string;
  maxPriority: number;
  buckets: Map<number, Flow[]>;
  size: number;
}

// Kept to 30 bits: a small integer, which a Map takes without boxing it (a uint32 above 2^30 is a heap number).
function hashMasked(key: Uint32Array, t: Subtable): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < t.slots.length; i++) {
    h = Math.imul(h ^ (key[t.slots[i]!]! & t.masks[i]!), 0x01000193);
    h ^= h >>> 15;
  }
  return h & 0x3fffffff;
}

function flowHash(flow: Flow, t: Subtable): number {
  const key = new Uint32Array(KEY_SLOTS);
  for (const m of flow.match) key[m.slot] = m.value;
  return hashMasked(key, t);
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
      t = { slots: Int32Array.from(flow.match.map((m) => m.slot)), masks: Uint32Array.from(flow.match.map((m) => m.mask)), signature, maxPriority: -1, buckets: new Map(), size: 0 };
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
   * (bits the actions wrote earlier are the rules' own and decided already).
   */
  lookup(key: Uint32Array, wc?: Uint32Array, clean?: Uint32Array): Flow | undefined {
    let best: Flow | undefined;
    const subtables = this.subtables;
    for (let i = 0; i < subtables.length; i++) {
      const t = subtables[i]!;
      // Subtables that cannot beat the best match are not probed, so a megaflow need not match their fields.
      if (best && best.priority > t.maxPriority) break;
      if (wc !== undefined) {
        for (let k = 0; k < t.slots.length; k++) {
          const s = t.slots[k]!;
          wc[s] = wc[s]! | (t.masks[k]! & clean![s]!);
        }
      }
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

  /** All flows, in no particular order. */
  *flows(): IterableIterator<Flow> {
    for (const t of this.subtables) for (const l of t.buckets.values()) yield* l;
  }
}

/** A flow table is a classifier over its flows (the name the rest of vippath's docs use). */
export { Classifier as FlowTable };

// A segment's instructions and its constant writes (the executor's, compiled when a segment is recorded): apart so
// that the fusing of writes can be tested against running the writes one by one.
import type { Action } from './actions.js';
import { W } from './fields.js';
import { MfOp, NEVER_HOLDS, type MfInstr } from './megaflow.js';
import type { Pipeline } from './types.js';

/** Whether a field starting at word `word` (at most 4 words wide) may overlap the packet-header words. */
export function headerWord(word: number): boolean {
  return word > W.ETH_SRC - 4 && word <= W.ARP_OP;
}

export function instr(op: number, action?: Action, word = 0, lo = 0, width = 0, value = 0, pipeline: Pipeline = 'ingress', table = 0, cont = -1, inEgress = false, port?: unknown): MfInstr {
  // Every instruction has every property (one hidden class: the replay loop's property reads stay monomorphic).
  return {
    op, action, word, lo, width, value, pipeline, table, cont, inEgress, port, next: undefined, next2: undefined, nextCheck: NEVER_HOLDS, next2Check: NEVER_HOLDS, known: undefined, sets: NO_SETS, setsHeader: false, setsEthOnly: false,
    nSets: 0, setWord0: 0, setKeep0: 0, setValue0: 0, setWord1: 0, setKeep1: 0, setValue1: 0, setWord2: 0, setKeep2: 0, setValue2: 0,
  };
}
const NO_SETS = new Int32Array(0);

/** What ovn-controller clears between ingress and egress (physical.c): logical flags, registers and zones. */
export function clearForEgress(w: Uint32Array): void {
  w[W.FLAGS] = 0;
  for (let i = W.REGS; i < W.REGS + 10; i++) w[i] = 0;
  w[W.DNAT_ZONE] = 0;
  w[W.SNAT_ZONE] = 0;
  w[W.CT_ZONE] = 0;
}

// The words clearForEgress clears, 0 where it does (exec's OUT_INPLACE clears the same, checked in executor.ts).
const KEPT = new Uint32Array(W.SIZE).fill(1);
clearForEgress(KEPT);

/** Whether exec's OUT_INPLACE clears `word`. */
function clearedInPlace(word: number): boolean {
  return KEPT[word] === 0;
}

/**
 * `ops` with each run of constant word writes (SETW, SET_OUTPORT) made by the op after it (its {@link MfInstr.sets},
 * which exec writes before the op's own work), or by one SETN at the segment's end. Nothing reads the words between
 * a run's writes, so they are merged per word (in order: a later write's bits over an earlier one's) and the words
 * written in any order; a write to a word that an OUT_INPLACE right after the run clears is dropped. The words after
 * the run are those the ops left, bit for bit.
 */
export function fuseWrites(ops: MfInstr[]): MfInstr[] {
  const out: MfInstr[] = [];
  for (let i = 0; i < ops.length; ) {
    const o = ops[i]!;
    if (o.op !== MfOp.SETW && o.op !== MfOp.SET_OUTPORT) {
      out.push(o);
      i++;
      continue;
    }
    let end = i;
    while (end < ops.length && (ops[end]!.op === MfOp.SETW || ops[end]!.op === MfOp.SET_OUTPORT)) end++;
    const dead = end < ops.length && ops[end]!.op === MfOp.OUT_INPLACE;
    const words: number[] = [];
    const masks = new Map<number, number>();
    const values = new Map<number, number>();
    for (let j = i; j < end; j++) {
      const x = ops[j]!;
      const word = x.op === MfOp.SETW ? x.word : W.OUTPORT;
      const m = x.op === MfOp.SETW ? x.width >>> 0 : 0xffffffff;
      const v = x.value >>> 0;
      if (dead && clearedInPlace(word)) continue;
      if (!masks.has(word)) {
        words.push(word);
        masks.set(word, 0);
        values.set(word, 0);
      }
      masks.set(word, (masks.get(word)! | m) >>> 0);
      values.set(word, ((values.get(word)! & ~m) | v) >>> 0);
    }
    const carrier = ops[end];
    if (words.length > 0) {
      if (carrier === undefined && end - i === 1 && words.length === 1) out.push(o);
      else {
        const f = carrier ?? instr(MfOp.SETN, undefined, 0, 0, 0, 0, o.pipeline, o.table, o.cont, o.inEgress);
        f.sets = new Int32Array(words.length * 3);
        f.setsHeader = words.some((word) => headerWord(word));
        f.setsEthOnly = f.setsHeader && words.every((word) => !headerWord(word) || (word >= W.ETH_SRC && word <= W.ETH_DST + 1));
        words.forEach((word, k) => {
          f.sets[k * 3] = word;
          f.sets[k * 3 + 1] = ~masks.get(word)!;
          f.sets[k * 3 + 2] = values.get(word)! | 0;
        });
        const t = f.sets;
        f.nSets = words.length;
        f.setWord0 = t[0]!;
        f.setKeep0 = t[1]!;
        f.setValue0 = t[2]!;
        if (words.length > 1) {
          f.setWord1 = t[3]!;
          f.setKeep1 = t[4]!;
          f.setValue1 = t[5]!;
        }
        if (words.length > 2) {
          f.setWord2 = t[6]!;
          f.setKeep2 = t[7]!;
          f.setValue2 = t[8]!;
        }
        if (carrier === undefined) out.push(f);
      }
    }
    i = end;
  }
  // A segment has an op (closeRec's no-op write when it records none).
  return out.length > 0 ? out : [instr(MfOp.SETW, undefined, W.PKT_MARK, 0, 0, 0)];
}

/**
 * A segment's constant writes fused (writes.ts `fuseWrites`): each run of SETW and SET_OUTPORT ops merged per word
 * and made by the op after it (before that op's own work), or by one SETN at the segment's end, with the words an
 * OUT_INPLACE right after it clears left out. Here random runs over a few words (registers OUT_INPLACE clears, header words, the output
 * port, a word written several times with overlapping masks), each followed by a random op, are run both ways on the
 * same random words: one op at a time as exec ran them before, and fused as exec runs them now. The words after the
 * run (after OUT_INPLACE's clearing, where it follows), whether a header word was written, and the ops left (every
 * other op kept, in order, no two writing ops in a row) must agree.
 *
 * Seeds: 20261204 unless VIPPATH_WRITES_SEED gives one (`random`: a new one, printed); VIPPATH_WRITES_RUNS (default 300).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { W } from './fields.js';
import { MfOp, type MfInstr } from './megaflow.js';
import { clearForEgress, fuseWrites, headerWord, instr } from './writes.js';

const SEED_ENV = process.env.VIPPATH_WRITES_SEED;
const SEED = SEED_ENV === 'random' ? (Math.random() * 2 ** 31) | 0 : SEED_ENV ? Number(SEED_ENV) : 20261204;
const RUNS = Number(process.env.VIPPATH_WRITES_RUNS ?? 300);

/** Words a run may write: FLAGS, registers, a zone (OUT_INPLACE clears them), Ethernet and IPv4 words, the mark. */
const WORDS = [W.FLAGS, W.REGS, W.REGS + 3, W.REGS + 9, W.DNAT_ZONE, W.ETH_SRC, W.ETH_DST, W.IPV4_SRC, W.PKT_MARK];
const AFTER = [MfOp.CT_FORK, MfOp.CT_COMMIT, MfOp.DELIVER, MfOp.OUT_INPLACE, MfOp.DROP, -1] as const;


/** The ops' writes as exec makes them, one op at a time (before the fusing: SETW and SET_OUTPORT alone). */
function runOneByOne(ops: readonly MfInstr[], w: Uint32Array): boolean {
  let header = false;
  for (const o of ops) {
    if (o.op === MfOp.SETW) {
      if (headerWord(o.word)) header = true;
      w[o.word] = ((w[o.word]! & ~o.width) | o.value) >>> 0;
    } else if (o.op === MfOp.SET_OUTPORT) w[W.OUTPORT] = o.value;
    else if (o.op === MfOp.OUT_INPLACE) clearForEgress(w);
    else if (o.op === MfOp.SETN) throw new Error('SETN before fusing');
  }
  return header;
}

/** The fused ops' writes as exec makes them now: an op's `sets` before the op itself. */
function runFused(ops: readonly MfInstr[], w: Uint32Array): boolean {
  let header = false;
  for (const o of ops) {
    // The first three triples from the op's properties (nSets, setWord0…), the rest from `sets` only past three, as exec
    // reads them.
    const s = o.sets;
    expect(o.nSets).toBe(s.length / 3);
    if (o.nSets > 0) w[o.setWord0] = (w[o.setWord0]! & o.setKeep0) | o.setValue0;
    if (o.nSets > 1) w[o.setWord1] = (w[o.setWord1]! & o.setKeep1) | o.setValue1;
    if (o.nSets > 2) w[o.setWord2] = (w[o.setWord2]! & o.setKeep2) | o.setValue2;
    if (o.nSets > 3) for (let j = 9; j < s.length; j += 3) w[s[j]!] = (w[s[j]!]! & s[j + 1]!) | s[j + 2]!;
    if (s.length !== 0 && o.setsHeader) header = true;
    if (o.op === MfOp.SETW) {
      if (headerWord(o.word)) header = true;
      w[o.word] = ((w[o.word]! & ~o.width) | o.value) >>> 0;
    } else if (o.op === MfOp.SET_OUTPORT) w[W.OUTPORT] = o.value;
    else if (o.op === MfOp.OUT_INPLACE) clearForEgress(w);
  }
  return header;
}

const writeOp = fc.oneof(
  fc.record({ word: fc.constantFrom(...WORDS), mask: fc.oneof(fc.constant(0xffffffff), fc.integer({ min: 0, max: 0xffffffff })), value: fc.integer({ min: 0, max: 0xffffffff }) }).map(({ word, mask, value }) => instr(MfOp.SETW, undefined, word, 0, mask >>> 0, (value & mask) >>> 0)),
  fc.integer({ min: 0, max: 0xffff }).map((key) => instr(MfOp.SET_OUTPORT, undefined, W.OUTPORT, 0, 32, key)),
);
const segment = fc.array(fc.tuple(fc.array(writeOp, { minLength: 0, maxLength: 7 }), fc.constantFrom(...AFTER)), { minLength: 1, maxLength: 4 });

describe('fused constant writes', () => {
  it('leave the words, the header flag and the other ops as the writes one by one do', () => {
    console.log(`writes property: ${RUNS} runs, seed ${SEED} (VIPPATH_WRITES_SEED / VIPPATH_WRITES_RUNS)`);
    let fused = 0;
    const byCount = [0, 0, 0, 0, 0];
    fc.assert(
      fc.property(segment, fc.uint32Array({ minLength: W.SIZE, maxLength: W.SIZE }), (parts, start) => {
        const ops: MfInstr[] = [];
        for (const [writes, after] of parts) {
          ops.push(...writes);
          if (after >= 0) ops.push(instr(after));
        }
        const others = ops.filter((o) => o.op !== MfOp.SETW && o.op !== MfOp.SET_OUTPORT);
        const a = Uint32Array.from(start);
        const b = Uint32Array.from(start);
        const headerA = runOneByOne(ops, a);
        const out = fuseWrites(ops);
        const headerB = runFused(out, b);
        expect(b).toEqual(a);
        expect(headerB).toBe(headerA);
        expect(out.filter((o) => o.op !== MfOp.SETW && o.op !== MfOp.SET_OUTPORT && o.op !== MfOp.SETN)).toEqual(others);
        // No two writing ops in a row are left.
        for (let i = 1; i < out.length; i++) {
          const writes = (o: MfInstr): boolean => o.op === MfOp.SETW || o.op === MfOp.SET_OUTPORT || o.op === MfOp.SETN;
          expect(writes(out[i - 1]!) && writes(out[i]!)).toBe(false);
        }
        if (out.length < ops.length) fused++;
        // The corners of exec's read: triples only from properties (1–3), and past them from `sets` too.
        for (const o of out) byCount[Math.min(o.nSets, 4)]!++;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(fused).toBeGreaterThan(RUNS / 4);
    console.log(`writes property: ops by triple count 0/1/2/3/more: ${byCount.join('/')}`);
    for (let n = 1; n <= 4; n++) expect(byCount[n]).toBeGreaterThan(0);
  });
});

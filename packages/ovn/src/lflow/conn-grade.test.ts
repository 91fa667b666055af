/**
 * The grade the executor gives a cached segment for a connection's walk (executor.ts `connOpsOf`, MfSegment.connOps):
 * a segment with an instruction writing a ct word is graded 0 (its walk is not kept). The recording relies on it:
 * a call's input is taken to be all 0 after a ct_clear or a chassis' hidden ct_commit, else the previous call's
 * outcome, without comparing the ct words (connPre). OVN's parser refuses flows writing those words (the
 * conn-replay property's "has no walk whose flows write a ct word before a call"), so no recorded segment has such
 * an instruction: the grade is checked here on segments made by hand.
 */
import { describe, expect, it } from 'vitest';
import type { Action } from './actions.js';
import { LflowExecutor } from './executor.js';
import { resolveField, W } from './fields.js';
import { MfOp, MfSegment, type MfInstr } from './megaflow.js';
import { oneSwitch, rowsOf, vif } from './switch.test-helpers.js';
import { fuseWrites, instr } from './writes.js';

const ex = new LflowExecutor(oneSwitch(rowsOf([[0, 0, '1', 'outport = "p1"; output;']]), [vif('p1', 2, '00:00:00:00:00:01 10.0.0.1')]), 'ls', { chassis: 'node1' });
const grade = (ops: MfInstr[]): number => (ex as unknown as { connOpsOf(s: MfSegment): number }).connOpsOf(new MfSegment(new Int32Array(0), new Int32Array(0), 0, ops, 0, 0, 0));
const field = (name: string) => resolveField(name)!;
const move = (src: string, dst: string): MfInstr => instr(MfOp.MOVE, { k: 'move', src: field(src), dst: field(dst) } as unknown as Action);
const exchange = (a: string, b: string): MfInstr => instr(MfOp.EXCHANGE, { k: 'exchange', a: field(a), b: field(b) } as unknown as Action);
const load = (dst: string): MfInstr => instr(MfOp.LOAD, { k: 'load', dst: field(dst), value: 1n } as unknown as Action);
const setw = (word: number): MfInstr => instr(MfOp.SETW, undefined, word, 0, 0xffffffff, 1);
const deliver = (): MfInstr => instr(MfOp.DELIVER);

describe('connOpsOf', () => {
  it('keeps a segment whose instructions write no ct word, reading them or not', () => {
    expect(grade([setw(W.REGS), move('ct_label', 'xxreg0'), move('ct_mark', 'reg1'), load('reg2'), exchange('reg3', 'reg4'), deliver()])).toBe(2);
    expect(grade(fuseWrites([setw(W.REGS), setw(W.REGS + 9), deliver()]))).toBe(2);
  });

  it('keeps no segment with an instruction that writes a ct word', () => {
    // Each ct word callCt hands to conntrack: ct_state, ct_mark, the label's four, the tuple's thirteen.
    for (const word of [W.CT_STATE, W.CT_MARK, W.CT_LABEL, W.CT_LABEL + 3, W.CT_NW_DST, W.CT_IPV6_DST + 2, W.CT_TP_DST, W.CT_NW_SRC, W.CT_IPV6_SRC + 3, W.CT_TP_SRC, W.CT_NW_PROTO]) {
      expect(grade([setw(W.REGS), setw(word), deliver()]), `SETW ${word}`).toBe(0);
      // Fused onto the delivery (writes.ts fuseWrites): the writes are the op's `sets`.
      expect(grade(fuseWrites([setw(W.REGS), setw(word), deliver()])), `fused ${word}`).toBe(0);
    }
    expect(grade([move('reg0', 'ct_mark'), deliver()])).toBe(0);
    expect(grade([move('xxreg0', 'ct_label'), deliver()])).toBe(0);
    expect(grade([load('ct_label.blocked'), deliver()])).toBe(0);
    expect(grade([load('ct_state'), deliver()])).toBe(0);
    expect(grade([exchange('reg0', 'ct_mark'), deliver()])).toBe(0);
    expect(grade([exchange('ct_tp_dst', 'reg0[0..15]'), deliver()])).toBe(0);
  });
});

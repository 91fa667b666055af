import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyLflowDelta, lflowDelta, lflowKey } from './delta.js';
import type { LogicalFlow } from './types.js';

const flow = (stage: string, priority: number, match: string, actions: string, table = 0): LogicalFlow => ({ pipeline: 'ingress', table, stage, priority, match, actions });

describe('lflowDelta / applyLflowDelta', () => {
  it('a multiset difference: duplicates count, table numbers do not', () => {
    const a = [flow('ls_in_lb', 120, 'x', 'ct_lb_mark(backends=1,2);', 11), flow('ls_in_lb', 0, '1', 'next;', 11), flow('ls_in_lb', 0, '1', 'next;', 11)];
    const b = [flow('ls_in_lb', 120, 'x', 'ct_lb_mark(backends=2);', 13), flow('ls_in_lb', 0, '1', 'next;', 13)];
    const d = lflowDelta(a, b);
    expect(d.removed.map(lflowKey)).toEqual([lflowKey(a[0]!), lflowKey(a[1]!)]);
    expect(d.added.map((f) => f.actions)).toEqual(['ct_lb_mark(backends=2);']);
  });

  it('applied to other rows: what is not touched stays (same objects), added flows take the stage\'s table there, and a removed flow the rows lack is reported', () => {
    const collected = [flow('ls_in_lb', 120, 'x', 'ct_lb_mark(backends=1,2);', 14), flow('ls_in_acl', 0, '1', 'next;', 9), flow('ls_in_lb', 0, '1', 'next;', 14)];
    const d = lflowDelta([flow('ls_in_lb', 120, 'x', 'ct_lb_mark(backends=1,2);', 11)], [flow('ls_in_lb', 120, 'x', 'ct_lb_mark(backends=2);', 11)]);
    const r = applyLflowDelta(collected, d);
    expect(r.missing).toEqual([]);
    expect(r.flows).toContain(collected[1]);
    expect(r.flows).toContain(collected[2]);
    expect(r.flows.find((f) => f.priority === 120)).toMatchObject({ table: 14, actions: 'ct_lb_mark(backends=2);' });
    const lacking = applyLflowDelta([collected[1]!], d);
    expect(lacking.missing.map((f) => f.actions)).toEqual(['ct_lb_mark(backends=1,2);']);
  });

  it('property: applying the difference of A→B to A gives B (as multisets)', () => {
    const arb = fc.array(fc.record({ stage: fc.constantFrom('ls_in_lb', 'ls_in_acl'), priority: fc.integer({ min: 0, max: 3 }), match: fc.constantFrom('1', 'ip', 'tcp'), actions: fc.constantFrom('next;', 'drop;') }), { maxLength: 12 });
    fc.assert(fc.property(arb, arb, (a, b) => {
      const fa = a.map((x) => flow(x.stage, x.priority, x.match, x.actions));
      const fb = b.map((x) => flow(x.stage, x.priority, x.match, x.actions));
      const r = applyLflowDelta(fa, lflowDelta(fa, fb));
      expect(r.missing).toEqual([]);
      expect(r.flows.map(lflowKey).sort()).toEqual(fb.map(lflowKey).sort());
    }), { numRuns: 200, seed: Number(process.env.VIPPATH_SEED ?? 18) });
  });
});

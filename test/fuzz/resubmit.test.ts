/**
 * Issue 19 item 11: resubmit fan-out. OVS bounds one packet's translation twice (ofproto/ofproto-dpif-xlate.c,
 * xlate_resubmit_resource_check): 64 nested resubmits to the same or an earlier table (MAX_DEPTH) and 4 096
 * resubmits in all (MAX_RESUBMITS = MAX_DEPTH²); past either, translation stops and the packet is dropped
 * ("Translation failed (…), packet is dropped"). vippath's bridge does the same, says so in the trace, and the
 * simulation counts the drop with its reason. Checked against ovs-vswitchd's ofproto/trace when installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Bridge, MAX_RESUBMITS, MAX_RESUBMIT_DEPTH, type TraceStep } from '@vippath/openflow';
import { buildFrame } from '@vippath/wire';
import { OvsOracle, ovsUnavailable } from '../ovs-harness.js';

const cli = fileURLToPath(new URL('../../packages/vippath/dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vippath-resubmit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frame = buildFrame({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { srcPort: 1234, dstPort: 80, flags: 2 } });

/** k tables, each resubmitting twice to the next: 2^k lookups without a total bound. */
function fanOut(k: number, first = ''): string[] {
  return Array.from({ length: k }, (_, t) => `table=${t},priority=1 actions=${t === 0 ? first : ''}resubmit(,${t + 1}),resubmit(,${t + 1})`).concat(`table=${k},priority=1 actions=output:2`);
}

const shapes: Array<[string, string[], 'RECURSION_TOO_DEEP' | 'TOO_MANY_RESUBMITS']> = [
  ['resubmit(,0),resubmit(,0) in table 0', ['table=0,priority=1 actions=resubmit(,0),resubmit(,0)'], 'RECURSION_TOO_DEEP'],
  ['an output in front of the self-resubmits', ['table=0,priority=1 actions=output:2,resubmit(,0),resubmit(,0)'], 'RECURSION_TOO_DEEP'],
  ['30 tables each resubmitting twice (2^30 without a total bound)', fanOut(30), 'TOO_MANY_RESUBMITS'],
  ['the fan-out with an output in front', fanOut(30, 'output:2,'), 'TOO_MANY_RESUBMITS'],
];

describe('resubmit limits', () => {
  for (const [what, flows, error] of shapes) {
    it(`${what}: ${error}, the packet dropped, the work bounded`, () => {
      const br = new Bridge('br0', [{ name: 'p1', ofport: 1 }, { name: 'p2', ofport: 2 }]);
      br.addFlows(flows.join('\n'));
      const steps: TraceStep[] = [];
      const r = br.process(frame, 1, { trace: steps });
      expect(r.error).toBe(error);
      expect(r.drop).toBe(true);
      expect(r.outputs).toEqual([]);
      const lookups = steps.filter((s) => s.kind === 'lookup').length;
      expect(lookups).toBeLessThanOrEqual(MAX_RESUBMITS + 1);
      const drops = steps.filter((s) => s.kind === 'drop').map((s) => (s as { reason: string }).reason);
      expect(drops).toContain(error === 'RECURSION_TOO_DEEP' ? `over max translation depth ${MAX_RESUBMIT_DEPTH}` : `over ${MAX_RESUBMITS} resubmit actions`);
      expect(drops.at(-1)).toMatch(/translation failed \((Recursion too deep|Too many resubmits)\), packet is dropped/);
      // Without tracing too (the hot path).
      expect(br.process(frame, 1).error).toBe(error);
    });
  }

  it('a pipeline well within the limits is untouched: 11 tables fanning out twice (2 047 resubmits) output 1 024 copies', () => {
    const br = new Bridge('br0', [{ name: 'p1', ofport: 1 }, { name: 'p2', ofport: 2 }]);
    br.addFlows(fanOut(10).join('\n'));
    const r = br.process(frame, 1);
    expect(r.error).toBeUndefined();
    expect(r.outputs).toHaveLength(1024);
  });

  it('vippath of trace on the self-resubmit returns, says why and drops', () => {
    const flows = join(dir, 'loop.flows');
    writeFileSync(flows, 'table=0,priority=1 actions=resubmit(,0),resubmit(,0)\n');
    const r = spawnSync(process.execPath, [cli, 'of', 'trace', '--flows', flows, '--ports', 'p1=1,p2=2', '--flow', 'in_port=1,tcp'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/over max translation depth 64/);
    expect(r.stdout).toMatch(/translation failed \(Recursion too deep\), packet is dropped/);
    expect(r.stdout).toMatch(/Final: drop/);
    const j = spawnSync(process.execPath, [cli, 'of', 'trace', '--flows', flows, '--ports', 'p1=1,p2=2', '--flow', 'in_port=1,tcp', '--json'], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(j.stdout)).toMatchObject({ drop: true, error: 'RECURSION_TOO_DEEP', outputs: [] });
  });

  const why = ovsUnavailable();
  it.skipIf(why !== undefined)(`the same verdicts from ovs-vswitchd's ofproto/trace${why ? ` (skipped: ${why})` : ''}`, () => {
    const ovs = new OvsOracle([1, 2]);
    try {
      for (const [what, flows, error] of shapes) {
        expect(ovs.setFlows(flows), what).toBeUndefined();
        const text = ovs.appctl('ofproto/trace', 'br0', 'in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=80');
        expect(text, what).toContain(`Translation failed (${error === 'RECURSION_TOO_DEEP' ? 'Recursion too deep' : 'Too many resubmits'}), packet is dropped.`);
        expect(text, what).toMatch(/Datapath actions: drop/);
      }
    } finally {
      ovs.stop();
    }
  }, 120_000);
});

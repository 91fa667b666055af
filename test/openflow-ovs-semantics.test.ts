/**
 * Two behaviours of ovs-vswitchd 3.1 that vippath got wrong (issue 16), checked against the real thing:
 * `ovs-ofctl add-flows` with two flows of the same table, match and priority keeps the later one (OVS replaces);
 * and `ofproto/trace` of a microflow learns no MAC (a microflow without MACs floods), while a trace of a packet
 * given as hex does learn (its source, before the destination lookup). Generated cases: VIPPATH_OVS_SEM_CASES
 * (default 40), seed VIPPATH_OVS_SEM_SEED (printed).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bridge } from '@vippath/openflow';
import { buildFrame } from '@vippath/wire';
import { main } from 'vippath';
import { LOCAL, OvsOracle, ovsUnavailable } from './ovs-harness.js';

const unavailable = ovsUnavailable();
const CASES = Number(process.env.VIPPATH_OVS_SEM_CASES ?? 40);
const SEED = Number(process.env.VIPPATH_OVS_SEM_SEED ?? Date.now() % 2 ** 31);
const PORTS = [1, 2, 3];
const dir = mkdtempSync(join(tmpdir(), 'vippath-ovs-sem-'));

async function cliTrace(flows: string[], ...args: string[]): Promise<number[]> {
  const file = join(dir, 'flows.txt');
  writeFileSync(file, `${flows.join('\n')}\n`);
  let out = '';
  const code = await main(['of', 'trace', '--flows', file, '--ports', 'p1=1,p2=2,p3=3', '--json', ...args], { stdout: (s) => void (out += s), stderr: () => undefined });
  expect(code).toBe(0);
  const j = JSON.parse(out) as { outputs: Array<{ port: number | 'LOCAL' }> };
  return j.outputs.map((o) => (o.port === 'LOCAL' ? LOCAL : o.port)).sort((a, b) => a - b);
}

describe.skipIf(unavailable !== undefined)(`against ovs-vswitchd${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let ovs: OvsOracle;
  beforeAll(() => {
    ovs = new OvsOracle(PORTS);
  });
  afterAll(() => {
    ovs?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('add-flows: of flows with the same table, match and priority the later one stays (a fixed case)', async () => {
    const flows = ['priority=5,in_port=1,actions=output:2', 'table=0,priority=5,in_port=1,actions=drop', 'priority=5,in_port=1 actions=output:3'];
    expect(ovs.setFlows(flows)).toBeUndefined();
    expect(ovs.dumpFlows()).toEqual([' priority=5,in_port=1 actions=output:3'.trim()]);
    const br = new Bridge('br0', PORTS.map((p) => ({ name: `p${p}`, ofport: p })));
    br.addFlows(flows.join('\n'));
    expect(br.flows()).toHaveLength(1);
    const frame = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { srcPort: 1, dstPort: 2 } });
    expect(br.process(frame, 1).outputs.map((o) => o.port)).toEqual([3]);
    expect([...(await ovs.send(1, frame)).keys()]).toEqual([3]);
  }, 60_000);

  it(`add-flows with repeated match+priority, generated (seed ${SEED}, ${CASES} tables): same flow count and the same outputs as OVS`, async () => {
    const matchArb = fc.constantFrom('in_port=1', 'in_port=1,udp', 'udp,tp_dst=2', 'ip,nw_dst=10.0.0.2', '');
    const actionArb = fc.constantFrom('output:1', 'output:2', 'output:3', 'drop', 'LOCAL', 'output:2,output:3', 'NORMAL');
    const flowArb = fc.record({ table: fc.constantFrom('', 'table=0,'), match: matchArb, priority: fc.constantFrom(5, 7), action: actionArb, spaced: fc.boolean() })
      .map((f) => `${f.table}priority=${f.priority}${f.match ? `,${f.match}` : ''}${f.spaced ? ' ' : ','}actions=${f.action}`);
    const frame = buildFrame({ dst: '52:54:00:bb:00:03', src: '52:54:00:aa:00:64', ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { srcPort: 1, dstPort: 2 } });
    let repeated = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(flowArb, { minLength: 2, maxLength: 6 }), async (flows) => {
        expect(ovs.setFlows(flows)).toBeUndefined();
        const br = new Bridge('br0', PORTS.map((p) => ({ name: `p${p}`, ofport: p })));
        br.addFlows(flows.join('\n'));
        const real = ovs.dumpFlows();
        if (real.length < flows.length) repeated++;
        expect(br.flows().length, flows.join('\n')).toBe(real.length);
        const got = await ovs.send(1, frame);
        const mine = new Map<number, string[]>();
        for (const o of br.process(frame, 1).outputs) mine.set(o.port, [...(mine.get(o.port) ?? []), Buffer.from(o.packet).toString('hex')]);
        expect([...mine].sort((a, b) => a[0] - b[0]), `${flows.join('\n')}\nseed ${SEED}`).toEqual([...got].sort((a, b) => a[0] - b[0]));
      }),
      { numRuns: CASES, seed: SEED, endOnFailure: true },
    );
    // Not vacuous: many tables repeated a match and priority.
    expect(repeated).toBeGreaterThan(CASES / 4);
  }, 300_000);

  it('ofproto/trace of NORMAL: a microflow learns nothing (no MACs ⇒ flood), a hex packet learns its source first (src = dst ⇒ drop)', async () => {
    const flows = ['priority=0,actions=NORMAL'];
    expect(ovs.setFlows(flows)).toBeUndefined();
    const A = '52:54:00:aa:00:01';
    // A microflow without MACs: OVS floods; so must `vippath of trace --flow`.
    const micro = ovs.traceArgs('in_port=1');
    expect(micro.ports).toEqual([2, 3, LOCAL]);
    expect(await cliTrace(flows, '--flow', 'in_port=1')).toEqual(micro.ports);
    // A microflow from A to A: still nothing learned, still a flood.
    const aa = ovs.traceArgs(`in_port=1,dl_src=${A},dl_dst=${A}`);
    expect(aa.ports).toEqual([2, 3, LOCAL]);
    expect(await cliTrace(flows, '--flow', `in_port=1,dl_src=${A},dl_dst=${A}`)).toEqual(aa.ports);
    // A traced microflow left no MAC behind: to A from port 2 floods.
    expect(ovs.traceArgs(`in_port=2,dl_dst=${A}`).ports).toEqual([1, 3, LOCAL]);
    // The same as a hex packet: OVS learns A on port 1, then finds the destination there and drops.
    const hex = Buffer.from(buildFrame({ dst: A, src: A, ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { srcPort: 1, dstPort: 2 } })).toString('hex');
    const packet = ovs.traceArgs('in_port=1', hex);
    expect(packet.text).toContain('learned port is input port, dropping');
    expect(packet.ports).toEqual([]);
    expect(await cliTrace(flows, '--packet', hex, '--in-port', '1')).toEqual([]);
  }, 60_000);
});

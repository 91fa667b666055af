import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFrame } from '@vippath/wire';
import { run } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vippath-cli-of-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const flows = join(dir, 'flows.txt');
writeFileSync(flows, [
  ' cookie=0x1000, duration=1.0s, table=0, n_packets=3, n_bytes=200, priority=10000,tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2',
  'priority=0,actions=NORMAL',
].join('\n'));


describe('vippath of', () => {
  it('trace --flow --json: the Kube-OVN rule sends a SYN to the patch port with the placeholder MAC', async () => {
    const r = await run('of', 'trace', '--flows', flows, '--ports', 'underlay0.341=1,patch-localnet.underlay-subnet-to-br-int=2', '--json',
      '--flow', 'in_port=underlay0.341,tcp,dl_src=52:54:00:aa:00:64,dl_dst=52:54:00:bb:00:03,nw_src=10.180.204.100,nw_dst=10.180.204.252,tp_src=40000,tp_dst=80');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { outputs: Array<{ port: number | string; packet: string }>; drop: boolean; steps: Array<{ kind: string }> };
    expect(j.drop).toBe(false);
    expect(j.outputs.map((o) => o.port)).toEqual([2]);
    const p = parseFrame(Uint8Array.from(Buffer.from(j.outputs[0]!.packet, 'hex')));
    expect(p.eth.dst).toBe('00:00:00:01:00:01');
    expect(p.ipv4!.dst).toBe('10.180.204.252');
    expect(j.steps[0]).toMatchObject({ kind: 'lookup', priority: 10000 });
  });

  it('trace --packet: an ARP broadcast floods to the patch port and LOCAL (text trace)', async () => {
    const hex = 'ffffffffffff525400aa006408060001080006040001525400aa00640ab4cc640000000000000ab4ccfc';
    const r = await run('of', 'trace', '--flows', flows, '--ports', 'u=1,p=2', '--packet', hex, '--in-port', 'u');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/NORMAL/);
    expect(r.out).toMatch(/Final: 2,LOCAL/);
  });

  it('dump normalizes dump-flows text; errors are usage or input errors, not crashes', async () => {
    const d = await run('of', 'dump', '--flows', flows);
    expect(d.out.split('\n')[0]).toBe(' cookie=0x1000, table=0, priority=10000,tcp,in_port=1,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2');
    writeFileSync(join(dir, 'bad.txt'), 'ip,nw_dst=10.0.0.999,actions=drop\n');
    const bad = await run('of', 'dump', '--flows', join(dir, 'bad.txt'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/line 1, column 11/);
    expect((await run('of', 'trace', '--flows', flows)).code).toBe(2);
    expect((await run('of')).err).toMatch(/missing subcommand/);
  });
});

describe('vippath lint and status', () => {
  it('lint of the seed manifests reports the missing Vlan (error, exit 1) and the pool not excluded', async () => {
    const seed = new URL('../examples/seed/manifests.yaml', import.meta.url).pathname;
    const r = await run('lint', '--manifests', seed, '--json');
    expect(r.code).toBe(1);
    const codes = (JSON.parse(r.out) as Array<{ code: string }>).map((d) => d.code).sort();
    // The seed has no Nodes and no Pods: both are said (issue 18: no silent defaults).
    expect(codes).toEqual(['NO_NODES', 'PODS_FROM_DEPLOYMENTS', 'POOL_NOT_EXCLUDED', 'SUBNET_WITHOUT_VLAN']);
  });
  it('status --json of the default scenario: .252 announced by node3', async () => {
    const r = await run('status', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { services: Array<{ ingress: string[]; owner: Record<string, string> }> };
    expect(j.services[0]).toMatchObject({ ingress: ['10.180.204.252'], owner: { '10.180.204.252': 'node3' } });
    const bad = await run('status', '--manifests', '/nonexistent.yaml');
    expect(bad.code).toBe(2);
  });
});

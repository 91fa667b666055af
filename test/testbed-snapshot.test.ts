/**
 * A snapshot made from the real testbed replays to the testbed's own frames (issue 18 "How it is checked", issue
 * 16's verify on a snapshot). After the testbed is up, its state is collected as `vippath collect` would on a real
 * cluster: `ovsdb-client backup` of the NB and SB, each node's `ovs-ofctl dump-flows --names br-provider` and
 * `ovs-ofctl show br-provider`, and `kubectl get -o yaml` List documents written in the shape a real API server
 * prints (managedFields, uid, resourceVersion, status). vippath loads that as `--snapshot`, runs the Southbound's
 * logical flows as collected (the testbed's ovn-northd's, with the Kube-OVN patch flows written into its SB), and the
 * same inputs fed to both give the same frames on every port, byte for byte. Then `vippath verify --snapshot` builds a
 * second testbed from that snapshot: its dump-flows text must be normalised for `ovs-ofctl replace-flows`.
 * Cases, for Kube-OVN 1.14 and 1.15.20: the bundled capture plus VIPPATH_TESTBED_RUNS generated conversations
 * (default 6), then a readiness change and as many more; seed printed.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSnapshot, SimulatedCluster } from '@vippath/cluster';
import { readCaptureSync } from '@vippath/pcap';
import { Differential, Testbed, type StepResult } from '../packages/vippath/src/testbed/index.js';
import { testbedProviderFlows } from '../packages/vippath/src/testbed/flows.js';
import { collect } from './testbed/collect.js';
import { conversationArb, differenceLines, play, scenarioObjects, unavailable } from './testbed/harness.js';
import { run } from './helpers/cli.js';

const capture = fileURLToPath(new URL('./fixtures/vip-ipv4.pcap', import.meta.url));
const RUNS = Number(process.env.VIPPATH_TESTBED_RUNS ?? 6);
const SEED = process.env.VIPPATH_TESTBED_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_TESTBED_SEED ?? 20261201);
const dir = mkdtempSync(join(tmpdir(), 'vippath-tbsnap-'));
afterAll(() => (process.env.VIPPATH_KEEP_SNAP ? console.log(dir) : rmSync(dir, { recursive: true, force: true })));

describe('br-provider flows as dump-flows --names printed them, made into flows for the testbed\'s bridge', () => {
  const ports = [{ name: 'underlay0.341', ofport: 3 }, { name: 'patch-localnet.', ofport: 5 }, { name: 'eth9', ofport: 7 }];
  const roles = { uplink: { name: 'underlay0.341', ofport: 1 }, patch: { name: 'patch-localnet.underlay-subnet-to-br-int', ofport: 2 } };

  it('quoted and cut names, counters, durations, reset_counts and importance go; ports land on the testbed\'s numbers', () => {
    const text = [
      'NXST_FLOW reply (xid=0x4):',
      ' cookie=0x0, duration=412.310s, table=0, n_packets=17, n_bytes=1210, reset_counts, idle_age=3, importance=0, priority=10000,ip,in_port="underlay0.341",nw_dst=10.180.204.252 actions=mod_dl_dst:00:00:00:01:00:01,output:"patch-localnet."',
      ' cookie=0x0, duration=412.310s, table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL',
      ' cookie=0x0, duration=1.5s, table=0, n_packets=0, n_bytes=0, priority=5,in_port="patch-localnet." actions=output:"underlay0.341",LOCAL',
    ];
    const out = testbedProviderFlows(text, ports, roles);
    expect(out).toEqual([
      'cookie=0x0, priority=10000,ip,in_port=1,nw_dst=10.180.204.252 actions=mod_dl_dst:00:00:00:01:00:01,output:2',
      'cookie=0x0, priority=0 actions=NORMAL',
      'cookie=0x0, priority=5,in_port=2 actions=output:1,LOCAL',
    ]);
    // ovs-ofctl itself takes every line (where it is installed), in the OpenFlow 1.0 format replace-flows needs.
    if (!unavailable) for (const l of out) expect(execFileSync('ovs-ofctl', ['parse-flow', l], { encoding: 'utf8' })).toMatch(/usable protocols: any/);
  });

  it('a port the testbed does not have is a typed error naming it', () => {
    expect(() => testbedProviderFlows(['priority=1,in_port=eth9 actions=NORMAL'], ports, roles)).toThrow(/port eth9 \(ofport 7\), which is neither underlay0\.341 nor patch-localnet\.underlay-subnet-to-br-int/);
  });
});

describe.skipIf(unavailable !== undefined)(`a snapshot of the real testbed${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const cases: Array<[string, string, string]> = [
    ['Kube-OVN 1.14', 'v1.14.10', ''],
    // The VIP-node marker: the owner's change after the readiness change rewrites the load balancer's external_ids too.
    ['Kube-OVN 1.15.20', 'v1.15.20', 'apiVersion: vippath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: v115}\nspec:\n  profiles: {kubeOvn: kube-ovn-1.15.20}\n'],
  ];
  it.each(cases)('%s: collected (ovsdb-client backup, dump-flows --names, show, kubectl Lists) and loaded as --snapshot: the same frames as the testbed, byte for byte, running the collected Southbound flows — before and after a readiness change', async (_name, version, manifests) => {
    const { objects, cluster } = scenarioObjects({ name: version, manifests, profile: 'kube-ovn' });
    const bed = await Testbed.start(objects, cluster, { profile: 'kube-ovn' });
    const bad: string[] = [];
    let compared = 0;
    const snap = join(dir, `snap-${version}`);
    try {
      collect(bed, snap, version);
      if (version === 'v1.14.10') cpSync(snap, join(dir, 'snap'), { recursive: true });
      // The snapshot holds flows as the node printed them: names, counters.
      expect(readFileSync(join(snap, 'nodes', 'node1', 'br-provider.flows'), 'utf8')).toMatch(/n_packets=\d+.*(in_port|output:)"?patch-localnet\."?/);
      const loaded = loadSnapshot(snap);
      const errors = (loaded.cluster.findings ?? []).filter((f) => f.severity === 'error' || f.code.startsWith('OVN_SB_') && f.code !== 'OVN_SB_RUN');
      expect(errors, JSON.stringify(errors)).toEqual([]);
      expect(loaded.cluster.southbound?.file).toMatch(/sb\.db$/);
      expect(loaded.cluster.profiles.kubeOvn).toBe(version === 'v1.15.20' ? 'kube-ovn-1.15.20' : 'kube-ovn-1.14');
      const sim = new SimulatedCluster(loaded.objects, loaded.cluster, { vifBoundAt: 0, ovnVersion: bed.ovnVersion });
      // The collected rows run: the testbed's ovn-northd's flows with the patch flows in its SB.
      const flows = sim.ls.sb.flows.get('underlay-subnet')!;
      expect(flows).toBe(loaded.cluster.southbound!.state.flows.get('underlay-subnet'));
      expect(flows.every((f) => f.uuid !== undefined)).toBe(true);
      for (const o of bed.overlay) expect(flows.some((f) => f.stage === o.stage && f.priority === o.priority && f.match === o.match && f.actions === o.actions), `${o.stage} ${o.priority} ${o.match}`).toBe(true);
      // The same cluster: pods, MACs, nodes.
      expect(sim.state.pods.map((p) => `${p.name} ${p.ip} ${p.mac} ${p.node}`)).toEqual(bed.state.pods.map((p) => `${p.name} ${p.ip} ${p.mac} ${p.node}`));
      expect(sim.cluster.nodes.map((n) => n.mac)).toEqual(bed.cluster.nodes.map((n) => n.mac));

      const diff = new Differential(sim, bed);
      const records = readCaptureSync(new Uint8Array(readFileSync(capture))).records;
      const t0 = records[0]!.timestamp;
      let t = 0;
      for (const [i, r] of records.entries()) {
        if (sim.fromCluster(r.data)) {
          diff.exclude('cluster-frame-in-capture');
          continue;
        }
        t = Math.max(t, Number(r.timestamp - t0) / 1e6);
        const s = await diff.feed({ at: 'outside', frame: r.data, time: t, label: `vip-ipv4.pcap record ${i + 1}` });
        bad.push(...differenceLines(s));
      }
      const convs = fc.sample(conversationArb, { seed: SEED, numRuns: RUNS });
      console.log(`snapshot of the testbed: seed ${SEED}, ${convs.length} conversations after the capture`);
      t += 1000;
      for (const c of convs) t = await play(c, diff, t, (s: StepResult) => bad.push(...differenceLines(s)));
      // A readiness change while the collected flows run: vippath applies to them the difference it makes to its
      // northd's flows; the testbed's controller rewrites the NB, ovn-northd runs again and the patch flows are
      // written anew. The collected rows must hold what the difference takes out (real ovn-northd wrote them as
      // vippath's northd does), and the frames after it must agree too.
      const lbBefore = flows.filter((f) => f.stage === 'ls_in_lb').map((f) => f.actions).join('\n');
      const owner = sim.state.metallb.owners(sim.state.services[0]!.ingress[0]!)[0]!;
      const pod = sim.state.pods.find((p) => p.node === owner)!;
      diff.setPodReady(pod.name, false, t + 10);
      t += 20;
      const more = fc.sample(conversationArb, { seed: SEED + 7, numRuns: RUNS });
      for (const c of more) t = await play(c, diff, t, (s: StepResult) => bad.push(...differenceLines(s)));
      expect(sim.ls.southboundReplaced).toBeUndefined();
      const lbAfter = sim.ls.sb.flows.get('underlay-subnet')!.filter((f) => f.stage === 'ls_in_lb').map((f) => f.actions).join('\n');
      expect(lbBefore).toContain(`${pod.ip}:80`);
      expect(lbAfter).not.toContain(`${pod.ip}:80`);
      expect(sim.events.map((e) => e.text)).toEqual(expect.arrayContaining([`${pod.name} not ready`, expect.stringMatching(new RegExp(`^${owner} stops announcing`))]));
      compared = diff.totals.compared;
      console.log(`snapshot of the testbed: ${diff.totals.compared} frame(s) compared, real ${diff.totals.real}, vippath ${diff.totals.simulated}; excluded ${JSON.stringify(diff.totals.excluded)}`);
    } finally {
      await bed.stop();
    }
    expect(compared).toBeGreaterThan(40);
    expect(bad, `seed ${SEED}:\n${bad.join('\n')}`).toEqual([]);
  }, 120_000);

  it('vippath verify --snapshot: the snapshot\'s dump-flows text goes into a new testbed (it failed with "switch does not support any of the usable flow formats"), and both sides agree', async () => {
    // As a terminal prints them (`ovs-ofctl dump-flows br-provider` on a TTY, OpenFlow 1.3+): names quoted, flags
    // and importance shown.
    for (const n of ['node1', 'node2', 'node3']) {
      const f = join(dir, 'snap', 'nodes', n, 'br-provider.flows');
      const text = readFileSync(f, 'utf8').replace(/(in_port=|output:)([A-Za-z][^,\s"]*)/g, '$1"$2"').replace(/(n_bytes=\d+),/g, '$1, reset_counts, importance=0,');
      expect(text).toMatch(/reset_counts, importance=0,.*in_port="underlay0\.341"/);
      writeFileSync(f, text);
    }
    const r = await run('verify', capture, '--snapshot', join(dir, 'snap'), '--json');
    expect(r.err).not.toMatch(/usable flow formats/);
    expect(r.out, r.err).not.toBe('');
    const j = JSON.parse(r.out) as { compared: number; differences: unknown[]; realSide: { northbound: { from: string }; patchFlows: { from: string; added: number } } };
    expect(j.compared).toBeGreaterThan(20);
    expect(j.differences, JSON.stringify(j.differences.slice(0, 2))).toEqual([]);
    expect(r.code).toBe(0);
    // The snapshot has ovn/nb.db: the real side ran it, with the collected Southbound's patch rows.
    expect(j.realSide).toMatchObject({ northbound: { from: 'collected' }, patchFlows: { from: 'collected' } });
    expect(j.realSide.patchFlows.added).toBeGreaterThan(0);
    // Kube-OVN 1.15.20's collected Northbound too: its node-<node> ports (the VIP-node marker) are bound on ovn0.
    const r115 = await run('verify', capture, '--snapshot', join(dir, 'snap-v1.15.20'), '--json');
    const j115 = JSON.parse(r115.out) as typeof j;
    expect(j115.realSide).toMatchObject({ northbound: { from: 'collected' }, patchFlows: { from: 'collected' } });
    expect(j115.differences, JSON.stringify(j115.differences.slice(0, 2))).toEqual([]);
    expect(r115.code).toBe(0);
  }, 120_000);
});

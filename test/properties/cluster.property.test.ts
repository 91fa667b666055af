/**
 * vippath's own cluster properties: over generated clusters that meet the seed document's prerequisites
 * (ETP=Local, --enable-ovn-lb-prefer-local=true, --ls-ct-skip-dst-lport-ips=false), client conversations and
 * node/readiness events, every invariant of @vippath/testing holds. 200 runs each by default
 * (VIPPATH_PROPERTY_RUNS for more, VIPPATH_PROPERTY_SEED=<n>|random for another seed; the seed is printed).
 */
import { describe, expect, it } from 'vitest';
import {
  allInvariants, checkCluster, clusterCaseArb, ClusterPropertyError, clientIpPreserved, connectionsSucceed, conntrackSymmetricAndBounded, noSilentLoss, oneAnnouncer,
  onlyOwnVlanOnWire, runCase, servedByAnnouncer,
} from '@vippath/testing';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from 'vippath';

const runs = Number(process.env.VIPPATH_PROPERTY_RUNS ?? 200);
const seed = process.env.VIPPATH_PROPERTY_SEED === 'random' || process.env.VIPPATH_PROPERTY_SEED === undefined ? (process.env.VIPPATH_PROPERTY_SEED === 'random' ? Date.now() % 2 ** 31 : 20261124) : Number(process.env.VIPPATH_PROPERTY_SEED);

describe('cluster invariants over generated clusters that meet the prerequisites', () => {
  it(`all invariants, with node loss and readiness changes (${runs} runs, seed ${seed})`, () => {
    console.log(`cluster property: ${runs} runs, seed ${seed}`);
    const r = checkCluster({ cases: clusterCaseArb({ prerequisites: true, maxNodes: 4 }), invariants: allInvariants(), parameters: { numRuns: runs, seed } });
    expect(r.runs).toBe(runs);
  });

  it(`without events, every conversation with a ready backend succeeds (${runs} runs, seed ${seed})`, () => {
    let ok = 0;
    let total = 0;
    checkCluster({
      cases: clusterCaseArb({ prerequisites: true, events: false }),
      invariants: [...allInvariants(), connectionsSucceed(), {
        name: 'count',
        check(o) {
          for (const { result } of o.results) {
            total++;
            if (result.ok) ok++;
          }
          return undefined;
        },
      }],
      parameters: { numRuns: runs, seed },
    });
    // Not vacuous: most generated clusters serve.
    expect(ok).toBeGreaterThan(total / 2);
  });
});

describe('the invariants catch real misconfigurations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vippath-cex-'));

  it('ETP=Cluster: the kit finds a connection that fails, shrinks it and writes a replayable case', async () => {
    let error: unknown;
    try {
      checkCluster({ cases: clusterCaseArb({ events: false }).filter((c) => c.topology.etp === 'Cluster' && c.topology.preferLocal && !c.topology.lsCtSkipDstLportIps), invariants: [connectionsSucceed()], parameters: { numRuns: 300, seed: 7 }, outDir: dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClusterPropertyError);
    const e = error as ClusterPropertyError;
    expect(e.violations[0]).toMatch(/^connections succeed: client 0 at \d+ ms: /);
    expect(e.counterexample.topology.etp).toBe('Cluster');
    // Shrunk: a small cluster and one conversation.
    expect(e.counterexample.conversations.length).toBe(1);
    expect(e.replay).toMatch(/^npx vippath replay .*client\.pcap --manifests .*manifests\.yaml/);
    // The written case reproduces through the CLI: the client's SYN reaches a pod, nothing from the VIP comes back.
    const args = e.replay.replace(/^npx vippath /, '').split(' ');
    let out = '';
    const code = await main([...args, '--json'], { stdout: (s) => void (out += s), stderr: () => undefined });
    expect(code).toBe(0);
    const summary = JSON.parse(out) as { toClient: { tcpFromVip: number }; verdicts: { delivered: number } };
    expect(summary.toClient.tcpFromVip).toBe(0);
    // The case's manifests are partial (the kit's Cluster, Deployment and Service): the command fills in the rest
    // with --defaults, so the replay has the VIP the case had (without it, no pool: no VIP at all).
    expect((JSON.parse(out) as { services: Array<{ ingress: string[] }> }).services[0]!.ingress).toEqual([e.counterexample.topology.vip]);
    expect(readFileSync(e.files.manifests, 'utf8')).toMatch(/externalTrafficPolicy: Cluster/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('each invariant fails on a run that breaks it', () => {
    const base = { topology: { pods: [1, 1], notReady: [], etp: 'Local' as const, kubeOvn: 'kube-ovn-1.14' as const, metallb: 'metallb-0.13.7' as const, preferLocal: true, lsCtSkipDstLportIps: false, vip: '10.180.204.252' }, conversations: [{ client: 0, at: 0, path: '/clientip' as const }], events: [] };
    const o = runCase(base);
    for (const inv of allInvariants()) expect(inv.check(o), inv.name).toBeUndefined();
    // Tamper with the observation the way each bug would show.
    expect(oneAnnouncer().check({ ...o, owners: [['node1', 'node2']] })).toMatch(/node1 and node2 all announce/);
    const r0 = o.results[0]!;
    expect(clientIpPreserved().check({ ...o, results: [{ ...r0, result: { ...r0.result, servedBy: { ...r0.result.servedBy!, client: '10.0.0.9:1234' } } }] })).toMatch(/saw 10\.0\.0\.9/);
    expect(servedByAnnouncer().check({ ...o, results: [{ ...r0, result: { ...r0.result, servedBy: { ...r0.result.servedBy!, node: 'node9' } } }] })).toMatch(/served by .* on node9/);
    const untagged = o.injected.map((x) => ({ ...x, result: { ...x.result, outside: x.result.outside.map((f) => Uint8Array.of(...f.subarray(0, 12), ...f.subarray(16))) } }));
    expect(onlyOwnVlanOnWire().check({ ...o, injected: untagged })).toMatch(/untagged/);
    expect(noSilentLoss().check({ ...o, injected: [{ ...o.injected[0]!, result: { ...o.injected[0]!.result, verdict: 'dropped', drops: [] } }] })).toMatch(/without a reason/);
    const z = o.sim.ls.conntracks().find((x) => x.conntrack.size > 0)!;
    const c = z.conntrack.connections(0)[0]!;
    const bent = { ...c, reply: { ...c.reply, dport: c.reply.dport ^ 1 } };
    const ls = { conntracks: () => [{ chassis: z.chassis, conntrack: { size: 1, limit: z.conntrack.limit, connections: () => [bent] } }] };
    expect(conntrackSymmetricAndBounded().check({ ...o, sim: { ls } as never })).toMatch(/does not answer its original/);
  });
});

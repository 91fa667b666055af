/**
 * Session affinity across a load-balancer rewrite, as a real OVS 3.1 + OVN 23.03 run does it (found by
 * test/testbed-caches.test.ts, seed 20261202, path 0:0:0:0:0:0:0:0:0:0 of the session-affinity scenario: after
 * another pod of the VIP owner turned unready, the real cluster took a learned client's next SYN straight to its
 * backend; vippath had forgotten the affinity with the recompiled flows and dropped it to learn again).
 * OVN's affinity learn() carries delete_learned with the learning lflow's cookie (lib/actions.c
 * encode_COMMIT_LB_AFF): a learned flow goes with the flow that learned it, and only with it.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedCluster } from '@vippath/cluster';
import { buildFrame } from '@vippath/wire';
import { scenarioObjects, SESSION_AFFINITY } from './testbed/harness.js';

function setup(): { sim: SimulatedCluster; syn: (sport: number) => Uint8Array } {
  const { objects, cluster } = scenarioObjects(SESSION_AFFINITY);
  const sim = new SimulatedCluster(objects, cluster, { trace: false });
  const vip = sim.state.services[0]!.ingress[0]!;
  const owner = sim.cluster.nodes.find((n) => n.name === sim.state.metallb.owners(vip)[0])!;
  const syn = (sport: number): Uint8Array =>
    buildFrame({ dst: owner.mac, src: '52:54:00:aa:01:10', vlans: [sim.cluster.vlan], ipv4: { src: '10.180.204.100', dst: vip }, tcp: { srcPort: sport, dstPort: 80, seq: 1, flags: 0x02, window: 64240 } });
  return { sim, syn };
}

/** The pod a SYN reached (undefined: dropped). */
function reached(sim: SimulatedCluster, frame: Uint8Array, t: number): string | undefined {
  return sim.inject(frame, t).delivered.find((d) => d.frame[47] === 0x02)?.pod;
}

describe('session affinity across a load-balancer rewrite', () => {
  it('a client learned to a backend keeps it when another backend goes (its learning flow stays); loses it when its own goes', () => {
    const { sim, syn } = setup();
    let t = 1000;
    // The first SYN is dropped while OVN learns the client (ls_in_lb_aff_learn: commit_lb_aff, no next). Its
    // retransmission too (the real run's as well: its conntrack entry DNATs it in ls_in_pre_stateful, and the
    // learned flow matches the VIP as ip4.dst); the client's next connection reaches the learned backend.
    expect(reached(sim, syn(40000), (t += 10))).toBeUndefined();
    expect(reached(sim, syn(40000), (t += 10))).toBeUndefined();
    const backend = reached(sim, syn(40001), (t += 10));
    expect(backend).toBeDefined();
    // Another pod of the owner turns unready: the load balancer is rewritten without it.
    const other = sim.state.pods.find((p) => p.node === sim.state.pods.find((q) => q.name === backend)!.node && p.name !== backend)!;
    sim.setPodReady(other.name, false, (t += 10));
    // The learned flow is still there: a new connection goes straight to the same backend.
    expect(reached(sim, syn(40002), (t += 1000))).toBe(backend);
    // Its own backend goes: the flow that learned it goes, and so does the affinity — the client is learned anew
    // (first SYN dropped) onto a backend still there.
    // (The other pod ready again first, so the owner keeps a ready pod and the VIP: ETP Local.)
    sim.setPodReady(other.name, true, (t += 10));
    expect(reached(sim, syn(40003), (t += 1000))).toBe(backend);
    sim.setPodReady(backend!, false, (t += 10));
    expect(reached(sim, syn(40004), (t += 1000))).toBeUndefined();
    expect(reached(sim, syn(40005), (t += 10))).toBe(other.name);
  });
});

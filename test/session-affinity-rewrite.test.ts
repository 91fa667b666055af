/**
 * Session affinity across a load-balancer rewrite (found by test/testbed-caches.test.ts's session-affinity
 * scenario, seed 20261202: after another pod of the VIP owner turned unready, the real cluster took a learned
 * client's next SYN straight to its backend — path 0:0:0:0:0:0:0:0:0:0 — and after the client's own backend went
 * unready and ready again, still to it — path 0:0:0:0:0:0:2; vippath had forgotten the affinity with the
 * recompiled flows and dropped the SYN to learn again).
 * OVN's affinity learn() carries delete_learned (lib/actions.c encode_COMMIT_LB_AFF): OVS deletes learned flows
 * when the last learn() into their table with their cookie goes. Since ovn 9283a5849 (v23.03.3, 24.03) the cookie
 * is the learning lflow's, so affinity goes with its backend; Debian's 23.03.1 (the real run here) learns with
 * cookie 0, so affinity stays while any backend's learn flow is left (seen with ovs-ofctl dump-flows: table 78).
 */
import { describe, expect, it } from 'vitest';
import { SimulatedCluster } from '@vippath/cluster';
import type { OvnVersion } from '@vippath/ovn';
import { buildFrame } from '@vippath/wire';
import { scenarioObjects, SESSION_AFFINITY } from './testbed/harness.js';

function setup(ovnVersion: OvnVersion): { sim: SimulatedCluster; syn: (sport: number) => Uint8Array } {
  const { objects, cluster } = scenarioObjects(SESSION_AFFINITY);
  const sim = new SimulatedCluster(objects, cluster, { trace: false, ovnVersion });
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

/** Learns the client onto a backend (first SYN dropped; its retransmission too); returns the backend and another pod of its node. */
function learn(sim: SimulatedCluster, syn: (sport: number) => Uint8Array, t: number): { backend: string; other: string } {
  // The first SYN is dropped while OVN learns the client (ls_in_lb_aff_learn: commit_lb_aff, no next). Its
  // retransmission too (the real run's as well: its conntrack entry DNATs it in ls_in_pre_stateful, and the
  // learned flow matches the VIP as ip4.dst); the client's next connection reaches the learned backend.
  expect(reached(sim, syn(40000), t)).toBeUndefined();
  expect(reached(sim, syn(40000), t + 10)).toBeUndefined();
  const backend = reached(sim, syn(40001), t + 20);
  expect(backend).toBeDefined();
  const node = sim.state.pods.find((q) => q.name === backend)!.node;
  return { backend: backend!, other: sim.state.pods.find((p) => p.node === node && p.name !== backend)!.name };
}

describe('session affinity across a load-balancer rewrite', () => {
  it('OVN 23.03 as Debian ships it (23.03.1, learned flows with cookie 0): a client keeps its backend through another backend\'s and its own going unready and ready again', () => {
    const { sim, syn } = setup('23.03');
    let t = 1000;
    const { backend, other } = learn(sim, syn, t);
    sim.setPodReady(other, false, (t += 100));
    expect(reached(sim, syn(40002), (t += 1000))).toBe(backend);
    sim.setPodReady(other, true, (t += 10));
    sim.setPodReady(backend, false, (t += 10));
    // Still learned (reg9[6] = 1), but ls_in_lb 150 has no flow for the backend gone: ls_in_lb 140 picks one, and
    // ls_in_lb_aff_learn (reg9[6] == 0) does not learn anew — the SYN passes at once.
    expect(reached(sim, syn(40003), (t += 1000))).toBe(other);
    sim.setPodReady(backend, true, (t += 10));
    expect(reached(sim, syn(40004), (t += 1000))).toBe(backend);
  });

  it('OVN 24.03 (learned flows with their lflow\'s cookie): a client keeps its backend when another goes; loses it when its own goes', () => {
    const { sim, syn } = setup('24.03');
    let t = 1000;
    const { backend, other } = learn(sim, syn, t);
    // Another pod of the owner turns unready: the load balancer is rewritten without it.
    sim.setPodReady(other, false, (t += 100));
    // The learned flow is still there: a new connection goes straight to the same backend.
    expect(reached(sim, syn(40002), (t += 1000))).toBe(backend);
    // Its own backend goes: the flow that learned it goes, and so does the affinity — the client is learned anew
    // (first SYN dropped) onto a backend still there.
    // (The other pod ready again first, so the owner keeps a ready pod and the VIP: ETP Local.)
    sim.setPodReady(other, true, (t += 10));
    expect(reached(sim, syn(40003), (t += 1000))).toBe(backend);
    sim.setPodReady(backend, false, (t += 10));
    expect(reached(sim, syn(40004), (t += 1000))).toBeUndefined();
    expect(reached(sim, syn(40005), (t += 10))).toBe(other);
  });
});

/** The `upstream` profile: OVN without Kube-OVN's patches, the patch flags off unless given. */
import { describe, expect, it } from 'vitest';
import { clusterFrom, derive, northdProfile, SimulatedCluster, loadManifests, withDefaults } from './index.js';

const cluster = (spec: string) => {
  const objects = withDefaults(loadManifests(`apiVersion: vippath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec: ${spec}\n`, 'c.yaml').objects);
  return { objects, cluster: clusterFrom(objects) };
};

describe('profiles.kubeOvn: upstream', () => {
  it('turns the patch flags off, runs northd without the patches, and Kube-OVN writes no ingress VIP', () => {
    const { objects, cluster: c } = cluster('{profiles: {kubeOvn: upstream}}');
    expect(c.flags).toEqual({ enableOvnLbPreferLocal: false, lsCtSkipDstLportIps: false, lsDnatModDlDst: false });
    expect(northdProfile(c)).toBe('upstream');
    expect(derive(objects, c).loadBalancers.flatMap((lb) => Object.keys(lb.vips))).toEqual([]);
    // No prio-140 prefer-local or l2_lkup-55 flows in the switch the simulation runs.
    const sim = new SimulatedCluster(objects, c);
    const lflows = sim.ls.sb.flows.get(sim.ls.name) ?? [];
    expect(lflows.length).toBeGreaterThan(0);
    expect(lflows.filter((f) => (f.stage === 'ls_in_lb' && f.priority === 140) || (f.stage === 'ls_in_l2_lkup' && f.priority === 55))).toEqual([]);
  });

  it('keeps a flag the manifest sets (the controller writes the VIP, upstream northd ignores prefer_local_backend)', () => {
    const { objects, cluster: c } = cluster('{profiles: {kubeOvn: upstream}, flags: {enableOvnLbPreferLocal: true}}');
    expect(c.flags.enableOvnLbPreferLocal).toBe(true);
    expect(c.flags.lsDnatModDlDst).toBe(false);
    expect(derive(objects, c).loadBalancers.flatMap((lb) => Object.keys(lb.vips))).toEqual(['10.180.204.252:80']);
    const sim = new SimulatedCluster(objects, c);
    expect((sim.ls.sb.flows.get(sim.ls.name) ?? []).filter((f) => f.stage === 'ls_in_lb' && f.priority === 140)).toEqual([]);
  });

  it('refuses an unknown profile, naming the three', () => {
    expect(() => cluster('{profiles: {kubeOvn: kube-ovn-2.0}}')).toThrow(/kube-ovn-1\.14, kube-ovn-1\.15\.20 or upstream/);
  });
});

/**
 * Kube-OVN's northd patches for the testbed, computed by vippath's own northd: the difference between its flows
 * of the Northbound with the cluster's profile (Kube-OVN's overlays) and without (upstream OVN 23.03, which the
 * testbed's real ovn-northd writes). The testbed writes that difference into the real Southbound, so the real
 * cluster and the simulation run the same patch flows and cannot drift apart.
 * @module
 */
import { northboundFor, northdProfile, type ClusterSpec, type DerivedState, type K8sObject } from '@vippath/cluster';
import { lflowDelta, northd, type LflowDelta, type OvnVersion } from '@vippath/ovn';

/** The flows the cluster's Kube-OVN profile adds to and takes from upstream northd's, on switch `ls`. */
export function kubeOvnOverlay(objects: K8sObject[], state: DerivedState, cluster: ClusterSpec, ls: string, ovnVersion: OvnVersion = '23.03'): LflowDelta {
  const { nb, chassis } = northboundFor(objects, state.pods, cluster, state.loadBalancers);
  // At the release the testbed's real ovn-northd writes (its rows are what the difference is applied to).
  const upstream = northd(nb, { profile: 'upstream', ovnVersion, chassis });
  const patched = northd(nb, { profile: northdProfile(cluster), ovnVersion, chassis });
  return lflowDelta(upstream.flows.get(ls) ?? [], patched.flows.get(ls) ?? []);
}

/** The logical ports a flow only runs beside (`is_chassis_resident("P")`): ovn-controller compiles it only where P is bound. */
export function residentPorts(match: string): string[] {
  return [...match.matchAll(/is_chassis_resident\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!);
}

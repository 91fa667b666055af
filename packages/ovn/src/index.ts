/**
 * `@vippath/ovn` — the OVN logical switch of a Kube-OVN underlay subnet: ports, the pipeline stages that
 * decide the path to a MetalLB VIP, per-(chassis, zone) conntrack, load-balancer DNAT with Kube-OVN's
 * local-backend preference (profiles `kube-ovn-1.14` and `kube-ovn-1.15.20`), reply un-DNAT, and
 * ovn-trace-like traces. Facts: shared/research/kube-ovn.md §3, §4, §6.
 * @document ../README.md
 * @module @vippath/ovn
 */
export * from './addresses.js';
export * from './conntrack.js';
export * from './loadbalancer.js';
export * from './switch.js';
export * from './ovsdb.js';
export * from './lflow/types.js';

/**
 * `@vippath/ovn` — the OVN logical switch of a Kube-OVN underlay subnet: ports, the pipeline stages that
 * decide the path to a MetalLB VIP, per-(chassis, zone) conntrack, load-balancer DNAT with Kube-OVN's
 * local-backend preference (profiles `kube-ovn-1.14` and `kube-ovn-1.15.20`), reply un-DNAT, and
 * ovn-trace-like traces. Facts: shared/research/kube-ovn.md §3, §4, §6.
 * @document ../README.md
 * @module @vippath/ovn
 */
export * from './switch.js';
export * from './ovsdb.js';
export * from './lflow/types.js';
export * from './lflow/lflow-text.js';
export * from './northd/nb.js';
export * from './northd/stages.js';
export * from './northd/northd.js';
export * from './northd/nb-ovsdb.js';
export * from './lflow/ct-api.js';
export * from './ct/index.js';
export * from './lflow/fields.js';
export * from './lflow/lexer.js';
export * from './lflow/expr.js';
export * from './lflow/actions.js';
export * from './lflow/packet.js';
export * from './lflow/trace.js';
export * from './lflow/ct-trace.js';
export * from './lflow/executor.js';
export * from './lflow/microflow.js';
export * from './lflow/sb.js';

/**
 * `@vippath/ovn` — OVN for a Kube-OVN underlay subnet, from its own logical flows: northd (the Logical_Flow rows
 * ovn-northd 23.03 writes, Kube-OVN's patches as profile overlays), the logical-flow executor with OVS-like
 * conntrack and the chassis' physical side, ovn-trace-like traces, and `LogicalSwitch`, which runs a switch per
 * chassis the way a cluster does. Facts: shared/research/kube-ovn.md §3, §4, §6.
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
export * from './northd/nb-transact.js';
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
export * from './lflow/delta.js';
export type { MegaflowStats } from './lflow/megaflow.js';

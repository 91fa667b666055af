/**
 * `@vippath/openflow` — `br-provider` as Open vSwitch runs it.
 *
 * - {@link parseFlows}/{@link parseFlow}: `ovs-ofctl add-flows` text and `dump-flows` output
 *   ({@link FlowParseError} with line and column).
 * - {@link Bridge}: ports, tables with a tuple-space {@link Classifier}, actions, NORMAL, counters,
 *   {@link Bridge.dumpFlows}; traces recorded by the forwarding code itself ({@link formatTrace}).
 * - {@link kubeOvnProviderFlows}: the flows Kube-OVN installs on `br-provider`.
 * - {@link parseShowPorts}, {@link resolvePortName}: port names as `ovs-ofctl show` and `dump-flows --names`
 *   print them (quoted, cut to 15 characters).
 * @document ../README.md
 * @module @vippath/openflow
 */
export * from './errors.js';
export * from './key.js';
export * from './fields.js';
export * from './actions.js';
export * from './flow.js';
export * from './classifier.js';
export * from './bridge.js';
export { MacTable, type MacSlot } from './mac-table.js';
export type { MegaflowStats } from './megaflow.js';
export * from './kubeovn.js';
export * from './ports.js';

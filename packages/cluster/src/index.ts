/**
 * `@vippath/cluster` — the whole path, composed per node as DATAPATH.md describes it.
 *
 * - Manifests in: Kubernetes YAML as users have it ({@link loadManifests}: every field checked, errors at
 *   file:line:column), the vippath `Cluster` description ({@link clusterFrom}), the default scenario
 *   ({@link defaultObjects}, {@link DEFAULT_CLUSTER}, {@link withDefaults}), {@link lint} with consequences, and
 *   what the controllers would derive ({@link derive}, {@link statusJson}).
 * - The composition: {@link SimulatedCluster} — the wire (a learning switch carrying VLAN 341) → `underlay0.341`
 *   → MetalLB's responder on br-provider LOCAL (`@vippath/metallb`) → br-provider's flows (`@vippath/openflow`)
 *   → patch → the OVN logical switch and LB DNAT (`@vippath/ovn`) → agnhost-like pods ({@link PodHost}); node
 *   loss and readiness in simulated time; {@link SimulatedCluster.inject} for one frame with its steps,
 *   {@link SimulatedCluster.process} for the hot path with the flow cache. {@link ExternalClient} is the
 *   seed document's `curl`.
 * - Replays: {@link replayCapture} writes `wire.pcapng`, `nodes.pcapng`, `trace.jsonl` ({@link TraceLine}),
 *   `summary.json` ({@link ReplaySummary}) and the HTML report ({@link renderReport}).
 * @document ../README.md
 * @module @vippath/cluster
 */
export * from './manifests.js';
export * from './lint.js';
export * from './scenario.js';
export { DEFAULT_SCENARIO_FILE } from './default-scenario.js';
export * from './derive.js';
export * from './pods.js';
export type { StageName, TraceStep, BridgeTrace, BridgeRuleHit, OvnFlowHit, EmittedFrame, TraceLine, TimelineEvent } from './outputs.js';
export * from './describe.js';
export * from './simulation.js';
export * from './client.js';
export * from './frame-spec.js';
export * from './trace-text.js';
export * from './report.js';
export * from './replay.js';
export * from './drops.js';
export * from './trace-levels.js';
export * from './snapshot.js';
export { FLOW_COUNT_LIMIT } from './flow-count.js';

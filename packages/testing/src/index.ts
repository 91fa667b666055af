/**
 * `@vippath/testing` — property-based testing of forwarding rules with fast-check.
 *
 * - {@link frameArb}, {@link malformedFrameArb}: frames of every protocol the data path meets.
 * - {@link checkFlowTable}: a property of your own `ovs-ofctl` flows over generated packets; a failure is a
 *   {@link FlowPropertyError} with the minimal packet written as a pcap and the `vippath of trace` command that
 *   replays it. Invariants: {@link neverOutputsTo}, {@link outputsExactly}, {@link onlyVlan}.
 *
 * Cluster-level arbitraries (topologies, conversations, events) and invariants follow the cluster package.
 * @module
 */
export * from './frames.js';
export * from './flowcheck.js';

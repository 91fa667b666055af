/**
 * `@vippath/testing` — property-based testing of forwarding rules with fast-check.
 *
 * - {@link frameArb}, {@link malformedFrameArb}: frames of every protocol the data path meets.
 * - {@link checkFlowTable}: a property of your own `ovs-ofctl` flows over generated packets; a failure is a
 *   {@link FlowPropertyError} with the minimal packet written as a pcap and the `vippath of trace` command that
 *   replays it. Invariants: {@link neverOutputsTo}, {@link outputsExactly}, {@link onlyVlan}.
 *
 * - {@link flowTableArb}, {@link loadBalancerArb}: OpenFlow tables in `ovs-ofctl` syntax (the generator vippath's
 *   own differential test runs against ovs-vswitchd) and OVN load balancers.
 * - {@link checkCluster}: invariants of the whole path over generated clusters ({@link topologyArb}), client
 *   conversations ({@link conversationArb}) and events ({@link eventArb}); the invariant library
 *   ({@link oneAnnouncer}, {@link servedByAnnouncer}, {@link clientIpPreserved}, {@link repliesFromVip},
 *   {@link onlyOwnVlanOnWire}, {@link conntrackSymmetricAndBounded}, {@link noSilentLoss}); a failure is a
 *   {@link ClusterPropertyError} with the shrunk case written as manifests and a pcap, and the `vippath replay`
 *   command that reproduces it.
 * @document ../README.md
 * @module @vippath/testing
 */
export * from './frames.js';
export * from './flowcheck.js';
export * from './cluster.js';
export * from './tables.js';

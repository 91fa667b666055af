/**
 * `@vippath/cluster` — manifests in: Kubernetes YAML as users have it ({@link loadManifests}), and lint for the
 * MetalLB-on-Kube-OVN-underlay setup ({@link lint}). The derived state and the per-node composition of the stages
 * (the replay) build on these.
 * @module
 */
export * from './manifests.js';
export * from './lint.js';
export * from './scenario.js';
export * from './derive.js';
export * from './pods.js';
export type { StageName, TraceStep, EmittedFrame, TraceLine, TimelineEvent } from './outputs.js';
export * from './describe.js';
export * from './simulation.js';
export * from './client.js';
export * from './frame-spec.js';
export * from './trace-text.js';
export * from './report.js';
export * from './replay.js';

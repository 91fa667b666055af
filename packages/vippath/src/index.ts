/**
 * `vippath` — the umbrella package: the `vippath` CLI and the library API of every stage.
 *
 * Re-exports `@vippath/wire` (frames), `@vippath/pcap` (captures), `@vippath/metallb` (L2 announcements) and
 * `@vippath/openflow` (br-provider), `@vippath/ovn` (logical switch, conntrack, LB) and `@vippath/testing`
 * (property-based testing kit), `@vippath/cluster` (manifests, lint) as namespaces, and the decoding the
 * CLI uses ({@link decodeCapture}, {@link formatSummary}).
 * @document ../README.md
 * @module vippath
 */
export * as wire from '@vippath/wire';
export * as pcap from '@vippath/pcap';
export * as metallb from '@vippath/metallb';
export * as openflow from '@vippath/openflow';
export * as ovn from '@vippath/ovn';
export * as testing from '@vippath/testing';
export * as cluster from '@vippath/cluster';
export { decodeCapture, formatSummary, layersOf, type DecodedRecord, type DecodedCapture, type DecodeOptions, type Layers } from './decode.js';
export { main } from './main.js';
export { shown, terminalText, UsageError, type CommandIO, type Command } from './io.js';
export type { CommandIO as CliIO } from './io.js';

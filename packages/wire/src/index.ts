/**
 * `@vippath/wire` — frames as typed views.
 *
 * Two ways in, for two kinds of caller:
 * - the hot path: {@link FrameDecoder} fills a reused {@link DecodedFrame} with numbers, never throws
 *   and never allocates; the `rewrite*`, `pushVlan`/`popVlan` edits change the frame in place with
 *   incremental checksum updates (RFC 1624);
 * - people and tests: one module per protocol with a validated view (`XxxView.checked`), a
 *   representation (`XxxRepr`) and `parseXxx`/`emitXxx`, plus {@link parseFrame}/{@link buildFrame}
 *   for whole frames.
 *
 * Malformed input is a {@link MalformedFrameError} (layer, offset, reason) or, in the decoder, a status.
 * @document ../README.md
 * @module @vippath/wire
 */
export * from './errors.js';
export * from './addresses.js';
export * from './checksum.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './icmp.js';
export * from './ndp.js';
export * from './tcp.js';
export * from './udp.js';
export * from './frame.js';
export * from './decoder.js';
export * from './tagged-tcp4.js';
export * from './edit.js';
export * from './int-key-index.js';
export * from './slot-order.js';

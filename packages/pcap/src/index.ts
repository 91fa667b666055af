/**
 * `@vippath/pcap` — captures in and out.
 *
 * - {@link openCapture}: stream records from a path, stdin (`-`) or a Readable, in constant memory.
 * - {@link CaptureCursor}: the zero-allocation cursor underneath, for in-memory buffers (benchmarks, tests).
 * - {@link PcapWriter} / {@link PcapngWriter}: write captures tshark reads.
 * - {@link openLive}: live capture through the optional `cap` addon.
 * @document ../README.md
 * @module @vippath/pcap
 */
export * from './errors.js';
export * from './linktype.js';
export * from './cursor.js';
export * from './reader.js';
export * from './writer.js';
export * from './live.js';

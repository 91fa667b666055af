/**
 * A frame's bytes copied eight at a time as doubles, where the host and engine keep them exact: copy-in's capture
 * copy and the way back's tagged copy in the cluster, the pod's answer into the switch's first output in ovn.
 * @module
 */

/** Whether the host stores a word's low byte first (an Int32Array then holds a DataView's little-endian words as they are). */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Whether this engine moves a double's bits through a DataView read and a Float64Array store unchanged, asked once
 * at load with a signalling and a quiet NaN carrying payloads. ECMAScript leaves a NaN's stored encoding to the
 * implementation (NumericToRawBytes); V8 keeps it on the hosts Node runs on, and copy-in.test.ts (cluster) checks it in every
 * tier. An engine that did not would corrupt frames silently: the word copy is then taken instead.
 */
export const DOUBLES_EXACT = ((): boolean => {
  const src = new Uint8Array([0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf4, 0x7f, 0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xfd, 0xff]);
  const view = new DataView(src.buffer);
  const dst = new Float64Array(2);
  dst[0] = view.getFloat64(0, true);
  dst[1] = view.getFloat64(8, true);
  const out = new Uint8Array(dst.buffer);
  for (let i = 0; i < 16; i++) if (out[i] !== src[i]) return false;
  return true;
})();

/**
 * Copies the whole 8-byte units of `src[offset, offset + length)` to the start of `dst64`'s bytes as float64s; returns
 * how many bytes (the rest, under eight, is the caller's). Only where {@link HOST_LE}: the units read little-endian are
 * stored in the host's order, the same; and only where {@link DOUBLES_EXACT}. A double's bits go through unchanged — V8 moves a float64 read from a DataView
 * into a Float64Array without arithmetic, NaN payloads and signalling NaNs included, in every tier (cluster's copy-in.test.ts
 * checks them cold and optimized) — and a unit costs what an int32 word did: one bounds-checked load through the
 * DataView and one store, half as many of each as int32 words (≈ 23 instructions a word before, bench/README "The
 * cluster's hops per frame (session 17)"; the frame's copy 389 → ≈ 211 a frame on http, session 45). Thirty-two bytes
 * a turn, read before any is written: TurboFan checks the DataView (map, length, base) at every turn.
 */
export function copyDoublesLe(src: DataView, offset: number, length: number, dst64: Float64Array): number {
  let i = 0;
  for (; ((i + 32) | 0) <= length; i = (i + 32) | 0) {
    const o = (offset + i) | 0;
    const a = src.getFloat64(o, true);
    const b = src.getFloat64((o + 8) | 0, true);
    const c = src.getFloat64((o + 16) | 0, true);
    const d = src.getFloat64((o + 24) | 0, true);
    const k = i >> 3;
    dst64[k] = a;
    dst64[(k + 1) | 0] = b;
    dst64[(k + 2) | 0] = c;
    dst64[(k + 3) | 0] = d;
  }
  for (; ((i + 8) | 0) <= length; i = (i + 8) | 0) dst64[i >> 3] = src.getFloat64((offset + i) | 0, true);
  return i;
}

/**
 * `src[offset, offset + length)` to the start of `dst64`'s bytes by {@link copyDoublesLe}, the length rounded up to whole
 * doubles — read past the frame from the source, written past it in the destination, so only where both hold those
 * bytes (false, nothing written, otherwise: the caller copies as it would without this). Only where
 * {@link HOST_LE} and {@link DOUBLES_EXACT} hold (the caller's test). For a destination whose bytes past the frame are
 * nobody's (a reused output buffer read at the frame's length).
 */
export function copyRoundedLe(src: DataView, offset: number, length: number, dst64: Float64Array): boolean {
  const n = (length + 7) & ~7;
  if (((offset + n) | 0) > src.byteLength || n >> 3 > dst64.length) return false;
  copyDoublesLe(src, offset, n, dst64);
  return true;
}

/**
 * The copies behind PathCaches' `copyIn` (a frame from a capture's chunk into the hop's scratch), apart so that a test
 * runs both on any host: the little-endian one (eight bytes at a time as doubles) on this machine, the DataView one
 * big-endian hosts take; and the exact-length views of reused buffers the hops hand on.
 * @module
 */

/** Whether the host stores a word's low byte first (an Int32Array then holds a DataView's little-endian words as they are). */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Whether this engine moves a double's bits through a DataView read and a Float64Array store unchanged, asked once
 * at load with a signalling and a quiet NaN carrying payloads. ECMAScript leaves a NaN's stored encoding to the
 * implementation (NumericToRawBytes); V8 keeps it on the hosts Node runs on, and copy-in.test.ts checks it in every
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
 * into a Float64Array without arithmetic, NaN payloads and signalling NaNs included, in every tier (copy-in.test.ts
 * checks them cold and optimized) — and a unit costs what an int32 word did: one bounds-checked load through the
 * DataView and one store, half as many of each as int32 words (≈ 23 instructions a word before, bench/README "The
 * cluster's hops per frame (session 17)"; the frame's copy 389 → ≈ 221 a frame on http in the committed form, session 45: serve 277.9 → 498.8). Thirty-two bytes
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
 * copyIn's copy on a little-endian host: `src[offset, offset + words)` (`words` a multiple of four, {@link wordBytes})
 * to the start of the buffer `dst64` and `dst32` view, eight bytes at a time ({@link copyDoublesLe}), then the last
 * whole word if one is left; returns `words`.
 */
export function copyInLe(src: DataView, offset: number, words: number, dst64: Float64Array, dst32: Int32Array): number {
  let i = copyDoublesLe(src, offset, words, dst64);
  if (i < words) {
    dst32[i >> 2] = src.getInt32((offset + i) | 0, true);
    i = (i + 4) | 0;
  }
  return i;
}

/**
 * How many bytes of `src[offset, offset + length)` to copy as words: the frame rounded up to whole words when the
 * source holds the bytes after it (a capture's chunk: the next record's), so that no byte is left for a byte loop — the
 * destination's bytes past `length` are not the frame's to anybody (a scratch buffer read at the frame's length) —,
 * else its whole words only.
 */
export function wordBytes(offset: number, length: number, sourceLength: number): number {
  const whole = (length + 3) & ~3;
  return offset + whole <= sourceLength ? whole : length & ~3;
}

/** {@link copyInLe} on any host: each word through DataViews (the byte order stated on both sides). */
export function copyWordsView(src: DataView, offset: number, length: number, dst: DataView): number {
  let i = 0;
  for (; i + 4 <= length; i += 4) dst.setInt32(i, src.getInt32(offset + i, true), true);
  return i;
}

/**
 * `buf[0, length)` as a view made once per length and kept in `views`: a reused buffer handed on at its frame's length
 * (an observer's frame, a switch run's input) without a view allocated per frame.
 */
export function keptView(views: Array<Uint8Array | undefined>, buf: Uint8Array, length: number): Uint8Array {
  return views[length] ?? (views[length] = buf.subarray(0, length));
}

/**
 * A frame with one 802.1Q tag, `src[0, length)` (`length` ≥ 16), untagged into `dst` as whole words: its MACs
 * (`src[0, 12)`) to `dst[0, 12)`, the rest (`src[16, length)`) to `dst[12, length - 4)` — `src32` and `dst32` the
 * words of the two buffers from their byte 0, apart (the caches' scratch and work buffers). The last word may carry
 * up to three bytes past the frame into `dst` past `length - 4`: the caller's buffer is read at the frame's length
 * there. Both must hold the frame rounded up to whole words. A byte loop cost ≈ 25 instructions a byte in TurboFan's
 * code (each side's map, length and base reloaded every byte), a word loop as much a word.
 */
export function untagWords(src32: Int32Array, dst32: Int32Array, length: number): void {
  dst32[0] = src32[0]!;
  dst32[1] = src32[1]!;
  dst32[2] = src32[2]!;
  const end = (length + 3) >> 2;
  for (let k = 4; k < end; k = (k + 1) | 0) dst32[(k - 1) | 0] = src32[k]!;
}

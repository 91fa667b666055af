/**
 * The copies behind PathCaches' `copyIn` (a frame from a capture's chunk into the hop's scratch), apart so that a test
 * runs both on any host: the little-endian one (eight bytes at a time as doubles) on this machine, the DataView one
 * big-endian hosts take; and the exact-length views of reused buffers the hops hand on.
 * @module
 */

import { copyDoublesLe as copyDoublesLeImport, DOUBLES_EXACT as DOUBLES_EXACTImport, HOST_LE as HOST_LEImport } from '@vippath/wire';

// The doubles copy and its guards are wire's (the switch's executor copies by it too); bound to module constants, which
// TurboFan folds (caches.ts says why), and exported again under their names here.
/** Whether the host stores a word's low byte first (wire's copy-doubles.ts). */
export const HOST_LE = HOST_LEImport;
/** Whether this engine moves a double's bits unchanged through a DataView read and a Float64Array store (wire's copy-doubles.ts). */
export const DOUBLES_EXACT = DOUBLES_EXACTImport;
/** The whole 8-byte units of a source to a Float64Array's start (wire's copy-doubles.ts). */
export const copyDoublesLe = copyDoublesLeImport;

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

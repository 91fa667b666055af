/**
 * The word copies behind PathCaches' `copyIn` (a frame from a capture's chunk into the hop's scratch), apart so that
 * a test runs both on any host: the little-endian one on this machine's words, the DataView one big-endian hosts take;
 * and the exact-length views of reused buffers the hops hand on.
 * @module
 */

/** Whether the host stores a word's low byte first (an Int32Array then holds a DataView's little-endian words as they are). */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Copies the whole words of `src[offset, offset + length)` to the start of `dst32`'s bytes; returns how many bytes
 * (the rest, under four, is the caller's). Only where {@link HOST_LE}: the words read little-endian are stored in the
 * host's order, the same. Thirty-two bytes a turn, read before any is written, into an Int32Array (aligned):
 * TurboFan checks a DataView (map, detached buffer, length, base) at every turn of a loop and again after every store
 * through it — ≈ 36 instructions a word at four bytes a turn, ≈ 23 here (bench/README, "The cluster's hops per frame
 * (session 17)").
 */
export function copyWordsLe(src: DataView, offset: number, length: number, dst32: Int32Array): number {
  let i = 0;
  for (; i + 32 <= length; i += 32) {
    const o = offset + i;
    const a = src.getInt32(o, true);
    const b = src.getInt32(o + 4, true);
    const c = src.getInt32(o + 8, true);
    const d = src.getInt32(o + 12, true);
    const e = src.getInt32(o + 16, true);
    const f = src.getInt32(o + 20, true);
    const g = src.getInt32(o + 24, true);
    const h = src.getInt32(o + 28, true);
    const k = i >> 2;
    dst32[k] = a;
    dst32[k + 1] = b;
    dst32[k + 2] = c;
    dst32[k + 3] = d;
    dst32[k + 4] = e;
    dst32[k + 5] = f;
    dst32[k + 6] = g;
    dst32[k + 7] = h;
  }
  // Sixteen bytes once (a 58-byte ACK's 26 after its first 32), then single words (at most three).
  if (i + 16 <= length) {
    const o = offset + i;
    const a = src.getInt32(o, true);
    const b = src.getInt32(o + 4, true);
    const c = src.getInt32(o + 8, true);
    const d = src.getInt32(o + 12, true);
    const k = i >> 2;
    dst32[k] = a;
    dst32[k + 1] = b;
    dst32[k + 2] = c;
    dst32[k + 3] = d;
    i += 16;
  }
  for (; i + 4 <= length; i += 4) dst32[i >> 2] = src.getInt32(offset + i, true);
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

/** {@link copyWordsLe} on any host: each word through DataViews (the byte order stated on both sides). */
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

/**
 * A short frame's copy as int32 words through views kept per buffer: `TypedArray.prototype.set` is a builtin call of
 * ≈ 175 instructions whatever the length, a 54–131-byte frame is 14–33 words.
 * @module
 */

/** Above this many bytes the copy is the builtin's (its memmove outruns a word loop). */
export const WORD_COPY_MAX = 256;

/**
 * Copies `src[0, length)` to `dst[at, at + length)` (the caller's views: the bytes within both; distinct buffers, or
 * the same bytes). Words where both start 4-byte-aligned in their buffers and the frame is short, the last one to three
 * bytes one at a time (nothing past `length` is read or written); otherwise the builtin for a view of exactly `length`
 * bytes, a byte loop for a longer view (no subarray made per frame). The Int32Array views of the two buffers last seen are kept
 * (made again when a buffer changes), and a source's buffer is read only when the source view changes: a
 * `.buffer` per frame is a call of its own.
 */
export class FrameCopier {
  private lastSrc: Uint8Array | undefined = undefined;
  private srcBuf: ArrayBufferLike | undefined = undefined;
  private src32: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private lastDst: Uint8Array | undefined = undefined;
  private dstBuf: ArrayBufferLike | undefined = undefined;
  private dst32: Int32Array<ArrayBufferLike> = new Int32Array(0);

  copy(dst: Uint8Array, src: Uint8Array, length: number, at = 0): void {
    const so = src.byteOffset;
    const dOff = dst.byteOffset + at;
    if (length > WORD_COPY_MAX || ((so | dOff) & 3) !== 0) {
      if (length === src.length) dst.set(src, at);
      else for (let i = 0; i < length; i++) dst[at + i] = src[i]!;
      return;
    }
    if (src !== this.lastSrc) {
      this.lastSrc = src;
      const b = src.buffer;
      if (b !== this.srcBuf) {
        this.srcBuf = b;
        this.src32 = new Int32Array(b, 0, b.byteLength >> 2);
      }
    }
    if (dst !== this.lastDst) {
      this.lastDst = dst;
      const b = dst.buffer;
      if (b !== this.dstBuf) {
        this.dstBuf = b;
        this.dst32 = new Int32Array(b, 0, b.byteLength >> 2);
      }
    }
    const s = this.src32;
    const d = this.dst32;
    const s0 = so >> 2;
    const d0 = dOff >> 2;
    const words = length >> 2;
    let i = 0;
    // Eight words a turn, read before any is written.
    for (; i + 8 <= words; i += 8) {
      const a = s[s0 + i]!;
      const b = s[s0 + i + 1]!;
      const c = s[s0 + i + 2]!;
      const e = s[s0 + i + 3]!;
      const f = s[s0 + i + 4]!;
      const g = s[s0 + i + 5]!;
      const h = s[s0 + i + 6]!;
      const k = s[s0 + i + 7]!;
      d[d0 + i] = a;
      d[d0 + i + 1] = b;
      d[d0 + i + 2] = c;
      d[d0 + i + 3] = e;
      d[d0 + i + 4] = f;
      d[d0 + i + 5] = g;
      d[d0 + i + 6] = h;
      d[d0 + i + 7] = k;
    }
    for (; i < words; i++) d[d0 + i] = s[s0 + i]!;
    for (let j = words << 2; j < length; j++) dst[at + j] = src[j]!;
  }
}

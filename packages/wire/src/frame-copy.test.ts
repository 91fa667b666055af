import { describe, expect, it } from 'vitest';
import { FrameCopier, WORD_COPY_MAX } from './frame-copy.js';

/** A buffer of distinct bytes (a byte left uncopied, or copied from the wrong place, shows). */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

describe('FrameCopier', () => {
  it('copies every length by words and its tail bytes, and writes nothing past the length', () => {
    const c = new FrameCopier();
    const src = pattern(512, 3);
    for (let len = 0; len <= WORD_COPY_MAX + 9; len++) {
      const dst = new Uint8Array(len + 16).fill(0xee);
      c.copy(dst, src, len);
      expect(dst.subarray(0, len)).toEqual(src.subarray(0, len));
      expect(dst.subarray(len).every((x) => x === 0xee)).toBe(true);
    }
  });

  it('reads and writes at the views\' offsets: aligned (words), unaligned (the builtin), views of one buffer in turn', () => {
    const c = new FrameCopier();
    const whole = pattern(1024, 11);
    const out = new Uint8Array(1024);
    for (const [so, dOff] of [[0, 0], [64, 8], [4, 12], [1, 0], [0, 2], [128, 4]] as const) {
      for (const len of [54, 58, 131, 255, 300]) {
        const src = whole.subarray(so, so + len);
        const dst = out.subarray(dOff, dOff + len + 8);
        dst.fill(0);
        c.copy(dst, src, len);
        expect(dst.subarray(0, len)).toEqual(src);
        expect(dst.subarray(len).every((x) => x === 0)).toBe(true);
      }
    }
  });

  it('writes at `at` in the destination (room for a VLAN tag before the frame), words and builtin alike', () => {
    const c = new FrameCopier();
    const src = pattern(600, 9);
    for (const len of [54, 131, 257, 600]) {
      for (const at of [0, 4, 2]) {
        const dst = new Uint8Array(len + 16).fill(0xee);
        c.copy(dst, len === src.length ? src : src.subarray(0, len), len, at);
        expect(dst.subarray(0, at).every((x) => x === 0xee)).toBe(true);
        expect(dst.subarray(at, at + len)).toEqual(src.subarray(0, len));
        expect(dst.subarray(at + len).every((x) => x === 0xee)).toBe(true);
        c.copy(dst.fill(0xee), src, len, at);
        expect(dst.subarray(at, at + len)).toEqual(src.subarray(0, len));
        expect(dst.subarray(at + len).every((x) => x === 0xee)).toBe(true);
      }
    }
  });

  it('follows a source whose buffer changes under the same length (new views, not the kept ones)', () => {
    const c = new FrameCopier();
    const dst = new Uint8Array(256);
    for (let seed = 0; seed < 4; seed++) {
      const src = pattern(64, seed * 5 + 1);
      c.copy(dst, src, 61);
      expect(dst.subarray(0, 61)).toEqual(src.subarray(0, 61));
    }
  });
});

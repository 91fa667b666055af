/** Big-endian (network order) integer access to byte arrays, without DataView allocation. */

/** Reads a 16-bit big-endian value. */
export function read16(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}

/** Writes a 16-bit big-endian value. */
export function write16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 8) & 0xff;
  buf[offset + 1] = value & 0xff;
}

/** Reads a 32-bit big-endian value as unsigned. */
export function read32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/** Writes a 32-bit big-endian value. */
export function write32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

/**
 * A copy of `bytes[start, end)` as a plain Uint8Array. Not `bytes.slice()`: on a Node Buffer that returns a
 * view sharing memory, so an in-place edit of the "copy" would change the caller's frame.
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end);
}

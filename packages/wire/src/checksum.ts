/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Sums are kept as plain numbers below 2^32 and folded at the end, so no intermediate allocation or
 * 16-bit wrap handling is needed per word.
 */
import { read32 } from './bytes.js';

export { copyBytes, read16, read32, write16, write32 } from './bytes.js';

/** Adds the 16-bit big-endian words of `buf[offset, offset+length)` to `initial` (odd tail padded with 0). */
export function sumWords(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  // Four words per step (conntrack verifies an IPv4 header and a TCP segment per packet: the loop's own compare
  // and fold per word cost about as much as the loads), folded while it stays a small integer (below 2^30).
  const end8 = offset + (length & ~7);
  let i = offset;
  for (; i < end8; i += 8) {
    sum += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!) + ((buf[i + 4]! << 8) | buf[i + 5]!) + ((buf[i + 6]! << 8) | buf[i + 7]!);
    if (sum > 0x3fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  const end = offset + (length & ~1);
  for (; i < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (sum > 0x3fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  if (length & 1) sum += buf[end]! << 8;
  return sum;
}

/** Folds a sum to 16 bits with end-around carry (not complemented). */
export function foldSum(sum: number): number {
  // Below 2^32 (every sum this package makes) two folds reach 16 bits: the first leaves at most 0x1fffe, the
  // second at most 0xffff. In int32 operations, not the float division and loop of larger sums: a fast-lane
  // frame's offload test folds its pseudo-header sum (bench/README "The fast lane's checksum … (session 17)").
  if (sum >>> 0 === sum) {
    sum = (sum & 0xffff) + (sum >>> 16);
    return (sum & 0xffff) + (sum >>> 16);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum of a byte range: the ones' complement of the folded sum. */
export function internetChecksum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  return ~foldSum(sumWords(buf, offset, length, initial)) & 0xffff;
}

/** Unfolded sum of the IPv4 pseudo-header (RFC 793 §3.1 / RFC 768) for a given upper-layer length. */
export function pseudoHeaderSumV4(src: number, dst: number, protocol: number, l4Length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + l4Length;
}

/** Unfolded sum of the IPv6 pseudo-header (RFC 8200 §8.1); addresses are read in place. */
export function pseudoHeaderSumV6(buf: Uint8Array, srcOffset: number, dstOffset: number, nextHeader: number, l4Length: number): number {
  return sumWords(buf, srcOffset, 16, sumWords(buf, dstOffset, 16, nextHeader + (l4Length >>> 16) + (l4Length & 0xffff)));
}

/** IPv4 pseudo-header sum with the addresses read from an IPv4 header at `ipOffset`. */
export function pseudoHeaderSumV4At(buf: Uint8Array, ipOffset: number, protocol: number, l4Length: number): number {
  return pseudoHeaderSumV4(read32(buf, ipOffset + 12), read32(buf, ipOffset + 16), protocol, l4Length);
}

/**
 * What a stored checksum says about its data.
 * - `ok`: it verifies.
 * - `partial`: it holds only the pseudo-header sum, as a sender with checksum offload leaves it; the NIC
 *   would have completed it, so a capture taken on the sending host shows this. The frame is valid.
 * - `bad`: neither.
 * - `none`: UDP over IPv4 with checksum 0 (RFC 768: no checksum computed).
 */
export type ChecksumStatus = 'ok' | 'partial' | 'bad' | 'none';

/**
 * Verifies an L4 checksum stored at `checksumOffset` inside the segment `[l4Offset, l4Offset+l4Length)`,
 * given the pseudo-header sum (0 for ICMPv4, which has none).
 */
export function verifyL4Checksum(buf: Uint8Array, l4Offset: number, l4Length: number, checksumOffset: number, pseudoSum: number): ChecksumStatus {
  const stored = (buf[checksumOffset]! << 8) | buf[checksumOffset + 1]!;
  // Sum with the stored value included: a correct checksum makes the folded total 0xffff.
  const total = foldSum(sumWords(buf, l4Offset, l4Length, pseudoSum));
  if (total === 0xffff) return 'ok';
  if (pseudoSum !== 0) {
    const pseudo = foldSum(pseudoSum);
    if (stored === pseudo || (pseudo === 0xffff && stored === 0) || (pseudo === 0 && stored === 0xffff)) return 'partial';
  }
  return 'bad';
}

/**
 * RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data changes from `oldWord`
 * to `newWord`: HC' = ~(~HC + ~m + m').
 */
export function checksumAdjust16(checksum: number, oldWord: number, newWord: number): number {
  return ~foldSum((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** {@link checksumAdjust16} for a 32-bit field (an IPv4 address), as two 16-bit words. */
export function checksumAdjust32(checksum: number, oldValue: number, newValue: number): number {
  const sum = (~checksum & 0xffff) + (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) + (newValue >>> 16) + (newValue & 0xffff);
  return ~foldSum(sum) & 0xffff;
}

/** {@link checksumAdjust16} for a 16-byte field changed in place from `old` (at oldOffset) to `now` (at newOffset). */
export function checksumAdjust128(checksum: number, old: Uint8Array, oldOffset: number, now: Uint8Array, newOffset: number): number {
  let sum = ~checksum & 0xffff;
  for (let i = 0; i < 16; i += 2) {
    sum += ~((old[oldOffset + i]! << 8) | old[oldOffset + i + 1]!) & 0xffff;
    sum += (now[newOffset + i]! << 8) | now[newOffset + i + 1]!;
  }
  return ~foldSum(sum) & 0xffff;
}

/**
 * Word-form readers of the two layouts @vippath/cluster's path caches key at fixed offsets (the way in's tagged
 * frames, the way back's untagged answers), beside the general readers they stand for (decoder.ts's
 * readPlainTcp4Addresses and plainTcp4), so that a test compares each with its general reader.
 * @module
 */
import { type DecodedFrame, DecodeStatus as DecodeStatusImport, L3 as L3Import } from './decoder.js';

// Module constants: TurboFan folds the enums' fields into immediates (an imported binding is loaded each use).
const DecodeStatus = DecodeStatusImport;
const L3 = L3Import;

/**
 * @vippath/wire's readPlainTcp4Addresses for the frames it returns 18 for — one 802.1Q tag (TPID 0x8100), IPv4
 * without options or fragment bits carrying TCP, lengths that fit — read through a DataView `v` of the frame's buffer
 * from its byte 0: the same checks and the same fields written into `out` (status PLAIN_TCP4_ADDRESSES, `l3`,
 * `l3Offset`, the addresses unsigned, `ipProto`, `l4Offset`, `l4Length`, `dstPort`). Returns false, `out` untouched,
 * for any other frame — an untagged one readPlainTcp4Addresses would take included (its 14: the cache keys neither).
 * `v` must hold at least 58 bytes (the caches' scratch holds 64 KiB): the checks read up to byte 51 before the
 * length is known to cover it, as the general reader reads its array's bytes.
 *
 * Why: in fastKey the general reader (plainTcp4's byte reads, each bounds-checked against a length TurboFan loads from
 * the array, then the addresses byte by byte) was ≈ 235 of ≈ 412 instructions a frame (a per-instruction callgrind
 * run joined to V8's --print-opt-code, bench/README "The way in's layout read by words (session 47)"); here nine
 * reads through the view, the checks on whole words.
 */
export function readTaggedTcp4Addresses(v: DataView, length: number, out: DecodedFrame): boolean {
  // The tag's TPID; then the EtherType, version and IHL (bytes 16–18, the TOS byte left out); the protocol; the
  // fragment bits (flags' MF and the offset: the reserved and DF bits are not read).
  if (length < 58 || v.getUint16(12) !== 0x8100 || (v.getUint32(16) & 0xffffff00) !== 0x08004500 || v.getUint8(27) !== 6 || (v.getUint16(24) & 0x3fff) !== 0) return false;
  const total = v.getUint16(20);
  const hl = (v.getUint8(50) >> 4) << 2;
  if (total < 40 || 18 + total > length || hl < 20 || hl > total - 20) return false;
  out.status = DecodeStatus.PLAIN_TCP4_ADDRESSES;
  out.l3 = L3.IPV4;
  out.l3Offset = 18;
  out.ipSrc = v.getUint32(30);
  out.ipDst = v.getUint32(34);
  out.ipProto = 6;
  out.l4Offset = 38;
  out.l4Length = total - 20;
  out.dstPort = v.getUint16(40);
  return true;
}

/**
 * Whether @vippath/wire's plainTcp4 of `frame[0, len)` is 14 — untagged, IPv4 without options or fragment bits carrying
 * TCP, lengths that fit — read through a DataView `v` of the frame from its byte 0 with `len` at most its byte length:
 * the same checks on whole words. For the way back's key (PathCaches' fromPatch), whose answers come from the switch's
 * one long-lived output buffer: its view is made once. plainTcp4 there was ≈ 100 instructions a call of bounds-checked
 * byte reads (bench/README "The way in's layout read by words (session 47)").
 */
export function plainTcp4At14(v: DataView, len: number): boolean {
  // The EtherType, version and IHL (bytes 12–14, the TOS byte left out); the protocol; the fragment bits.
  if (len < 54 || (v.getUint32(12) & 0xffffff00) !== 0x08004500 || v.getUint8(23) !== 6 || (v.getUint16(20) & 0x3fff) !== 0) return false;
  const total = v.getUint16(16);
  const hl = (v.getUint8(46) >> 4) << 2;
  return total >= 40 && 14 + total <= len && hl >= 20 && hl <= total - 20;
}

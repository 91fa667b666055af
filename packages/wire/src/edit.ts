/**
 * In-place edits of a decoded frame, each keeping every checksum right by RFC 1624 incremental
 * updates rather than recomputing over the payload. All take the frame and the {@link DecodedFrame}
 * that describes it; none allocates.
 *
 * A frame here is a buffer plus a length: `frame.length` may exceed the frame's length so that a tag
 * can be pushed in place. {@link pushVlan} and {@link popVlan} return the new length and leave `out`
 * stale — decode again (or adjust offsets) before further edits.
 */
import { readIPv4, writeIPv4 } from './addresses.js';
import { checksumAdjust128, checksumAdjust16, checksumAdjust32, foldSum, internetChecksum, pseudoHeaderSumV4, pseudoHeaderSumV6, read16, verifyL4Checksum, write16, type ChecksumStatus } from './checksum.js';
import { VippathError } from './errors.js';
import { L3, type DecodedFrame } from './decoder.js';

/** A frame edit that cannot be made (no room for a tag, no tag to pop, wrong layer). */
export class FrameEditError extends VippathError {
  constructor(message: string) {
    super('FRAME_EDIT', message);
  }
}

/** Offset of the L4 checksum field, or -1 when the frame has no L4 checksum to fix. */
function l4ChecksumOffset(d: DecodedFrame): number {
  if (d.l4Offset < 0) return -1;
  if (d.ipProto === 6) return d.l4Offset + 16;
  if (d.ipProto === 17) return d.l4Offset + 6;
  // ICMPv6's checksum covers the pseudo-header, so an address change touches it; ICMPv4's does not.
  if (d.ipProto === 58) return d.l4Offset + 2;
  return -1;
}

function fixUdpZero(d: DecodedFrame, sum: number): number {
  // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
  return d.ipProto === 17 && sum === 0 ? 0xffff : sum;
}

/**
 * Rewrites the IPv4 source (`which` = 12) or destination (16) address, fixing the IP header checksum
 * and the TCP/UDP checksum (a UDP checksum of 0, "none", stays 0).
 */
export function rewriteIpv4Address(frame: Uint8Array, d: DecodedFrame, which: 12 | 16, address: number): void {
  if (d.l3 !== L3.IPV4) throw new FrameEditError('not an IPv4 frame');
  const at = d.l3Offset + which;
  const old = readIPv4(frame, at);
  if (old === address >>> 0) return;
  writeIPv4(frame, at, address);
  const ipSum = d.l3Offset + 10;
  write16(frame, ipSum, checksumAdjust32(read16(frame, ipSum), old, address >>> 0));
  const l4 = l4ChecksumOffset(d);
  if (l4 >= 0 && d.ipProto !== 58) {
    const stored = read16(frame, l4);
    if (!(d.ipProto === 17 && stored === 0)) write16(frame, l4, fixUdpZero(d, checksumAdjust32(stored, old, address >>> 0)));
  }
  if (which === 12) d.ipSrc = address >>> 0;
  else d.ipDst = address >>> 0;
}

/** Rewrites the IPv6 source (`which` = 8) or destination (24) address from 16 bytes at `addrOffset` of `addr`. */
export function rewriteIpv6Address(frame: Uint8Array, d: DecodedFrame, which: 8 | 24, addr: Uint8Array, addrOffset = 0): void {
  if (d.l3 !== L3.IPV6) throw new FrameEditError('not an IPv6 frame');
  const at = d.l3Offset + which;
  const l4 = l4ChecksumOffset(d);
  if (l4 >= 0) write16(frame, l4, fixUdpZero(d, checksumAdjust128(read16(frame, l4), frame, at, addr, addrOffset)));
  for (let i = 0; i < 16; i++) frame[at + i] = addr[addrOffset + i]!;
}

/** Rewrites the TCP/UDP source (`which` = 0) or destination (2) port, fixing the L4 checksum. */
export function rewritePort(frame: Uint8Array, d: DecodedFrame, which: 0 | 2, port: number): void {
  if (d.l4Offset < 0 || (d.ipProto !== 6 && d.ipProto !== 17)) throw new FrameEditError('no TCP or UDP header to rewrite');
  const at = d.l4Offset + which;
  const old = read16(frame, at);
  if (old === port) return;
  write16(frame, at, port);
  const l4 = l4ChecksumOffset(d);
  const stored = read16(frame, l4);
  if (!(d.ipProto === 17 && stored === 0 && d.l3 === L3.IPV4)) write16(frame, l4, fixUdpZero(d, checksumAdjust16(stored, old, port)));
  if (which === 0) d.srcPort = port;
  else d.dstPort = port;
}

/**
 * Sets the IPv4 TTL and TOS (DSCP and ECN) — each 16-bit header word that changes adjusted in the header checksum
 * (RFC 1624) — or the IPv6 hop limit and traffic class, as OVS's packet_set_ipv4 / packet_set_ipv6 write them
 * (lib/packets.c); none of these is in an L4 checksum's pseudo-header.
 */
export function rewriteIpTtlTos(frame: Uint8Array, d: DecodedFrame, ttl: number, tos: number): void {
  const o = d.l3Offset;
  ttl &= 255;
  tos &= 255;
  if (d.l3 === L3.IPV4) {
    let sum = read16(frame, o + 10);
    const oldTos = frame[o + 1]!;
    if (oldTos !== tos) {
      sum = checksumAdjust16(sum, (frame[o]! << 8) | oldTos, (frame[o]! << 8) | tos);
      frame[o + 1] = tos;
    }
    const oldTtl = frame[o + 8]!;
    if (oldTtl !== ttl) {
      sum = checksumAdjust16(sum, (oldTtl << 8) | frame[o + 9]!, (ttl << 8) | frame[o + 9]!);
      frame[o + 8] = ttl;
    }
    write16(frame, o + 10, sum);
  } else if (d.l3 === L3.IPV6) {
    // Version (4 bits), traffic class (8), flow label (20): the class straddles the first two bytes.
    frame[o] = (frame[o]! & 0xf0) | (tos >>> 4);
    frame[o + 1] = ((tos & 15) << 4) | (frame[o + 1]! & 15);
    frame[o + 7] = ttl;
  } else throw new FrameEditError('no IP header to set the TTL and TOS of');
  d.ipTos = tos;
  d.ipTtl = ttl;
}

/** Sets the IPv6 flow label (its low 20 bits), as packet_set_ipv6 does; no checksum covers it. */
export function rewriteIpv6FlowLabel(frame: Uint8Array, d: DecodedFrame, label: number): void {
  if (d.l3 !== L3.IPV6) throw new FrameEditError('not an IPv6 frame');
  const o = d.l3Offset;
  frame[o + 1] = (frame[o + 1]! & 0xf0) | ((label >>> 16) & 15);
  write16(frame, o + 2, label & 0xffff);
}

/**
 * Decrements the IPv4 TTL (fixing the header checksum) or IPv6 hop limit. Returns the new value, or -1
 * (frame untouched) when it was already 0 or 1 — the caller drops the packet, as a router would.
 */
export function decrementTtl(frame: Uint8Array, d: DecodedFrame): number {
  if (d.l3 !== L3.IPV4 && d.l3 !== L3.IPV6) throw new FrameEditError('no IP header to decrement the TTL of');
  const ttl = frame[d.l3Offset + (d.l3 === L3.IPV4 ? 8 : 7)]!;
  if (ttl <= 1) return -1;
  rewriteIpTtlTos(frame, d, ttl - 1, d.l3 === L3.IPV4 ? frame[d.l3Offset + 1]! : (read16(frame, d.l3Offset) >> 4) & 0xff);
  return ttl - 1;
}

/** Writes 6 bytes of `mac` (at `macOffset`) as the destination (0) or source (6) MAC. */
export function rewriteMac(frame: Uint8Array, which: 0 | 6, mac: Uint8Array, macOffset = 0): void {
  for (let i = 0; i < 6; i++) frame[which + i] = mac[macOffset + i]!;
}

/**
 * Inserts an outermost VLAN tag after the MAC addresses. `frame` must have 4 spare bytes past `length`.
 * Returns the new length.
 */
export function pushVlan(frame: Uint8Array, length: number, tci: number, tpid = 0x8100): number {
  if (length < 14) throw new FrameEditError(`frame of ${length} bytes has no Ethernet header`);
  if (frame.length < length + 4) throw new FrameEditError(`no room to push a VLAN tag: buffer holds ${frame.length} bytes, frame needs ${length + 4}`);
  frame.copyWithin(16, 12, length);
  write16(frame, 12, tpid);
  write16(frame, 14, tci);
  return length + 4;
}

/** Removes the outermost VLAN tag; returns the new length. Throws when the frame is untagged. */
export function popVlan(frame: Uint8Array, length: number): number {
  const tpid = length >= 18 ? read16(frame, 12) : 0;
  if (tpid !== 0x8100 && tpid !== 0x88a8 && tpid !== 0x9100) throw new FrameEditError('frame carries no VLAN tag to pop');
  frame.copyWithin(12, 16, length);
  return length - 4;
}

/**
 * Verifies the TCP/UDP/ICMP checksum of a decoded frame in place (see {@link ChecksumStatus}).
 * Returns `none` for frames without one (ARP, fragments, IPv4 UDP with checksum 0).
 */
export function l4ChecksumStatus(frame: Uint8Array, d: DecodedFrame): ChecksumStatus {
  const at = checksumFieldOf(d);
  if (at < 0) return 'none';
  if (d.ipProto === 17 && d.l3 === L3.IPV4 && read16(frame, at) === 0) return 'none';
  return verifyL4Checksum(frame, d.l4Offset, d.l4Length, at, pseudoSumOf(frame, d));
}

/**
 * Completes an offload-partial L4 checksum (one holding only the pseudo-header sum, as captures taken on
 * the sending host show) the way the sender's NIC would have on the wire. Returns true when it changed the
 * frame. Do this before incremental rewrites: RFC 1624 updates assume a complete checksum, and a partial
 * one updated that way turns bad (Linux updates partial sums differently: inet_proto_csum_replace4).
 */
export function completeOffloadChecksum(frame: Uint8Array, d: DecodedFrame): boolean {
  // Only a stored value that is the folded pseudo-header sum (or its other zero) can be partial
  // (verifyL4Checksum): for any other the segment is not summed — a frame per packet on the wire's way in.
  const at = checksumFieldOf(d);
  if (at < 0) return false;
  const pseudoSum = pseudoSumOf(frame, d);
  if (pseudoSum === 0) return false;
  const stored = read16(frame, at);
  const pseudo = foldSum(pseudoSum);
  if (stored !== pseudo && !(pseudo === 0xffff && stored === 0) && !(pseudo === 0 && stored === 0xffff)) return false;
  if (l4ChecksumStatus(frame, d) !== 'partial') return false;
  write16(frame, at, 0);
  const sum = internetChecksum(frame, d.l4Offset, d.l4Length, pseudoSumOf(frame, d));
  write16(frame, at, d.ipProto === 17 && sum === 0 ? 0xffff : sum);
  return true;
}

function checksumFieldOf(d: DecodedFrame): number {
  if (d.l4Offset < 0) return -1;
  if (d.ipProto === 6) return d.l4Offset + 16;
  if (d.ipProto === 17) return d.l4Offset + 6;
  if ((d.ipProto === 1 && d.l3 === L3.IPV4) || (d.ipProto === 58 && d.l3 === L3.IPV6)) return d.l4Offset + 2;
  return -1;
}

function pseudoSumOf(frame: Uint8Array, d: DecodedFrame): number {
  if (d.ipProto === 1) return 0;
  return d.l3 === L3.IPV4
    ? pseudoHeaderSumV4(d.ipSrc, d.ipDst, d.ipProto, d.l4Length)
    : pseudoHeaderSumV6(frame, d.l3Offset + 8, d.l3Offset + 24, d.ipProto, d.l4Length);
}

/**
 * The flow key: what OVS's flow_extract (lib/flow.c) pulls out of a packet, as numbers in fixed slots of
 * a Uint32Array, so that matching is masked integer comparison and no object is made per packet.
 * Conventions follow OVS: `vlan_tci` carries the CFI/present bit 0x1000 when the frame is tagged (outer
 * tag); for ARP, nw_src/nw_dst hold SPA/TPA and nw_proto the opcode's low byte; for ICMP, tp_src/tp_dst
 * hold type/code.
 */
import { DecodedFrame, DecodeStatus, L3, type FrameDecoder } from '@vippath/wire';

/** Slot numbers of the key. */
export const Slot = {
  IN_PORT: 0,
  DL_SRC_HI: 1,
  DL_SRC_LO: 2,
  DL_DST_HI: 3,
  DL_DST_LO: 4,
  DL_TYPE: 5,
  VLAN_TCI: 6,
  NW_SRC: 7,
  NW_DST: 8,
  IPV6_SRC: 9, // 4 slots
  IPV6_DST: 13, // 4 slots
  NW_PROTO: 17,
  NW_TOS: 18,
  NW_TTL: 19,
  TP_SRC: 20,
  TP_DST: 21,
  TCP_FLAGS: 22,
  ARP_SHA_HI: 23,
  ARP_SHA_LO: 24,
  ARP_THA_HI: 25,
  ARP_THA_LO: 26,
  ND_TARGET: 27, // 4 slots
  METADATA_HI: 31,
  METADATA_LO: 32,
  REG0: 33, // 16 slots
} as const;

/** Number of slots in a key. */
export const KEY_SLOTS = 49;

/** A fresh zeroed key. */
export function newKey(): Uint32Array {
  return new Uint32Array(KEY_SLOTS);
}

function mac(buf: Uint8Array, at: number, key: Uint32Array, hi: number): void {
  key[hi] = (buf[at]! << 8) | buf[at + 1]!;
  key[hi + 1] = ((buf[at + 2]! << 24) | (buf[at + 3]! << 16) | (buf[at + 4]! << 8) | buf[at + 5]!) >>> 0;
}

function ipv6(buf: Uint8Array, at: number, key: Uint32Array, slot: number): void {
  for (let i = 0; i < 4; i++) {
    const o = at + 4 * i;
    key[slot + i] = ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
  }
}

/**
 * Fills `key` from a decoded frame (registers and metadata are reset to 0, as at the start of a pipeline).
 * Returns false for frames too malformed for even the Ethernet header.
 */
export function extractKey(frame: Uint8Array, d: DecodedFrame, inPort: number, key: Uint32Array): boolean {
  key.fill(0);
  key[Slot.IN_PORT] = inPort;
  if (d.length < 14) return false;
  mac(frame, 6, key, Slot.DL_SRC_HI);
  mac(frame, 0, key, Slot.DL_DST_HI);
  key[Slot.DL_TYPE] = d.etherType;
  if (d.vlanCount > 0) key[Slot.VLAN_TCI] = d.vlanTci[0]! | 0x1000;
  if (d.status !== DecodeStatus.OK && d.l3 !== L3.IPV4 && d.l3 !== L3.IPV6 && d.l3 !== L3.ARP) return true;
  const o = d.l3Offset;
  if (d.l3 === L3.ARP) {
    if (d.status !== DecodeStatus.OK) return true;
    key[Slot.NW_SRC] = d.arpSpa;
    key[Slot.NW_DST] = d.arpTpa;
    key[Slot.NW_PROTO] = d.arpOp & 0xff;
    mac(frame, o + 8, key, Slot.ARP_SHA_HI);
    mac(frame, o + 18, key, Slot.ARP_THA_HI);
    return true;
  }
  if (d.l3 === L3.IPV4 && d.ipHeaderLength >= 20) {
    key[Slot.NW_SRC] = d.ipSrc;
    key[Slot.NW_DST] = d.ipDst;
  } else if (d.l3 === L3.IPV6 && o + 40 <= d.length) {
    ipv6(frame, o + 8, key, Slot.IPV6_SRC);
    ipv6(frame, o + 24, key, Slot.IPV6_DST);
  } else return true;
  key[Slot.NW_PROTO] = d.ipProto;
  // OVS's nw_tos is the DSCP part of the TOS/traffic-class byte.
  key[Slot.NW_TOS] = d.ipTos & 0xfc;
  key[Slot.NW_TTL] = d.ipTtl;
  if (d.l4Offset < 0) return true;
  if (d.ipProto === 6 || d.ipProto === 17 || d.ipProto === 132) {
    key[Slot.TP_SRC] = d.srcPort;
    key[Slot.TP_DST] = d.dstPort;
    if (d.ipProto === 6) key[Slot.TCP_FLAGS] = d.tcpFlags & 0xfff;
  } else if (d.ipProto === 1 || d.ipProto === 58) {
    key[Slot.TP_SRC] = d.icmpType;
    key[Slot.TP_DST] = d.icmpCode;
    if (d.ipProto === 58 && (d.icmpType === 135 || d.icmpType === 136) && d.l4Length >= 24) ipv6(frame, d.l4Offset + 8, key, Slot.ND_TARGET);
  }
  return true;
}

/** Decodes `frame` and extracts its key. */
export function keyOf(decoder: FrameDecoder, frame: Uint8Array, length: number, inPort: number, key: Uint32Array, d: DecodedFrame): boolean {
  decoder.decode(frame, d, length);
  return extractKey(frame, d, inPort, key);
}

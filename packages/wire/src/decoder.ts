/**
 * The hot-path decoder: one pass over a frame's bytes that fills a preallocated {@link DecodedFrame}
 * with numbers (offsets, addresses as uint32, ports, flags), in the manner of gopacket's
 * DecodingLayerParser. It never throws and never allocates; a malformed frame sets `status` and the
 * `error*` fields, and everything decoded before the bad layer stays valid.
 */
import { VippathError } from './errors.js';
import { readIPv4 as readIPv4Import } from './addresses.js';
import { read16, read32 } from './checksum.js';
import type { Layer } from './errors.js';
import { isVlanTpid, MAX_VLAN_TAGS } from './ethernet.js';
import { walkIpv6, type Ipv6Walk } from './ipv6.js';

/** What kind of network layer a frame carries. */
export const L3 = { NONE: 0, ARP: 1, IPV4: 2, IPV6: 3, OTHER: 4 } as const;
// decodePlainTcp4's reads of an import, of this module's exported L3 and of its exported plainTcp4 each load a binding's
// cell and check it; a module's plain const folds (the same change as in @vippath/ovn's conntrack engine).
const readIPv4 = readIPv4Import;
const L3_ = L3;
/**
 * Decoding outcome, and which of a {@link DecodedFrame}'s fields hold the frame's values: `OK` all of them
 * ({@link FrameDecoder.decode}, {@link decodePlainTcp4}); `MALFORMED` those of the layers before the bad one;
 * `PLAIN_TCP4_ADDRESSES` and `PLAIN_TCP4_SEGMENT` only the subset a fixed-offset read filled ({@link readPlainTcp4Addresses},
 * {@link readPlainTcp4Segment}; the fields are listed in {@link PLAIN_TCP4_ADDRESS_FIELDS} and
 * {@link PLAIN_TCP4_SEGMENT_FIELDS}) — every other field still holds an earlier frame's value. A reader that needs the
 * whole decode checks `status === OK`, as the decoder's readers already do: a subset read is never taken for one.
 */
export const DecodeStatus = { OK: 0, MALFORMED: 1, PLAIN_TCP4_ADDRESSES: 2, PLAIN_TCP4_SEGMENT: 3 } as const;
// Plain consts for the subset reads (as L3_ above).
const ADDRESSES_STATUS = DecodeStatus.PLAIN_TCP4_ADDRESSES;
const SEGMENT_STATUS = DecodeStatus.PLAIN_TCP4_SEGMENT;

/** Reasons a frame is malformed, as numbers for the hot path; {@link DECODE_ERROR_TEXT} explains them. */
export const DecodeError = {
  NONE: 0,
  ETHERNET_SHORT: 1,
  VLAN_SHORT: 2,
  VLAN_TOO_MANY: 3,
  ARP_SHORT: 4,
  ARP_NOT_ETHER_IPV4: 5,
  IPV4_SHORT: 6,
  IPV4_VERSION: 7,
  IPV4_IHL: 8,
  IPV4_TOTAL_LENGTH: 9,
  IPV6_SHORT: 10,
  IPV6_VERSION: 11,
  IPV6_PAYLOAD_LENGTH: 12,
  IPV6_EXTENSION: 13,
  TCP_SHORT: 14,
  TCP_DATA_OFFSET: 15,
  UDP_SHORT: 16,
  UDP_LENGTH: 17,
  ICMP_SHORT: 18,
} as const;

/** Human text for each {@link DecodeError} code. */
export const DECODE_ERROR_TEXT: readonly string[] = [
  'no error',
  'shorter than the 14-byte Ethernet header',
  '802.1Q tag cut short',
  `more than ${MAX_VLAN_TAGS} VLAN tags`,
  'shorter than the 28-byte Ethernet/IPv4 ARP packet',
  'ARP is not Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4)',
  'shorter than the 20-byte IPv4 header',
  'IPv4 version field is not 4',
  'IPv4 header length below 20 or past the captured bytes',
  'IPv4 total length below the header length or past the captured bytes',
  'shorter than the 40-byte IPv6 header',
  'IPv6 version field is not 6',
  'IPv6 payload length past the captured bytes',
  'IPv6 extension header runs past the payload or the chain is too long',
  'shorter than the 20-byte TCP header',
  'TCP data offset below 20 or past the segment',
  'shorter than the 8-byte UDP header',
  'UDP length below 8 or past the IP payload',
  'shorter than the 4-byte ICMP header',
];

const ERROR_LAYER: readonly Layer[] = [
  'ethernet', 'ethernet', 'vlan', 'vlan', 'arp', 'arp', 'ipv4', 'ipv4', 'ipv4', 'ipv4',
  'ipv6', 'ipv6', 'ipv6', 'ipv6', 'tcp', 'tcp', 'udp', 'udp', 'icmpv4',
];

/**
 * Everything the decoder learns about one frame, as numbers. Reuse one instance for many frames.
 * Fields of layers the frame does not have are left at their reset values (0, or -1 for offsets).
 * `status` ({@link DecodeStatus}) says which fields the last fill wrote: after a subset read only that subset's.
 */
export class DecodedFrame {
  /** {@link DecodeStatus}. */
  status = 0;
  /** {@link DecodeError} code; 0 when `status` is OK. */
  error = 0;
  /** Offset in the frame where the malformed layer starts or the bad field sits. */
  errorOffset = -1;
  /** Length of the frame as decoded. */
  length = 0;
  /** Number of VLAN tags (outermost first in the arrays). */
  vlanCount = 0;
  /** TPID of each tag. */
  readonly vlanTpid = new Uint16Array(MAX_VLAN_TAGS);
  /** TCI of each tag (PCP, DEI, VID). */
  readonly vlanTci = new Uint16Array(MAX_VLAN_TAGS);
  /** The outer EtherType (bytes 12–13: a TPID when tagged). */
  outerEtherType = 0;
  /** The innermost EtherType. */
  etherType = 0;
  /** {@link L3} kind. */
  l3 = 0;
  /** Offset of the network-layer header, or -1. */
  l3Offset = -1;
  /** End of the network-layer datagram (IP total length bounds it; padding lies beyond). */
  l3End = 0;
  /** ARP operation. */
  arpOp = 0;
  /** ARP sender and target protocol addresses (uint32). */
  arpSpa = 0;
  arpTpa = 0;
  /** IPv4 addresses (uint32); for IPv6 read the 16 bytes at `l3Offset + 8` / `+ 24`. */
  ipSrc = 0;
  ipDst = 0;
  /** IPv4 TOS byte or IPv6 traffic class. */
  ipTos = 0;
  /** IPv4 TTL or IPv6 hop limit. */
  ipTtl = 0;
  /** Upper-layer protocol (after IPv6 extension headers). */
  ipProto = 0;
  /** IPv4 header length or 40 + IPv6 extension headers. */
  ipHeaderLength = 0;
  /** True for any fragment; L4 fields are set only for the first one. */
  ipFragment = false;
  /** Fragment offset in 8-byte units. */
  ipFragmentOffset = 0;
  /** Offset of the transport header, or -1 when not decoded. */
  l4Offset = -1;
  /** Length of the transport segment (IP payload). */
  l4Length = 0;
  srcPort = 0;
  dstPort = 0;
  tcpSeq = 0;
  tcpAck = 0;
  /** TCP flag bits (low 9 bits). */
  tcpFlags = 0;
  icmpType = 0;
  icmpCode = 0;
  /** Offset and length of the application payload (after TCP/UDP/ICMP headers), or -1. */
  payloadOffset = -1;
  payloadLength = 0;

  /** The layer named by the error code (for messages). */
  get errorLayer(): Layer | undefined {
    if (this.status !== DecodeStatus.MALFORMED) return undefined;
    if (this.error === DecodeError.ICMP_SHORT && this.l3 === L3.IPV6) return 'icmpv6';
    return ERROR_LAYER[this.error];
  }
  /** The error text (for messages). */
  get errorReason(): string {
    return DECODE_ERROR_TEXT[this.error] ?? 'unknown';
  }
  /** VID of tag `i` (0 = outermost). */
  vid(i: number): number {
    return this.vlanTci[i]! & 0xfff;
  }
}

/**
 * Whether the frame has the layout {@link decodePlainTcp4} decodes: its IPv4 header's offset (14 untagged, 18
 * behind one 802.1Q tag), 0 when not. For a caller that needs only the answer, not the fields. The frame may
 * lie at `buf[offset, offset + length)` (a capture's chunk): the offset returned is then an index into `buf`
 * (`offset` + 14 or 18), read there the header's fields are those decode() of the frame would give.
 */
export function plainTcp4(buf: Uint8Array, length: number, offset = 0): number {
  const l3 = buf[offset + 12] === 0x81 && buf[offset + 13] === 0 ? offset + 18 : offset + 14;
  const end = offset + length;
  if (end < l3 + 40 || buf[l3 - 2] !== 8 || buf[l3 - 1] !== 0 || buf[l3] !== 0x45 || buf[l3 + 9] !== 6 || ((buf[l3 + 6]! & 0x3f) | buf[l3 + 7]!) !== 0) return 0;
  const total = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
  const hl = (buf[l3 + 32]! >> 4) << 2;
  return total < 40 || l3 + total > end || hl < 20 || hl > total - 20 ? 0 : l3;
}
const plainAt = plainTcp4;

/**
 * The commonest frame on a VIP's path — untagged or one 802.1Q tag, IPv4 without options or fragment bits, a TCP
 * header whose data offset fits — decoded at fixed offsets into `out`: the checks {@link FrameDecoder.decode}
 * makes for that layout and every field it sets for it, without its general walk. Returns false, `out`
 * untouched, for any other frame; decode() takes those. For the hot paths that see this layout on almost
 * every frame (the cluster's caches, the pods).
 */
export function decodePlainTcp4(buf: Uint8Array, length: number, out: DecodedFrame): boolean {
  const l3 = plainAt(buf, length);
  if (l3 === 0) return false;
  const tagged = l3 === 18;
  const total = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
  const l4 = l3 + 20;
  const hl = (buf[l4 + 12]! >> 4) << 2;
  out.status = 0;
  out.error = 0;
  out.errorOffset = -1;
  out.length = length;
  if (tagged) {
    out.vlanCount = 1;
    out.vlanTpid[0] = 0x8100;
    out.vlanTci[0] = (buf[14]! << 8) | buf[15]!;
    out.outerEtherType = 0x8100;
  } else {
    out.vlanCount = 0;
    out.outerEtherType = 0x0800;
  }
  out.etherType = 0x0800;
  out.l3 = L3_.IPV4;
  out.l3Offset = l3;
  out.l3End = l3 + total;
  out.arpOp = 0;
  out.arpSpa = 0;
  out.arpTpa = 0;
  out.ipSrc = readIPv4(buf, l3 + 12);
  out.ipDst = readIPv4(buf, l3 + 16);
  out.ipTos = buf[l3 + 1]!;
  out.ipTtl = buf[l3 + 8]!;
  out.ipProto = 6;
  out.ipHeaderLength = 20;
  out.ipFragment = false;
  out.ipFragmentOffset = 0;
  out.l4Offset = l4;
  out.l4Length = total - 20;
  out.srcPort = (buf[l4]! << 8) | buf[l4 + 1]!;
  out.dstPort = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
  out.tcpSeq = readIPv4(buf, l4 + 4);
  out.tcpAck = readIPv4(buf, l4 + 8);
  out.tcpFlags = ((buf[l4 + 12]! & 1) << 8) | buf[l4 + 13]!;
  out.icmpType = 0;
  out.icmpCode = 0;
  out.payloadOffset = l4 + hl;
  out.payloadLength = total - 20 - hl;
  return true;
}

/**
 * The fields {@link readPlainTcp4Addresses} sets (status {@link DecodeStatus}.PLAIN_TCP4_ADDRESSES): both IPv4
 * addresses, the protocol, where the segment lies, and the destination port — what a pseudo-header checksum
 * (completeOffloadChecksum) and a lookup keyed on the destination (the cluster's flow cache) read. Not the source
 * port: its two loads and store cost more than the one reader of this subset needs (bench/README "A subset decode owned
 * by wire (session 17)").
 */
export const PLAIN_TCP4_ADDRESS_FIELDS = ['l3', 'l3Offset', 'ipSrc', 'ipDst', 'ipProto', 'l4Offset', 'l4Length', 'dstPort'] as const satisfies readonly (keyof DecodedFrame)[];
/**
 * The fields {@link readPlainTcp4Segment} sets (status {@link DecodeStatus}.PLAIN_TCP4_SEGMENT): the addresses'
 * ({@link PLAIN_TCP4_ADDRESS_FIELDS}), the source port, and the TCP header's numbers and payload — what a TCP endpoint
 * answering the segment reads.
 */
export const PLAIN_TCP4_SEGMENT_FIELDS = [...PLAIN_TCP4_ADDRESS_FIELDS, 'srcPort', 'tcpSeq', 'tcpAck', 'tcpFlags', 'payloadOffset', 'payloadLength'] as const satisfies readonly (keyof DecodedFrame)[];

// The address subset's fields of a frame whose IPv4 header is at `l3` (plainAt's answer), `total` its total length.
const addressesAt = (buf: Uint8Array, l3: number, total: number, out: DecodedFrame): void => {
  const l4 = l3 + 20;
  out.l3 = L3_.IPV4;
  out.l3Offset = l3;
  out.ipSrc = readIPv4(buf, l3 + 12);
  out.ipDst = readIPv4(buf, l3 + 16);
  out.ipProto = 6;
  out.l4Offset = l4;
  out.l4Length = total - 20;
  out.dstPort = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
};

/**
 * A subset of {@link decodePlainTcp4}: for a frame of its layout ({@link plainTcp4}'s checks), only the fields in
 * {@link PLAIN_TCP4_ADDRESS_FIELDS}, each the value decode() gives, and `status` = PLAIN_TCP4_ADDRESSES; returns the IPv4
 * header's offset (14 or 18). Any other frame: 0, `out` untouched. For a hot path that reads only these of most
 * frames and decodes in full (status OK) before reading anything else — writing all thirty-odd fields costs more
 * than the few it reads (bench/README "A subset decode owned by wire (session 17)").
 */
export function readPlainTcp4Addresses(buf: Uint8Array, length: number, out: DecodedFrame): number {
  const l3 = plainAt(buf, length);
  if (l3 === 0) return 0;
  out.status = ADDRESSES_STATUS;
  addressesAt(buf, l3, (buf[l3 + 2]! << 8) | buf[l3 + 3]!, out);
  return l3;
}

/**
 * {@link readPlainTcp4Addresses} and the TCP header's numbers and payload: the fields in
 * {@link PLAIN_TCP4_SEGMENT_FIELDS}, each the value decode() gives, and `status` = PLAIN_TCP4_SEGMENT; returns the
 * IPv4 header's offset (14 or 18), or 0 with `out` untouched for a frame not of {@link plainTcp4}'s layout. What a
 * TCP endpoint (the cluster's pods) reads to answer a segment.
 */
export function readPlainTcp4Segment(buf: Uint8Array, length: number, out: DecodedFrame): number {
  const l3 = plainAt(buf, length);
  if (l3 === 0) return 0;
  const total = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
  const l4 = l3 + 20;
  const hl = (buf[l4 + 12]! >> 4) << 2;
  out.status = SEGMENT_STATUS;
  addressesAt(buf, l3, total, out);
  out.srcPort = (buf[l4]! << 8) | buf[l4 + 1]!;
  out.tcpSeq = readIPv4(buf, l4 + 4);
  out.tcpAck = readIPv4(buf, l4 + 8);
  out.tcpFlags = ((buf[l4 + 12]! & 1) << 8) | buf[l4 + 13]!;
  out.payloadOffset = l4 + hl;
  out.payloadLength = total - 20 - hl;
  return l3;
}

/**
 * Whether a full decode (status OK, of {@link FrameDecoder.decode} or {@link decodePlainTcp4}) is of a frame
 * {@link plainTcp4} accepts: IPv4 without options or fragment bits carrying TCP, untagged or behind one 802.1Q tag —
 * what the decoder checked then stands for plainTcp4's length checks. For a holder of such a decode, kept in step with
 * its frame's rewrites, that would otherwise read the bytes again to know (the OVN switch's outputs).
 */
export function plainTcp4Decoded(d: Readonly<DecodedFrame>): boolean {
  return d.status === 0 && d.l3 === L3_.IPV4 && d.ipProto === 6 && d.ipHeaderLength === 20 && !d.ipFragment && (d.vlanCount === 0 || (d.vlanCount === 1 && d.vlanTpid[0] === 0x8100));
}

/**
 * {@link readPlainTcp4Segment}'s record taken from another decode of the same bytes instead of the bytes: the fields in
 * {@link PLAIN_TCP4_SEGMENT_FIELDS} copied from `from` and `status` = PLAIN_TCP4_SEGMENT. `from` must describe a frame
 * of {@link plainTcp4}'s layout — a full decode of it (status OK), or such a decode kept in step with rewrites of its
 * addresses and ports (the OVN switch's, handed to the cluster's pods with an output: SwitchOutcome.decodedFor) — whose
 * subset fields then hold what readPlainTcp4Segment of the bytes would write; nothing here checks that. Fifteen
 * loads and stores where the read of the bytes is ≈ 340 instructions (bench/README "The pod takes the switch's
 * decode (session 27)").
 */
export function copyPlainTcp4Segment(from: Readonly<DecodedFrame>, out: DecodedFrame): void {
  out.status = SEGMENT_STATUS;
  out.l3 = from.l3;
  out.l3Offset = from.l3Offset;
  out.ipSrc = from.ipSrc;
  out.ipDst = from.ipDst;
  out.ipProto = from.ipProto;
  out.l4Offset = from.l4Offset;
  out.l4Length = from.l4Length;
  out.dstPort = from.dstPort;
  out.srcPort = from.srcPort;
  out.tcpSeq = from.tcpSeq;
  out.tcpAck = from.tcpAck;
  out.tcpFlags = from.tcpFlags;
  out.payloadOffset = from.payloadOffset;
  out.payloadLength = from.payloadLength;
}

/**
 * A record holding what {@link decodePlainTcp4} writes alike for every untagged TCP/IPv4 frame without IP options or
 * fragment bits (IPv4 at 14, TCP at 34): the layout's fields. A writer that knows the rest of a frame's fields (its
 * addresses, ports, sequence numbers, lengths) fills them per frame and hands the record on as that frame's decode
 * (the cluster's caches for the way in's frames, its pods for their answers); the fields left are not set here.
 */
export function untaggedTcp4Decode(): DecodedFrame {
  const d = new DecodedFrame();
  d.status = 0;
  d.error = 0;
  d.errorOffset = -1;
  d.vlanCount = 0;
  d.outerEtherType = 0x0800;
  d.etherType = 0x0800;
  d.l3 = L3_.IPV4;
  d.l3Offset = 14;
  d.arpOp = 0;
  d.arpSpa = 0;
  d.arpTpa = 0;
  d.ipProto = 6;
  d.ipHeaderLength = 20;
  d.ipFragment = false;
  d.ipFragmentOffset = 0;
  d.l4Offset = 34;
  d.icmpType = 0;
  d.icmpCode = 0;
  return d;
}

/**
 * {@link decodePlainTcp4}'s record taken from another record of the same frame instead of the bytes: into `out`, every
 * field decodePlainTcp4 writes (the tag's TPID and TCI at index 0 only when `from` has one tag) — those its layout
 * fixes (the status, the EtherType, the protocol, no fragment…) as decodePlainTcp4 writes them, the others copied from
 * `from`. `from` must hold what decodePlainTcp4 of the frame would write — its own record of the frame, or one its
 * writer filled from the values it wrote (the cluster's pods for their TCP/IPv4 answers, its caches for the frames
 * they hand the OVN switch, which then takes it instead of decoding them: bench/README "Frames handed to the switch
 * with their decode (session 38)"); nothing here checks that. Seventeen loads and thirty-odd stores where
 * decodePlainTcp4's read of the bytes and its layout checks are ≈ 380 instructions.
 */
export function copyPlainTcp4(from: Readonly<DecodedFrame>, out: DecodedFrame): void {
  out.status = 0;
  out.error = 0;
  out.errorOffset = -1;
  out.length = from.length;
  const tags = from.vlanCount;
  out.vlanCount = tags;
  if (tags !== 0) {
    out.vlanTpid[0] = from.vlanTpid[0]!;
    out.vlanTci[0] = from.vlanTci[0]!;
    out.outerEtherType = 0x8100;
  } else out.outerEtherType = 0x0800;
  out.etherType = 0x0800;
  out.l3 = L3_.IPV4;
  out.l3Offset = from.l3Offset;
  out.l3End = from.l3End;
  out.arpOp = 0;
  out.arpSpa = 0;
  out.arpTpa = 0;
  out.ipSrc = from.ipSrc;
  out.ipDst = from.ipDst;
  out.ipTos = from.ipTos;
  out.ipTtl = from.ipTtl;
  out.ipProto = 6;
  out.ipHeaderLength = 20;
  out.ipFragment = false;
  out.ipFragmentOffset = 0;
  out.l4Offset = from.l4Offset;
  out.l4Length = from.l4Length;
  out.srcPort = from.srcPort;
  out.dstPort = from.dstPort;
  out.tcpSeq = from.tcpSeq;
  out.tcpAck = from.tcpAck;
  out.tcpFlags = from.tcpFlags;
  out.icmpType = 0;
  out.icmpCode = 0;
  out.payloadOffset = from.payloadOffset;
  out.payloadLength = from.payloadLength;
}

/**
 * Decodes frames into a {@link DecodedFrame}. Stateless apart from a scratch walk record; one instance
 * can decode any number of frames.
 */
export class FrameDecoder {
  private readonly walk: Ipv6Walk = { protocol: 0, upperOffset: 0, extensionCount: 0, fragmented: false, fragmentOffset: 0 };

  /**
   * Decodes the frame at `buf[offset, offset + length)` into `out`; returns `out.status`. Offsets in `out`
   * are indexes into `buf` (frame-relative when `offset` is 0, the usual case), so a replay can decode
   * frames where they lie in a capture buffer without making a view per frame.
   */
  decode(buf: Uint8Array, out: DecodedFrame, length = buf.length, offset = 0): number {
    if (!(buf instanceof Uint8Array) || !(out instanceof DecodedFrame)) throw new VippathError('BAD_ARGUMENT', 'decode(frame, out) takes the frame as a Uint8Array (a Buffer is one) and a DecodedFrame to fill');
    const frame = buf;
    const end = offset + length;
    out.status = 0;
    out.error = 0;
    out.errorOffset = -1;
    out.length = length;
    out.vlanCount = 0;
    out.outerEtherType = 0;
    out.etherType = 0;
    out.l3 = L3.NONE;
    out.l3Offset = -1;
    out.l3End = 0;
    out.arpOp = 0;
    out.arpSpa = 0;
    out.arpTpa = 0;
    out.ipSrc = 0;
    out.ipDst = 0;
    out.ipTos = 0;
    out.ipTtl = 0;
    out.ipProto = 0;
    out.ipHeaderLength = 0;
    out.ipFragment = false;
    out.ipFragmentOffset = 0;
    out.l4Offset = -1;
    out.l4Length = 0;
    out.srcPort = 0;
    out.dstPort = 0;
    out.tcpSeq = 0;
    out.tcpAck = 0;
    out.tcpFlags = 0;
    out.icmpType = 0;
    out.icmpCode = 0;
    out.payloadOffset = -1;
    out.payloadLength = 0;

    if (length < 14) return fail(out, DecodeError.ETHERNET_SHORT, offset);
    let at = offset + 12;
    let type = read16(frame, at);
    out.outerEtherType = type;
    while (isVlanTpid(type)) {
      if (out.vlanCount === MAX_VLAN_TAGS) return fail(out, DecodeError.VLAN_TOO_MANY, at);
      if (at + 6 > end) return fail(out, DecodeError.VLAN_SHORT, at);
      out.vlanTpid[out.vlanCount] = type;
      out.vlanTci[out.vlanCount] = read16(frame, at + 2);
      out.vlanCount++;
      at += 4;
      type = read16(frame, at);
    }
    return this.network(frame, at + 2, type, out, end);
  }

  /**
   * Decodes a packet whose network layer starts at `l3Offset` with the given EtherType — for link types
   * other than Ethernet (Linux cooked captures); the Ethernet fields of `out` stay reset.
   */
  decodeFrom(frame: Uint8Array, l3Offset: number, etherType: number, out: DecodedFrame, length = frame.length): number {
    this.decode(frame, out, 0);
    out.status = 0;
    out.error = 0;
    out.errorOffset = -1;
    out.length = length;
    return this.network(frame, l3Offset, etherType, out, length);
  }

  /** `length` here is the end index of the frame in `frame`. */
  private network(frame: Uint8Array, l3: number, type: number, out: DecodedFrame, length: number): number {
    out.etherType = type;
    out.l3Offset = l3;
    if (type === 0x0806) return decodeArp(frame, l3, length, out);
    if (type === 0x0800) return decodeIpv4(frame, l3, length, out);
    if (type === 0x86dd) return this.decodeIpv6(frame, l3, length, out);
    out.l3 = L3.OTHER;
    out.l3End = length;
    return DecodeStatus.OK;
  }

  private decodeIpv6(frame: Uint8Array, off: number, length: number, out: DecodedFrame): number {
    out.l3 = L3.IPV6;
    if (off + 40 > length) return fail(out, DecodeError.IPV6_SHORT, off);
    if (frame[off]! >> 4 !== 6) return fail(out, DecodeError.IPV6_VERSION, off);
    const end = off + 40 + read16(frame, off + 4);
    if (end > length) return fail(out, DecodeError.IPV6_PAYLOAD_LENGTH, off + 4);
    out.l3End = end;
    out.ipTos = (read16(frame, off) >> 4) & 0xff;
    out.ipTtl = frame[off + 7]!;
    const w = this.walk;
    const r = walkIpv6(frame, off, end, w);
    if (r < 0) return fail(out, DecodeError.IPV6_EXTENSION, -r - 1);
    out.ipProto = w.protocol;
    out.ipHeaderLength = w.upperOffset - off;
    out.ipFragment = w.fragmented;
    out.ipFragmentOffset = w.fragmentOffset;
    if (w.fragmentOffset !== 0) return DecodeStatus.OK;
    return decodeL4(frame, w.upperOffset, end - w.upperOffset, out);
  }
}

const fail = (out: DecodedFrame, error: number, offset: number): number => {
  out.status = DecodeStatus.MALFORMED;
  out.error = error;
  out.errorOffset = offset;
  return DecodeStatus.MALFORMED;
};

const decodeArp = (frame: Uint8Array, off: number, length: number, out: DecodedFrame): number => {
  out.l3 = L3.ARP;
  if (off + 28 > length) return fail(out, DecodeError.ARP_SHORT, off);
  if (read16(frame, off) !== 1 || read16(frame, off + 2) !== 0x0800 || frame[off + 4] !== 6 || frame[off + 5] !== 4) {
    return fail(out, DecodeError.ARP_NOT_ETHER_IPV4, off);
  }
  out.l3End = off + 28;
  out.arpOp = read16(frame, off + 6);
  out.arpSpa = readIPv4(frame, off + 14);
  out.arpTpa = readIPv4(frame, off + 24);
  return DecodeStatus.OK;
};

const decodeIpv4 = (frame: Uint8Array, off: number, length: number, out: DecodedFrame): number => {
  out.l3 = L3.IPV4;
  if (off + 20 > length) return fail(out, DecodeError.IPV4_SHORT, off);
  const vi = frame[off]!;
  if (vi >> 4 !== 4) return fail(out, DecodeError.IPV4_VERSION, off);
  const ihl = (vi & 15) << 2;
  if (ihl < 20 || off + ihl > length) return fail(out, DecodeError.IPV4_IHL, off);
  const total = read16(frame, off + 2);
  if (total < ihl || off + total > length) return fail(out, DecodeError.IPV4_TOTAL_LENGTH, off + 2);
  out.l3End = off + total;
  out.ipTos = frame[off + 1]!;
  out.ipTtl = frame[off + 8]!;
  out.ipProto = frame[off + 9]!;
  out.ipSrc = readIPv4(frame, off + 12);
  out.ipDst = readIPv4(frame, off + 16);
  out.ipHeaderLength = ihl;
  const ff = read16(frame, off + 6);
  out.ipFragmentOffset = ff & 0x1fff;
  out.ipFragment = (ff & 0x3fff) !== 0;
  if (out.ipFragmentOffset !== 0) return DecodeStatus.OK;
  return decodeL4(frame, off + ihl, total - ihl, out);
};

const decodeL4 = (frame: Uint8Array, off: number, len: number, out: DecodedFrame): number => {
  const proto = out.ipProto;
  if (proto === 6) {
    if (len < 20) return fail(out, DecodeError.TCP_SHORT, off);
    const hl = (frame[off + 12]! >> 4) << 2;
    if (hl < 20 || hl > len) return fail(out, DecodeError.TCP_DATA_OFFSET, off + 12);
    out.l4Offset = off;
    out.l4Length = len;
    out.srcPort = read16(frame, off);
    out.dstPort = read16(frame, off + 2);
    out.tcpSeq = read32(frame, off + 4);
    out.tcpAck = read32(frame, off + 8);
    out.tcpFlags = read16(frame, off + 12) & 0x1ff;
    out.payloadOffset = off + hl;
    out.payloadLength = len - hl;
  } else if (proto === 17) {
    if (len < 8) return fail(out, DecodeError.UDP_SHORT, off);
    const ulen = read16(frame, off + 4);
    if (ulen < 8 || ulen > len) return fail(out, DecodeError.UDP_LENGTH, off + 4);
    out.l4Offset = off;
    out.l4Length = ulen;
    out.srcPort = read16(frame, off);
    out.dstPort = read16(frame, off + 2);
    out.payloadOffset = off + 8;
    out.payloadLength = ulen - 8;
  } else if (proto === 1 || proto === 58) {
    if (len < 4) return fail(out, DecodeError.ICMP_SHORT, off);
    out.l4Offset = off;
    out.l4Length = len;
    out.icmpType = frame[off]!;
    out.icmpCode = frame[off + 1]!;
    out.payloadOffset = off + 4;
    out.payloadLength = len - 4;
  }
  return DecodeStatus.OK;
};

/**
 * ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) share one layout: type, code, checksum, then a body. vippath
 * keeps the body raw (the 4 "rest of header" bytes and the data) except for NDP, decoded in ndp.ts.
 * ICMPv4's checksum covers only the message; ICMPv6's also the IPv6 pseudo-header.
 */
import { internetChecksum, write16 } from './checksum.js';
import { ensureBytes, type Layer } from './errors.js';

/** Byte offsets inside an ICMP header. */
export const IcmpField = { TYPE: 0, CODE: 1, CHECKSUM: 2, BODY: 4 } as const;
/** ICMP header length (type, code, checksum). */
export const ICMP_HEADER_LENGTH = 4;
/** ICMPv4 types vippath names. */
export const Icmpv4Type = { ECHO_REPLY: 0, DEST_UNREACHABLE: 3, ECHO_REQUEST: 8, TIME_EXCEEDED: 11 } as const;
/** ICMPv6 types vippath names (RFC 4443, RFC 4861). */
export const Icmpv6Type = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
  REDIRECT: 137,
} as const;

/** The decoded meaning of an ICMP message (either version). */
export interface IcmpRepr {
  type: number;
  code: number;
  /** Everything after the checksum: the rest-of-header word and the data. */
  body: Uint8Array;
}

/** A validated view over an ICMP message. */
export class IcmpView {
  readonly buf: Uint8Array;
  readonly offset: number;
  readonly length: number;
  private constructor(buf: Uint8Array, offset: number, length: number) {
    this.buf = buf;
    this.offset = offset;
    this.length = length;
  }
  /** `length` is the IP payload length; throws {@link MalformedFrameError}. */
  static checked(buf: Uint8Array, offset: number, length: number, layer: Layer = 'icmpv4'): IcmpView {
    ensureBytes(layer, offset, ICMP_HEADER_LENGTH, offset + length, 'ICMP header');
    return new IcmpView(buf, offset, length);
  }
  get type(): number {
    return this.buf[this.offset]!;
  }
  get code(): number {
    return this.buf[this.offset + 1]!;
  }
}

/** Decodes an ICMP message. */
export function parseIcmp(view: IcmpView): IcmpRepr {
  return { type: view.type, code: view.code, body: view.buf.slice(view.offset + 4, view.offset + view.length) };
}

/** Message length of a representation. */
export function icmpLength(repr: Pick<IcmpRepr, 'body'>): number {
  return ICMP_HEADER_LENGTH + repr.body.length;
}

/** Writes the message at `offset` with its checksum (pass the IPv6 pseudo-header sum for ICMPv6, 0 for ICMPv4). */
export function emitIcmp(repr: IcmpRepr, buf: Uint8Array, offset: number, pseudoSum = 0): number {
  buf[offset] = repr.type;
  buf[offset + 1] = repr.code;
  write16(buf, offset + 2, 0);
  buf.set(repr.body, offset + 4);
  const end = offset + icmpLength(repr);
  write16(buf, offset + 2, internetChecksum(buf, offset, end - offset, pseudoSum));
  return end;
}

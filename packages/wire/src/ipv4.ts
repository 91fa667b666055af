/**
 * IPv4 (RFC 791). The header length (IHL) and total length are validated against the buffer once; the
 * payload is bounded by the total length, so Ethernet padding after the datagram is never read as data.
 */
import { formatIPv4, parseIPv4, readIPv4, writeIPv4 } from './addresses.js';
import { internetChecksum, read16, sumWords, foldSum, write16 } from './checksum.js';
import { ensureBytes, MalformedFrameError } from './errors.js';

/** Byte offsets inside the IPv4 header. */
export const Ipv4Field = { VER_IHL: 0, TOS: 1, LENGTH: 2, IDENT: 4, FLAGS_FRAG: 6, TTL: 8, PROTOCOL: 9, CHECKSUM: 10, SRC: 12, DST: 16, OPTIONS: 20 } as const;
/** Minimum IPv4 header length (IHL 5). */
export const IPV4_MIN_HEADER_LENGTH = 20;
/** IP protocol numbers vippath knows by name (IANA "Assigned Internet Protocol Numbers"). */
export const IpProtocol = { HOPOPT: 0, ICMP: 1, TCP: 6, UDP: 17, IPV6_ROUTE: 43, IPV6_FRAG: 44, ICMPV6: 58, IPV6_NONXT: 59, IPV6_OPTS: 60, SCTP: 132 } as const;

/** The decoded meaning of an IPv4 header. */
export interface Ipv4Repr {
  /** DSCP (6 bits) and ECN (2 bits) as the whole TOS byte. */
  tos: number;
  ident: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in 8-byte units. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  src: string;
  dst: string;
  /** Raw option bytes (a multiple of 4 long, padding included). */
  options: Uint8Array;
  /** Length of the payload after the header. */
  payloadLength: number;
}

/** A validated view over an IPv4 header. */
export class Ipv4View {
  readonly buf: Uint8Array;
  readonly offset: number;
  private constructor(buf: Uint8Array, offset: number) {
    this.buf = buf;
    this.offset = offset;
  }
  /** Validates version, IHL and total length against `end`; throws {@link MalformedFrameError}. */
  static checked(buf: Uint8Array, offset: number, end = buf.length): Ipv4View {
    ensureBytes('ipv4', offset, IPV4_MIN_HEADER_LENGTH, end, 'IPv4 header');
    const vi = buf[offset]!;
    if (vi >> 4 !== 4) throw new MalformedFrameError('ipv4', offset, `version ${vi >> 4}, expected 4`);
    const ihl = (vi & 15) * 4;
    if (ihl < IPV4_MIN_HEADER_LENGTH) throw new MalformedFrameError('ipv4', offset, `header length ${ihl} below 20`);
    const total = read16(buf, offset + 2);
    if (total < ihl) throw new MalformedFrameError('ipv4', offset + 2, `total length ${total} below header length ${ihl}`);
    ensureBytes('ipv4', offset, ihl, end, 'IPv4 header with options');
    if (offset + total > end) throw new MalformedFrameError('ipv4', offset + 2, `total length ${total} exceeds the ${end - offset} bytes captured`);
    return new Ipv4View(buf, offset);
  }
  get headerLength(): number {
    return (this.buf[this.offset]! & 15) * 4;
  }
  get totalLength(): number {
    return read16(this.buf, this.offset + 2);
  }
  get protocol(): number {
    return this.buf[this.offset + 9]!;
  }
  get src(): number {
    return readIPv4(this.buf, this.offset + 12);
  }
  get dst(): number {
    return readIPv4(this.buf, this.offset + 16);
  }
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  get payloadLength(): number {
    return this.totalLength - this.headerLength;
  }
  /** True when the header checksum verifies. */
  get checksumValid(): boolean {
    return foldSum(sumWords(this.buf, this.offset, this.headerLength)) === 0xffff;
  }
}

/** Decodes an IPv4 header. */
export function parseIpv4(view: Ipv4View): Ipv4Repr {
  const { buf, offset } = view;
  const ff = read16(buf, offset + 6);
  return {
    tos: buf[offset + 1]!,
    ident: read16(buf, offset + 4),
    dontFragment: (ff & 0x4000) !== 0,
    moreFragments: (ff & 0x2000) !== 0,
    fragmentOffset: ff & 0x1fff,
    ttl: buf[offset + 8]!,
    protocol: view.protocol,
    src: formatIPv4(view.src),
    dst: formatIPv4(view.dst),
    options: buf.slice(offset + 20, offset + view.headerLength),
    payloadLength: view.payloadLength,
  };
}

/** Header length of a representation (20 + options). */
export function ipv4HeaderLength(repr: Pick<Ipv4Repr, 'options'>): number {
  return IPV4_MIN_HEADER_LENGTH + repr.options.length;
}

/**
 * Writes the header (with a correct checksum) at `offset`; returns the payload offset.
 * Options must be a multiple of 4 bytes long (pad with 0 = end-of-options).
 */
export function emitIpv4(repr: Ipv4Repr, buf: Uint8Array, offset: number): number {
  if (repr.options.length % 4 !== 0 || repr.options.length > 40) {
    throw new MalformedFrameError('ipv4', offset + 20, `options length ${repr.options.length} is not a multiple of 4 up to 40`);
  }
  const ihl = ipv4HeaderLength(repr);
  buf[offset] = 0x40 | (ihl / 4);
  buf[offset + 1] = repr.tos;
  write16(buf, offset + 2, ihl + repr.payloadLength);
  write16(buf, offset + 4, repr.ident);
  write16(buf, offset + 6, (repr.dontFragment ? 0x4000 : 0) | (repr.moreFragments ? 0x2000 : 0) | (repr.fragmentOffset & 0x1fff));
  buf[offset + 8] = repr.ttl;
  buf[offset + 9] = repr.protocol;
  write16(buf, offset + 10, 0);
  writeIPv4(buf, offset + 12, parseIPv4(repr.src));
  writeIPv4(buf, offset + 16, parseIPv4(repr.dst));
  buf.set(repr.options, offset + 20);
  write16(buf, offset + 10, internetChecksum(buf, offset, ihl));
  return offset + ihl;
}

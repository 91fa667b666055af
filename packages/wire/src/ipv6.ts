/**
 * IPv6 (RFC 8200) and the walk over its extension headers: hop-by-hop (0), routing (43), fragment (44)
 * and destination options (60) are stepped over to find the upper-layer protocol. The walk stops at a
 * non-first fragment (its upper-layer header is elsewhere) and at "no next header" (59).
 */
import { formatIPv6, parseIPv6 } from './addresses.js';
import { read16, read32, write16, write32 } from './checksum.js';
import { ensureBytes, MalformedFrameError } from './errors.js';

/** Byte offsets inside the fixed IPv6 header. */
export const Ipv6Field = { VER_TC_FLOW: 0, PAYLOAD_LENGTH: 4, NEXT_HEADER: 6, HOP_LIMIT: 7, SRC: 8, DST: 24 } as const;
/** Length of the fixed IPv6 header. */
export const IPV6_HEADER_LENGTH = 40;
/** Extension headers this walk understands. */
export const IPV6_EXTENSION_HEADERS: ReadonlySet<number> = new Set([0, 43, 44, 60]);
/** Bound on the number of extension headers walked, so a crafted chain cannot make decoding slow. */
export const MAX_IPV6_EXTENSIONS = 8;

/** One extension header: its type (the Next Header value that announced it) and its bytes. */
export interface Ipv6ExtensionRepr {
  type: number;
  /** The whole extension header, starting with its own next-header byte. */
  data: Uint8Array;
}

/** The decoded meaning of an IPv6 header and its extension chain. */
export interface Ipv6Repr {
  trafficClass: number;
  flowLabel: number;
  hopLimit: number;
  src: string;
  dst: string;
  extensions: Ipv6ExtensionRepr[];
  /** The upper-layer protocol after the extension headers. */
  protocol: number;
  /** Length of the upper-layer payload (after the extension headers). */
  payloadLength: number;
}

/**
 * Result of walking the extension headers of the IPv6 packet at `offset`: written into a caller-owned
 * object so the hot path allocates nothing.
 */
export interface Ipv6Walk {
  protocol: number;
  /** Offset of the upper-layer header. */
  upperOffset: number;
  /** Number of extension headers stepped over. */
  extensionCount: number;
  /** True when a fragment header was seen; with `fragmentOffset` > 0 the upper header is not present. */
  fragmented: boolean;
  fragmentOffset: number;
}

/**
 * Walks the extension headers. Returns 0, or the offset at which the chain is malformed written as a
 * negative number minus one (so `-(offset) - 1`), so the hot path need not throw.
 */
export function walkIpv6(buf: Uint8Array, offset: number, end: number, out: Ipv6Walk): number {
  let next = buf[offset + 6]!;
  let at = offset + IPV6_HEADER_LENGTH;
  out.extensionCount = 0;
  out.fragmented = false;
  out.fragmentOffset = 0;
  while (IPV6_EXTENSION_HEADERS.has(next)) {
    if (out.extensionCount === MAX_IPV6_EXTENSIONS) return -at - 1;
    if (at + 8 > end) return -at - 1;
    const len = next === 44 ? 8 : (buf[at + 1]! + 1) * 8;
    if (at + len > end) return -at - 1;
    if (next === 44) {
      out.fragmented = true;
      out.fragmentOffset = read16(buf, at + 2) >> 3;
    }
    out.extensionCount++;
    const following = buf[at]!;
    at += len;
    next = following;
    if (out.fragmentOffset !== 0) break;
  }
  out.protocol = next;
  out.upperOffset = at;
  return 0;
}

/** A validated view over an IPv6 header (fixed part and extension chain). */
export class Ipv6View {
  readonly buf: Uint8Array;
  readonly offset: number;
  readonly walk: Ipv6Walk;
  private constructor(buf: Uint8Array, offset: number, walk: Ipv6Walk) {
    this.buf = buf;
    this.offset = offset;
    this.walk = walk;
  }
  /** Validates version, payload length and the extension chain; throws {@link MalformedFrameError}. */
  static checked(buf: Uint8Array, offset: number, end = buf.length): Ipv6View {
    ensureBytes('ipv6', offset, IPV6_HEADER_LENGTH, end, 'IPv6 header');
    if (buf[offset]! >> 4 !== 6) throw new MalformedFrameError('ipv6', offset, `version ${buf[offset]! >> 4}, expected 6`);
    const plen = read16(buf, offset + 4);
    if (offset + IPV6_HEADER_LENGTH + plen > end) {
      throw new MalformedFrameError('ipv6', offset + 4, `payload length ${plen} exceeds the ${end - offset - IPV6_HEADER_LENGTH} bytes captured`);
    }
    const walk: Ipv6Walk = { protocol: 0, upperOffset: 0, extensionCount: 0, fragmented: false, fragmentOffset: 0 };
    const r = walkIpv6(buf, offset, offset + IPV6_HEADER_LENGTH + plen, walk);
    if (r < 0) throw new MalformedFrameError('ipv6', -r - 1, 'extension header runs past the payload or the chain is too long');
    return new Ipv6View(buf, offset, walk);
  }
  get payloadLength(): number {
    return read16(this.buf, this.offset + 4);
  }
  get end(): number {
    return this.offset + IPV6_HEADER_LENGTH + this.payloadLength;
  }
}

/** Decodes an IPv6 header and its extension chain. */
export function parseIpv6(view: Ipv6View): Ipv6Repr {
  const { buf, offset, walk } = view;
  const first = read32(buf, offset);
  const extensions: Ipv6ExtensionRepr[] = [];
  let next = buf[offset + 6]!;
  let at = offset + IPV6_HEADER_LENGTH;
  for (let i = 0; i < walk.extensionCount; i++) {
    const len = next === 44 ? 8 : (buf[at + 1]! + 1) * 8;
    extensions.push({ type: next, data: buf.slice(at, at + len) });
    next = buf[at]!;
    at += len;
  }
  return {
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    hopLimit: buf[offset + 7]!,
    src: formatIPv6(buf, offset + 8),
    dst: formatIPv6(buf, offset + 24),
    extensions,
    protocol: walk.protocol,
    payloadLength: view.end - walk.upperOffset,
  };
}

/** Length of the fixed header plus the extension headers. */
export function ipv6HeaderLength(repr: Pick<Ipv6Repr, 'extensions'>): number {
  return IPV6_HEADER_LENGTH + repr.extensions.reduce((n, e) => n + e.data.length, 0);
}

/**
 * Writes the header and extension chain at `offset`; returns the upper-layer offset. Each extension's
 * first byte (its next-header field) is rewritten to chain correctly, and its length byte must match
 * its data length (a multiple of 8).
 */
export function emitIpv6(repr: Ipv6Repr, buf: Uint8Array, offset: number): number {
  write32(buf, offset, (6 << 28) | ((repr.trafficClass & 0xff) << 20) | (repr.flowLabel & 0xfffff));
  write16(buf, offset + 4, ipv6HeaderLength(repr) - IPV6_HEADER_LENGTH + repr.payloadLength);
  buf[offset + 6] = repr.extensions.length ? repr.extensions[0]!.type : repr.protocol;
  buf[offset + 7] = repr.hopLimit;
  buf.set(parseIPv6(repr.src), offset + 8);
  buf.set(parseIPv6(repr.dst), offset + 24);
  let at = offset + IPV6_HEADER_LENGTH;
  repr.extensions.forEach((ext, i) => {
    const expected = ext.type === 44 ? 8 : (ext.data[1]! + 1) * 8;
    if (ext.data.length !== expected || ext.data.length % 8 !== 0) {
      throw new MalformedFrameError('ipv6', at, `extension ${ext.type} is ${ext.data.length} bytes, its header says ${expected}`);
    }
    buf.set(ext.data, at);
    buf[at] = i + 1 < repr.extensions.length ? repr.extensions[i + 1]!.type : repr.protocol;
    at += ext.data.length;
  });
  return at;
}

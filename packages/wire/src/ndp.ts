/**
 * Neighbor Discovery (RFC 4861) Neighbor Solicitation (135) and Advertisement (136), with options.
 * The message is an ICMPv6 body: 4 bytes (reserved, or R/S/O flags for NA), the 16-byte target, then
 * options of (type, length in 8-byte units, data). Options vippath does not interpret are kept raw.
 */
import { formatIPv6, formatMac, parseIPv6, parseMac } from './addresses.js';
import { ensureBytes, MalformedFrameError } from './errors.js';
import { Icmpv6Type } from './icmp.js';

/** NDP option types used here. */
export const NdpOptionType = { SOURCE_LL_ADDR: 1, TARGET_LL_ADDR: 2, PREFIX_INFO: 3, REDIRECTED_HEADER: 4, MTU: 5 } as const;
/** NA flag bits in the first byte of the body. */
export const NdpFlag = { ROUTER: 0x80, SOLICITED: 0x40, OVERRIDE: 0x20 } as const;

/** One NDP option, raw: `data` is everything after the type and length bytes. */
export interface NdpOption {
  type: number;
  data: Uint8Array;
}

/** The decoded meaning of an NS or NA message. */
export interface NdpRepr {
  type: typeof Icmpv6Type.NEIGHBOR_SOLICIT | typeof Icmpv6Type.NEIGHBOR_ADVERT;
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: string;
  options: NdpOption[];
}

/**
 * Decodes an NS/NA from an ICMPv6 message at `offset` (type byte first) of `length` bytes;
 * throws {@link MalformedFrameError} for a short message or an option of length 0 or past the end.
 */
export function parseNdp(buf: Uint8Array, offset: number, length: number): NdpRepr {
  const type = buf[offset]!;
  if (type !== Icmpv6Type.NEIGHBOR_SOLICIT && type !== Icmpv6Type.NEIGHBOR_ADVERT) {
    throw new MalformedFrameError('ndp', offset, `ICMPv6 type ${type} is not a neighbor solicitation or advertisement`);
  }
  ensureBytes('ndp', offset, 24, offset + length, 'NS/NA message');
  const flags = buf[offset + 4]!;
  const options: NdpOption[] = [];
  const end = offset + length;
  let at = offset + 24;
  while (at < end) {
    ensureBytes('ndp', at, 2, end, 'NDP option header');
    const units = buf[at + 1]!;
    // RFC 4861 §4.6: a zero length option must make the receiver discard the packet.
    if (units === 0) throw new MalformedFrameError('ndp', at + 1, 'option length 0');
    ensureBytes('ndp', at, units * 8, end, `NDP option ${buf[at]}`);
    options.push({ type: buf[at]!, data: buf.slice(at + 2, at + units * 8) });
    at += units * 8;
  }
  return {
    type,
    router: (flags & NdpFlag.ROUTER) !== 0,
    solicited: (flags & NdpFlag.SOLICITED) !== 0,
    override: (flags & NdpFlag.OVERRIDE) !== 0,
    target: formatIPv6(buf, offset + 8),
    options,
  };
}

/** Builds a link-layer address option (SLLAO or TLLAO) for an Ethernet MAC. */
export function linkLayerOption(type: number, mac: string): NdpOption {
  const data = new Uint8Array(6);
  data.set(parseMac(mac));
  return { type, data };
}

/** The MAC in the first source (1) or target (2) link-layer address option, if any. */
export function findLinkLayerAddress(repr: NdpRepr, type: number): string | undefined {
  const opt = repr.options.find((o) => o.type === type && o.data.length >= 6);
  return opt ? formatMac(opt.data, 0) : undefined;
}

/** ICMPv6 message length of a representation. */
export function ndpLength(repr: Pick<NdpRepr, 'options'>): number {
  return 24 + repr.options.reduce((n, o) => n + ndpOptionLength(o), 0);
}

function ndpOptionLength(o: NdpOption): number {
  return Math.ceil((o.data.length + 2) / 8) * 8;
}

/**
 * Writes the ICMPv6 body (from the type byte; the checksum is left 0 for the caller, who knows the
 * pseudo-header) at `offset`; returns the end. Options are zero-padded to 8-byte units.
 */
export function emitNdp(repr: NdpRepr, buf: Uint8Array, offset: number): number {
  buf[offset] = repr.type;
  buf[offset + 1] = 0;
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  buf[offset + 4] = repr.type === Icmpv6Type.NEIGHBOR_ADVERT
    ? (repr.router ? NdpFlag.ROUTER : 0) | (repr.solicited ? NdpFlag.SOLICITED : 0) | (repr.override ? NdpFlag.OVERRIDE : 0)
    : 0;
  buf[offset + 5] = 0;
  buf[offset + 6] = 0;
  buf[offset + 7] = 0;
  buf.set(parseIPv6(repr.target), offset + 8);
  let at = offset + 24;
  for (const o of repr.options) {
    const len = ndpOptionLength(o);
    buf.fill(0, at, at + len);
    buf[at] = o.type;
    buf[at + 1] = len / 8;
    buf.set(o.data, at + 2);
    at += len;
  }
  return at;
}

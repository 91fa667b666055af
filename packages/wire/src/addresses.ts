/**
 * Addresses as text and as numbers. The hot path keeps IPv4 addresses as unsigned 32-bit numbers and
 * MACs/IPv6 addresses in place in the frame; these helpers convert for people (CLI, traces, tests).
 */
import { read32, write32 } from './bytes.js';
import { VippathError } from './errors.js';

/** An address string that could not be parsed. */
export class AddressFormatError extends VippathError {
  constructor(kind: string, text: string) {
    super('BAD_ADDRESS', `not a valid ${kind} address: ${JSON.stringify(text)}`);
  }
}

const HEX = '0123456789abcdef';

/** Formats 6 bytes at `offset` as lowercase colon-separated hex (`52:54:00:aa:00:64`), as tshark does. */
export function formatMac(buf: Uint8Array, offset = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    const b = buf[offset + i]!;
    s += (i ? ':' : '') + HEX[b >> 4] + HEX[b & 15];
  }
  return s;
}

/** Parses `aa:bb:cc:dd:ee:ff` (also `-` separated) into 6 bytes. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new AddressFormatError('MAC', text);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Writes a MAC given as text or bytes into `buf` at `offset`. */
export function writeMac(buf: Uint8Array, offset: number, mac: string | Uint8Array): void {
  buf.set(typeof mac === 'string' ? parseMac(mac) : mac, offset);
}

/** True when the 6 bytes at `offset` are ff:ff:ff:ff:ff:ff. */
export function isBroadcastMac(buf: Uint8Array, offset: number): boolean {
  return (buf[offset]! & buf[offset + 1]! & buf[offset + 2]! & buf[offset + 3]! & buf[offset + 4]! & buf[offset + 5]!) === 0xff;
}

/** True when the group bit (I/G, the low bit of the first octet) is set: broadcast or multicast. */
export function isMulticastMac(buf: Uint8Array, offset: number): boolean {
  return (buf[offset]! & 1) === 1;
}

/** Reads a big-endian IPv4 address as an unsigned 32-bit number. */
export function readIPv4(buf: Uint8Array, offset: number): number {
  return read32(buf, offset);
}

/** Writes an unsigned 32-bit IPv4 address big-endian. */
export function writeIPv4(buf: Uint8Array, offset: number, ip: number): void {
  write32(buf, offset, ip);
}

/** Formats an unsigned 32-bit IPv4 address as dotted decimal. */
export function formatIPv4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** Parses dotted-decimal IPv4 (exactly four decimal octets, no leading zeros beyond `0`). */
export function parseIPv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new AddressFormatError('IPv4', text);
  let ip = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) throw new AddressFormatError('IPv4', text);
    const v = Number(p);
    if (v > 255) throw new AddressFormatError('IPv4', text);
    ip = ip * 256 + v;
  }
  return ip >>> 0;
}

/** Parses an IPv6 address (with `::` compression and an optional embedded IPv4 tail) into 16 bytes. */
export function parseIPv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  const bad = (): never => {
    throw new AddressFormatError('IPv6', text);
  };
  if (!/^[0-9a-fA-F:.]+$/.test(text)) bad();
  const halves = text.split('::');
  if (halves.length > 2) bad();
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const words: number[] = [];
    const items = s.split(':');
    items.forEach((item, i) => {
      if (item.includes('.')) {
        if (i !== items.length - 1) bad();
        const v4 = parseIPv4(item);
        words.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) bad();
        words.push(parseInt(item, 16));
      }
    });
    return words;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) bad();
  const words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/**
 * Each byte value's decimal text as one word: its length (1–3) in bits 0–7, its digits' ASCII from bits 8–15 on.
 * Made once: writing an address's text per request reads four words instead of dividing each byte by ten until
 * nothing is left (≈ 460 instructions a request on http, bench/README "The way back's copy, the wild entries' MAC
 * compares and the client's address text (session 35)").
 */
const OCTET_TEXT = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    const s = String(n);
    let w = s.length;
    for (let i = 0; i < s.length; i++) w |= s.charCodeAt(i) << (8 * (i + 1));
    t[n] = w;
  }
  return t;
})();

/**
 * Writes {@link formatIPv4}'s text of `ip` as ASCII into `buf` at `at` (up to 15 bytes); returns the end. For
 * frames whose payload carries an address (an HTTP body), without a string per frame.
 */
export function writeIPv4Text(buf: Uint8Array, at: number, ip: number): number {
  // The four octets' words written out here, not four calls of a helper writing one: inlined into a pod's answer
  // (@vippath/cluster's tcpConn), this function left no inlining budget for the helper, and each of its calls cost
  // ≈ 74 instructions (≈ 300 a request on http).
  const a = OCTET_TEXT[ip >>> 24]!;
  const b = OCTET_TEXT[(ip >>> 16) & 0xff]!;
  const c = OCTET_TEXT[(ip >>> 8) & 0xff]!;
  const d = OCTET_TEXT[ip & 0xff]!;
  buf[at] = (a >>> 8) & 0xff;
  if ((a & 0xff) > 1) buf[at + 1] = (a >>> 16) & 0xff;
  if ((a & 0xff) > 2) buf[at + 2] = a >>> 24;
  at += a & 0xff;
  buf[at] = 46;
  buf[at + 1] = (b >>> 8) & 0xff;
  if ((b & 0xff) > 1) buf[at + 2] = (b >>> 16) & 0xff;
  if ((b & 0xff) > 2) buf[at + 3] = b >>> 24;
  at += 1 + (b & 0xff);
  buf[at] = 46;
  buf[at + 1] = (c >>> 8) & 0xff;
  if ((c & 0xff) > 1) buf[at + 2] = (c >>> 16) & 0xff;
  if ((c & 0xff) > 2) buf[at + 3] = c >>> 24;
  at += 1 + (c & 0xff);
  buf[at] = 46;
  buf[at + 1] = (d >>> 8) & 0xff;
  if ((d & 0xff) > 1) buf[at + 2] = (d >>> 16) & 0xff;
  if ((d & 0xff) > 2) buf[at + 3] = d >>> 24;
  return at + 1 + (d & 0xff);
}

/** Writes a 16-bit group as lowercase hex without leading zeros; returns the end. */
function writeHexGroup(buf: Uint8Array, at: number, w: number): number {
  let shift = 12;
  while (shift > 0 && (w >> shift) === 0) shift -= 4;
  for (; shift >= 0; shift -= 4) buf[at++] = HEX.charCodeAt((w >> shift) & 15);
  return at;
}

/**
 * Writes {@link formatIPv6}'s text (RFC 5952) of the 16 bytes at `srcOffset` in `src` as ASCII into `buf` at
 * `at` (up to 39 bytes); returns the end. `src` and `buf` may be the same array if the ranges do not overlap.
 */
export function writeIPv6Text(buf: Uint8Array, at: number, src: Uint8Array, srcOffset = 0): number {
  // The longest run of two or more zero groups, the first on ties (as formatIPv6).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (src[srcOffset + 2 * i] !== 0 || src[srcOffset + 2 * i + 1] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && src[srcOffset + 2 * j] === 0 && src[srcOffset + 2 * j + 1] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      buf[at++] = 58;
      buf[at++] = 58;
      i += bestLen - 1;
      continue;
    }
    if (i > 0 && i !== bestStart + bestLen) buf[at++] = 58;
    at = writeHexGroup(buf, at, (src[srcOffset + 2 * i]! << 8) | src[srcOffset + 2 * i + 1]!);
  }
  return at;
}

/**
 * Formats 16 bytes at `offset` as RFC 5952 canonical text (lowercase, longest run of two or more zero
 * groups compressed, first run on ties). tshark, OVS and OVN print the IPv4-compatible and -mapped forms dotted
 * ({@link formatIPv6Ntop}); every other address reads the same in both.
 */
export function formatIPv6(buf: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((buf[offset + 2 * i]! << 8) | buf[offset + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return w.map((x) => x.toString(16)).join(':');
  const left = w.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const right = w.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${left}::${right}`;
}

/**
 * Formats 16 bytes at `offset` as glibc's inet_ntop does, the text OVS prints (lib/packets.c ipv6_format_addr, e.g.
 * in `dpctl/dump-conntrack`): {@link formatIPv6}'s, except that an address whose first six groups are 0 and the
 * seventh not is written IPv4-compatible (`::10.0.0.1`) and one whose first five are 0 and sixth 0xffff IPv4-mapped
 * (`::ffff:10.0.0.2`) — what inet_ntop6 does when its longest zero run is the first six or five groups.
 */
export function formatIPv6Ntop(buf: Uint8Array, offset = 0): string {
  let zeros = 0;
  while (zeros < 12 && buf[offset + zeros] === 0) zeros++;
  const group5 = (buf[offset + 10]! << 8) | buf[offset + 11]!;
  const group6 = (buf[offset + 12]! << 8) | buf[offset + 13]!;
  if (zeros >= 12 && group6 !== 0) return `::${formatIPv4(readIPv4(buf, offset + 12))}`;
  if (zeros >= 10 && group5 === 0xffff) return `::ffff:${formatIPv4(readIPv4(buf, offset + 12))}`;
  return formatIPv6(buf, offset);
}

/** Compares 16 bytes at two places. */
export function equalIPv6(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): boolean {
  for (let i = 0; i < 16; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}

/**
 * IP addresses and prefixes for the control plane (pools, allocation, election), both families as
 * bigint values. Not the data path: frames keep addresses as bytes/uint32 (see @vippath/wire).
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '@vippath/wire';

/** An address: family and value (IPv4 in the low 32 bits). */
export interface Ip {
  family: 4 | 6;
  value: bigint;
}

/** A prefix: its first address and length. */
export interface Cidr {
  family: 4 | 6;
  base: bigint;
  bits: number;
}

const width = (family: 4 | 6): number => (family === 4 ? 32 : 128);

/** Parses an IPv4 or IPv6 address; throws the wire package's AddressFormatError. */
export function parseIp(text: string): Ip {
  if (text.includes(':')) {
    const b = parseIPv6(text);
    let v = 0n;
    for (const byte of b) v = (v << 8n) | BigInt(byte);
    return { family: 6, value: v };
  }
  return { family: 4, value: BigInt(parseIPv4(text)) };
}

/**
 * Canonical text, as Go's net.IP.String() prints it (the form MetalLB hashes in its election):
 * dotted IPv4; RFC 5952 IPv6, with IPv4-mapped addresses as dotted IPv4.
 */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) return formatIPv4(Number(ip.value));
  if (ip.value >> 32n === 0xffffn) return formatIPv4(Number(ip.value & 0xffffffffn));
  const b = new Uint8Array(16);
  let v = ip.value;
  for (let i = 15; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return formatIPv6(b);
}

/** Parses `a.b.c.d/n` or `v6/n`, masking host bits as Go's net.ParseCIDR does. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`missing "/<prefix length>"`);
  const ip = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw new Error(`bad prefix length "${lenText}"`);
  const bits = Number(lenText);
  if (bits > width(ip.family)) throw new Error(`prefix length ${bits} is longer than the ${width(ip.family)}-bit address`);
  const hostBits = BigInt(width(ip.family) - bits);
  return { family: ip.family, base: (ip.value >> hostBits) << hostBits, bits };
}

/** Text of a prefix. */
export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.bits}`;
}

/** Number of addresses in a prefix. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(width(c.family) - c.bits);
}

/** True when `ip` lies in `c`. */
export function cidrContains(c: Cidr, ip: Ip): boolean {
  return c.family === ip.family && ip.value >= c.base && ip.value < c.base + cidrSize(c);
}

/** True when two prefixes share an address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

/**
 * The minimal ascending list of prefixes covering exactly [start, end], as mikioh/ipaddr.Summarize
 * (used by MetalLB for `start-end` pool entries): greedily the largest aligned block at each step.
 */
export function summarizeRange(start: Ip, end: Ip): Cidr[] {
  const w = width(start.family);
  const out: Cidr[] = [];
  let cur = start.value;
  while (cur <= end.value) {
    let hostBits = 0;
    while (hostBits < w) {
      const size = 1n << BigInt(hostBits + 1);
      if (cur % size !== 0n || cur + size - 1n > end.value) break;
      hostBits++;
    }
    out.push({ family: start.family, base: cur, bits: w - hostBits });
    cur += 1n << BigInt(hostBits);
  }
  return out;
}

/**
 * Address parsing and printing the way northd does it, so that flow texts come out byte-identical: MACs as
 * `ETH_ADDR_FMT` (lowercase, two digits), IPv4 dotted quads and IPv6 as glibc's `inet_ntop` prints them, LSP address
 * entries as `extract_lsp_addresses` reads them (ovn-org/ovn lib/ovn-util.c v23.03.1, parse_and_store_addresses),
 * LB keys as `ip_address_and_port_from_lb_key` reads them (lib/ovn-util.c, via `inet_parse_active`).
 * @module
 */

import { formatIPv6Ntop } from '@vippath/wire';

/** A MAC as northd prints it, or undefined when `s` does not start with one. Returns the length consumed too. */
export function scanMac(s: string): { mac: string; len: number } | undefined {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})/.exec(s);
  if (!m) return undefined;
  return { mac: m.slice(1, 7).map((h) => h.toLowerCase().padStart(2, '0')).join(':'), len: m[0].length };
}

/** Dotted-quad IPv4 (no leading garbage) → its 32-bit value, or undefined. */
export function parseIp4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return undefined;
    v = v * 256 + b;
  }
  return v;
}

export function formatIp4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** IPv6 text → 8 groups, or undefined (an embedded dotted quad at the end is accepted). */
export function parseIp6(s: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return undefined;
  let tail: number[] = [];
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIp4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [(v4 >>> 16) & 0xffff, v4 & 0xffff];
    text = s.slice(0, lastColon + 1) + (s[lastColon - 1] === ':' ? '' : '0');
    if (text.endsWith(':0')) text = text.slice(0, -2);
    else if (text.endsWith('::')) { /* keep */ } else text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  if (!head) return undefined;
  if (halves.length === 1) {
    const all = [...head, ...tail];
    return all.length === 8 ? all : undefined;
  }
  const rest = groups(halves[1]!);
  if (!rest) return undefined;
  const known = head.length + rest.length + tail.length;
  if (known > 7) return undefined;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail];
}

/**
 * 8 groups → text as glibc inet_ntop(AF_INET6) prints it (wire's formatIPv6Ntop). Dotted only when the first six
 * groups are zero and the seventh not (`::10.0.0.1`; `::2` and `::fffc` stay hex), or for `::ffff:a.b.c.d`: ovn-northd
 * 23.03 writes `[::2]:80` and `nd.target == ::fffc` where the BIND rule (dotted whenever the last group is > 1) gave
 * `::0.0.0.2`.
 */
export function formatIp6(g: readonly number[]): string {
  const b = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    b[2 * i] = g[i]! >> 8;
    b[2 * i + 1] = g[i]! & 0xff;
  }
  return formatIPv6Ntop(b, 0);
}

/** The solicited-node multicast address of an IPv6 address (RFC 4291 §2.7.1). */
export function solicitedNode(g: readonly number[]): number[] {
  return [0xff02, 0, 0, 0, 0, 1, 0xff00 | (g[6]! & 0xff), g[7]!];
}

export interface Ip6Addr { addr: string; sn: string }

/** One LSP `addresses`/`port_security` entry as extract_lsp_addresses reads it: a MAC, then IPv4/IPv6 with optional
 * /plen until the first token that is neither. */
export interface LspAddresses {
  mac: string;
  ipv4: string[];
  ipv6: Ip6Addr[];
}

export function extractLspAddresses(entry: string): LspAddresses | undefined {
  const mac = scanMac(entry);
  if (!mac) return undefined;
  const out: LspAddresses = { mac: mac.mac, ipv4: [], ipv6: [] };
  const rest = entry.slice(mac.len);
  // ovs_scan requires the MAC to end at a delimiter; anything glued to it makes the scan fail.
  if (rest !== '' && !/^\s/.test(rest)) return undefined;
  for (const tok of rest.trim().split(/\s+/)) {
    if (tok === '') break;
    const [ip, plen, extra] = tok.split('/');
    if (extra !== undefined) break;
    const v4 = parseIp4(ip!);
    if (v4 !== undefined && (plen === undefined || (/^\d+$/.test(plen) && Number(plen) <= 32))) {
      out.ipv4.push(formatIp4(v4));
      continue;
    }
    const v6 = parseIp6(ip!);
    if (v6 !== undefined && (plen === undefined || (/^\d+$/.test(plen) && Number(plen) <= 128))) {
      out.ipv6.push({ addr: formatIp6(v6), sn: formatIp6(solicitedNode(v6)) });
      continue;
    }
    break;
  }
  return out;
}

/** An LB VIP key or backend (`IP`, `IP:PORT`, `[IP6]:PORT`, `IP6`) as northd reads it. */
export interface LbAddr {
  ip: string;
  family: 4 | 6;
  /** 0 = none. */
  port: number;
}

export function parseLbKey(key: string): LbAddr | undefined {
  const s = key.trim();
  let host: string;
  let port: string | undefined;
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (br) {
    host = br[1]!;
    port = br[2];
  } else if ((s.match(/:/g) ?? []).length === 1) {
    [host, port] = s.split(':') as [string, string];
  } else {
    host = s;
  }
  if (port !== undefined && (!/^\d+$/.test(port) || Number(port) > 65535)) return undefined;
  const p = port === undefined ? 0 : Number(port);
  const v4 = parseIp4(host);
  if (v4 !== undefined) return { ip: formatIp4(v4), family: 4, port: p };
  const v6 = parseIp6(host);
  if (v6 !== undefined) return { ip: formatIp6(v6), family: 6, port: p };
  return undefined;
}

/** The IPv6 link-local address northd derives from a MAC (in6_generate_lla, EUI-64). */
export function linkLocalFromMac(mac: string): number[] {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  return [0xfe80, 0, 0, 0, ((b[0]! ^ 2) << 8) | b[1]!, (b[2]! << 8) | 0xff, 0xfe00 | b[3]!, (b[4]! << 8) | b[5]!];
}

/** A router port's MAC and networks as extract_lrp_networks reads them (lib/ovn-util.c): invalid networks and
 * 0.0.0.0 are skipped, and the MAC's link-local IPv6 address is appended. Undefined when the MAC is invalid. */
export interface LrpNetworks extends LspAddresses {
  ipv4Cidrs: Array<{ addr: string; plen: number }>;
  /** IPv6 networks as groups and prefix length, the link-local /64 included. */
  ipv6Cidrs: Array<{ groups: number[]; plen: number }>;
}

export function extractLrpNetworks(mac: string, networks: readonly string[]): LrpNetworks | undefined {
  const m = /^([0-9a-fA-F]{1,2}:){5}[0-9a-fA-F]{1,2}$/.test(mac.trim()) ? scanMac(mac.trim()) : undefined;
  if (!m) return undefined;
  const out: LrpNetworks = { mac: m.mac, ipv4: [], ipv6: [], ipv4Cidrs: [], ipv6Cidrs: [] };
  for (const n of networks) {
    const [ip, plenText, extra] = n.split('/');
    if (extra !== undefined) continue;
    const v4 = parseIp4(ip!);
    if (v4 !== undefined) {
      const plen = plenText === undefined ? 32 : Number(plenText);
      if (!/^\d*$/.test(plenText ?? '') || plen > 32 || v4 === 0) continue;
      out.ipv4.push(formatIp4(v4));
      out.ipv4Cidrs.push({ addr: formatIp4(v4), plen });
      continue;
    }
    const v6 = parseIp6(ip!);
    if (v6 !== undefined) {
      const plen = plenText === undefined ? 128 : Number(plenText);
      if (!/^\d*$/.test(plenText ?? '') || plen > 128) continue;
      out.ipv6.push({ addr: formatIp6(v6), sn: formatIp6(solicitedNode(v6)) });
      out.ipv6Cidrs.push({ groups: v6, plen });
    }
  }
  const lla = linkLocalFromMac(out.mac);
  out.ipv6.push({ addr: formatIp6(lla), sn: formatIp6(solicitedNode(lla)) });
  out.ipv6Cidrs.push({ groups: lla, plen: 64 });
  return out;
}

/** lrouter_port_ipv4_reachable / _ipv6_reachable: the address is inside one of the router port's networks. */
export function lrpReaches(net: LrpNetworks, ip: string): boolean {
  const v4 = parseIp4(ip);
  if (v4 !== undefined) {
    return net.ipv4Cidrs.some((c) => {
      const mask = c.plen === 0 ? 0 : (0xffffffff << (32 - c.plen)) >>> 0;
      return ((v4 & mask) >>> 0) === ((parseIp4(c.addr)! & mask) >>> 0);
    });
  }
  const v6 = parseIp6(ip);
  if (!v6) return false;
  return net.ipv6Cidrs.some((c) => {
    for (let i = 0; i < 8; i++) {
      const bits = Math.max(0, Math.min(16, c.plen - i * 16));
      const mask = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
      if ((v6[i]! & mask) !== (c.groups[i]! & mask)) return false;
    }
    return true;
  });
}

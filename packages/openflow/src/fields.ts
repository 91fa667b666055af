/**
 * Match fields as `ovs-ofctl` names them (ovs-fields(7)): which key slots they cover, how their values
 * are written, and which protocol they presuppose. OVS silently drops a field whose prerequisite the flow
 * does not match ("normalization changed ofp_match"); vippath does the same and reports a warning.
 */
import { formatIPv4, formatIPv6Ntop, formatMac, parseIPv4, parseIPv6, parseMac } from '@vippath/wire';
import { resolvePortName } from './ports.js';
import { Slot } from './key.js';

/** One slot's masked comparison. */
export interface SlotMatch {
  slot: number;
  value: number;
  mask: number;
}

/** What a field needs the flow to match first. */
export type Prerequisite = 'none' | 'ip_or_arp' | 'ip' | 'ipv4' | 'ipv6' | 'arp' | 'l4' | 'l4_or_icmp' | 'tcp' | 'icmp' | 'icmp4' | 'icmp6' | 'nd' | 'vlan';

/** A match field. */
export interface FieldDef {
  /** The name `ovs-ofctl dump-flows` prints. */
  name: string;
  aliases: string[];
  prereq: Prerequisite;
  /** Parses `value[/mask]` into slot matches; throws Error with a message on bad input. */
  parse(text: string, ports?: ReadonlyMap<string, number>): SlotMatch[];
  /** Formats slot matches back (same order as `parse` made them). */
  format(m: SlotMatch[]): string;
  /** Position in OVS's printed order. */
  order: number;
}

const ALL = 0xffffffff;

function parseNumber(text: string, bits: number): number {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) throw new Error(`"${text}" is not a number`);
  const v = Number(t);
  if (!Number.isSafeInteger(v) || v >= 2 ** bits) throw new Error(`${text} does not fit in ${bits} bits`);
  return v;
}

function numberField(name: string, slot: number, bits: number, prereq: Prerequisite, order: number, aliases: string[] = [], hex = false): FieldDef {
  const full = bits === 32 ? ALL : 2 ** bits - 1;
  return {
    name, aliases, prereq, order,
    parse(text) {
      const [v, m] = text.split('/');
      const mask = m === undefined ? full : parseNumber(m, bits);
      return [{ slot, value: (parseNumber(v!, bits) & mask) >>> 0, mask }];
    },
    format([s]) {
      if (s!.mask === full) return hex ? `0x${s!.value.toString(16)}` : String(s!.value);
      return `0x${s!.value.toString(16)}/0x${s!.mask.toString(16)}`;
    },
  };
}

function macField(name: string, hi: number, prereq: Prerequisite, order: number, aliases: string[] = []): FieldDef {
  const split = (b: Uint8Array): [number, number] => [(b[0]! << 8) | b[1]!, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0];
  const join = (h: number, l: number): Uint8Array => Uint8Array.of(h >> 8, h & 0xff, l >>> 24, (l >>> 16) & 0xff, (l >>> 8) & 0xff, l & 0xff);
  return {
    name, aliases, prereq, order,
    parse(text) {
      const [v, m] = text.split('/');
      const [vh, vl] = split(parseMac(v!));
      const [mh, ml] = m === undefined ? [0xffff, ALL] : split(parseMac(m));
      return [{ slot: hi, value: vh & mh, mask: mh }, { slot: hi + 1, value: (vl & ml) >>> 0, mask: ml }];
    },
    format([h, l]) {
      const v = formatMac(join(h!.value, l!.value));
      return h!.mask === 0xffff && l!.mask === ALL ? v : `${v}/${formatMac(join(h!.mask, l!.mask))}`;
    },
  };
}

function ipv4Field(name: string, slot: number, prereq: Prerequisite, order: number, aliases: string[] = []): FieldDef {
  return {
    name, aliases, prereq, order,
    parse(text) {
      const [v, m] = text.split('/');
      let mask = ALL;
      if (m !== undefined) mask = m.includes('.') ? parseIPv4(m) : prefixMask(parseNumber(m, 6), 32);
      return [{ slot, value: (parseIPv4(v!) & mask) >>> 0, mask }];
    },
    format([s]) {
      if (s!.mask === ALL) return formatIPv4(s!.value);
      const len = prefixLength(s!.mask);
      return `${formatIPv4(s!.value)}/${len >= 0 ? len : formatIPv4(s!.mask)}`;
    },
  };
}

function ipv6Field(name: string, slot: number, prereq: Prerequisite, order: number, aliases: string[] = []): FieldDef {
  const words = (b: Uint8Array): number[] => [0, 1, 2, 3].map((i) => ((b[4 * i]! << 24) | (b[4 * i + 1]! << 16) | (b[4 * i + 2]! << 8) | b[4 * i + 3]!) >>> 0);
  const bytes = (w: number[]): Uint8Array => Uint8Array.from(w.flatMap((x) => [x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff]));
  return {
    name, aliases, prereq, order,
    parse(text) {
      const [v, m] = text.split('/');
      const val = words(parseIPv6(v!));
      let mask = [ALL, ALL, ALL, ALL];
      if (m !== undefined) {
        if (m.includes(':')) mask = words(parseIPv6(m));
        else {
          const len = parseNumber(m, 8);
          if (len > 128) throw new Error(`prefix length ${len} exceeds 128`);
          mask = [0, 1, 2, 3].map((i) => prefixMask(Math.max(0, Math.min(32, len - 32 * i)), 32));
        }
      }
      return val.map((x, i) => ({ slot: slot + i, value: (x & mask[i]!) >>> 0, mask: mask[i]! }));
    },
    // ovs-ofctl prints IPv6 values and masks through inet_ntop (OVS 3.1 lib/packets.c ipv6_format_masked →
    // ipv6_format_addr), so IPv4-compatible and -mapped ones come out dotted: `dump-flows` shows
    // `ipv6_src=::10.0.0.1`, `nd_target=::ffff:10.0.0.2`, `ipv6_src=::10.0.0.1/::255.255.255.255` (seen on 3.1.0).
    format(ms) {
      const v = formatIPv6Ntop(bytes(ms.map((s) => s.value)));
      if (ms.every((s) => s.mask === ALL)) return v;
      const mask = ms.reduce((acc, s) => (acc << 32n) | BigInt(s.mask >>> 0), 0n);
      let len = 0;
      while (len < 128 && ((mask >> BigInt(127 - len)) & 1n) === 1n) len++;
      const contiguous = mask === (len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(128 - len));
      return contiguous ? `${v}/${len}` : `${v}/${formatIPv6Ntop(bytes(ms.map((s) => s.mask)))}`;
    },
  };
}

/** A mask of `len` leading one bits in a `bits`-wide field. */
export function prefixMask(len: number, bits: number): number {
  if (len > bits) throw new Error(`prefix length ${len} exceeds ${bits}`);
  return len === 0 ? 0 : (ALL << (32 - len)) >>> 0 >>> (32 - bits);
}

function prefixLength(mask: number): number {
  for (let len = 0; len <= 32; len++) if (prefixMask(len, 32) === mask >>> 0) return len;
  return -1;
}

/** An 8-bit ICMP value held in the 16-bit tp_src/tp_dst slot, matched exactly (mask 0xffff, as OVS prints it). */
function icmpField(name: string, slot: number, order: number, aliases: string[]): FieldDef {
  const base = numberField(name, slot, 16, 'l4_or_icmp', order, aliases);
  return {
    ...base,
    parse(text) {
      if (text.includes('/')) throw new Error(`${name} takes no mask`);
      return [{ slot, value: parseNumber(text, 8), mask: 0xffff }];
    },
  };
}

const vlanTci = numberField('vlan_tci', Slot.VLAN_TCI, 16, 'none', 30, [], true);
vlanTci.format = ([s]) => (s!.mask === 0xffff ? `0x${s!.value.toString(16).padStart(4, '0')}` : `0x${s!.value.toString(16).padStart(4, '0')}/0x${s!.mask.toString(16).padStart(4, '0')}`);

const dlVlan: FieldDef = {
  name: 'dl_vlan', aliases: [], prereq: 'none', order: 30,
  parse(text) {
    const v = parseNumber(text, 16);
    // dl_vlan=0xffff means "no VLAN header" (OpenFlow 1.0 OFP_VLAN_NONE).
    if (v === 0xffff) return [{ slot: Slot.VLAN_TCI, value: 0, mask: 0xffff }];
    if (v > 4095) throw new Error(`VLAN ID ${v} is not 0–4095 (or 0xffff for none)`);
    return [{ slot: Slot.VLAN_TCI, value: 0x1000 | v, mask: 0x1fff }];
  },
  format: ([s]) => String(s!.value & 0xfff),
};

const dlVlanPcp: FieldDef = {
  name: 'dl_vlan_pcp', aliases: [], prereq: 'none', order: 31,
  parse(text) {
    const v = parseNumber(text, 3);
    return [{ slot: Slot.VLAN_TCI, value: 0x1000 | (v << 13), mask: 0xf000 }];
  },
  format: ([s]) => String(s!.value >> 13),
};

const inPort: FieldDef = {
  name: 'in_port', aliases: [], prereq: 'none', order: 20,
  parse(text, ports) {
    const t = text.trim();
    if (t === 'LOCAL') return [{ slot: Slot.IN_PORT, value: 0xfffe, mask: ALL }];
    const named = resolvePortName(t, ports);
    if (named !== undefined) return [{ slot: Slot.IN_PORT, value: named, mask: ALL }];
    if (!/^[0-9]+$/.test(t)) throw new Error(`in_port ${t.startsWith('"') ? t : `"${t}"`} is neither a port number, LOCAL, nor a known port name (give the bridge's ports: br-provider.ports or --ports)`);
    return [{ slot: Slot.IN_PORT, value: parseNumber(t, 16), mask: ALL }];
  },
  format: ([s]) => (s!.value === 0xfffe ? 'LOCAL' : String(s!.value)),
};

const tcpFlags: FieldDef = {
  name: 'tcp_flags', aliases: [], prereq: 'tcp', order: 90,
  parse(text) {
    const t = text.trim();
    if (/^[+-]/.test(t)) {
      const names: Record<string, number> = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ece: 64, cwr: 128, ns: 256 };
      let value = 0;
      let mask = 0;
      for (const m of t.matchAll(/([+-])([a-z]+)/g)) {
        const bit = names[m[2]!];
        if (bit === undefined) throw new Error(`unknown TCP flag "${m[2]}"`);
        mask |= bit;
        if (m[1] === '+') value |= bit;
      }
      return [{ slot: Slot.TCP_FLAGS, value, mask }];
    }
    const [v, m] = t.split('/');
    const mask = m === undefined ? 0xfff : parseNumber(m, 12);
    return [{ slot: Slot.TCP_FLAGS, value: parseNumber(v!, 12) & mask, mask }];
  },
  format: ([s]) => (s!.mask === 0xfff ? `0x${s!.value.toString(16).padStart(3, '0')}` : `0x${s!.value.toString(16).padStart(3, '0')}/0x${s!.mask.toString(16).padStart(3, '0')}`),
};

const metadata: FieldDef = {
  name: 'metadata', aliases: [], prereq: 'none', order: 15,
  parse(text) {
    const [v, m] = text.split('/');
    const big = (s: string): bigint => {
      if (!/^(0x[0-9a-fA-F]{1,16}|[0-9]+)$/.test(s.trim())) throw new Error(`"${s}" is not a 64-bit number`);
      const b = BigInt(s.trim());
      if (b >= 1n << 64n) throw new Error(`${s} does not fit in 64 bits`);
      return b;
    };
    const value = big(v!);
    const mask = m === undefined ? (1n << 64n) - 1n : big(m);
    const vv = value & mask;
    return [
      { slot: Slot.METADATA_HI, value: Number(vv >> 32n), mask: Number(mask >> 32n) },
      { slot: Slot.METADATA_LO, value: Number(vv & 0xffffffffn), mask: Number(mask & 0xffffffffn) },
    ];
  },
  format([h, l]) {
    const v = (BigInt(h!.value) << 32n) | BigInt(l!.value);
    const m = (BigInt(h!.mask) << 32n) | BigInt(l!.mask);
    return m === (1n << 64n) - 1n ? `0x${v.toString(16)}` : `0x${v.toString(16)}/0x${m.toString(16)}`;
  },
};

/** Every match field, by every name it answers to. */
export const FIELDS: FieldDef[] = [
  inPort,
  macField('dl_src', Slot.DL_SRC_HI, 'none', 40, ['eth_src']),
  macField('dl_dst', Slot.DL_DST_HI, 'none', 41, ['eth_dst']),
  numberField('dl_type', Slot.DL_TYPE, 16, 'none', 45, ['eth_type'], true),
  dlVlan,
  dlVlanPcp,
  vlanTci,
  ipv4Field('nw_src', Slot.NW_SRC, 'ip_or_arp', 50, ['ip_src']),
  ipv4Field('nw_dst', Slot.NW_DST, 'ip_or_arp', 51, ['ip_dst']),
  ipv4Field('arp_spa', Slot.NW_SRC, 'arp', 50),
  ipv4Field('arp_tpa', Slot.NW_DST, 'arp', 51),
  ipv6Field('ipv6_src', Slot.IPV6_SRC, 'ipv6', 50),
  ipv6Field('ipv6_dst', Slot.IPV6_DST, 'ipv6', 51),
  numberField('arp_op', Slot.NW_PROTO, 8, 'arp', 52),
  macField('arp_sha', Slot.ARP_SHA_HI, 'arp', 53),
  macField('arp_tha', Slot.ARP_THA_HI, 'arp', 54),
  numberField('nw_proto', Slot.NW_PROTO, 8, 'ip', 60, ['ip_proto']),
  numberField('nw_tos', Slot.NW_TOS, 8, 'ip', 61),
  numberField('nw_ttl', Slot.NW_TTL, 8, 'ip', 62),
  numberField('tp_src', Slot.TP_SRC, 16, 'l4', 70, ['tcp_src', 'udp_src', 'sctp_src']),
  numberField('tp_dst', Slot.TP_DST, 16, 'l4', 71, ['tcp_dst', 'udp_dst', 'sctp_dst']),
  // icmp_type/icmp_code are the OpenFlow 1.0 tp_src/tp_dst under another name: OVS takes them on a TCP flow
  // too (`tcp6,icmp_type=3` prints as `tcp6,tp_src=3`).
  icmpField('icmp_type', Slot.TP_SRC, 70, ['icmpv6_type']),
  icmpField('icmp_code', Slot.TP_DST, 71, ['icmpv6_code']),
  ipv6Field('nd_target', Slot.ND_TARGET, 'nd', 80),
  tcpFlags,
  metadata,
  ...Array.from({ length: 16 }, (_, i) => numberField(`reg${i}`, Slot.REG0 + i, 32, 'none', 10 + i / 100, [], true)),
];

/** Field by any of its names. */
export const FIELD_BY_NAME: ReadonlyMap<string, FieldDef> = new Map(FIELDS.flatMap((f) => [f.name, ...f.aliases].map((n) => [n, f] as const)));

/** Protocol shorthands: dl_type and, for transport ones, nw_proto. */
export const SHORTHANDS: Readonly<Record<string, { dlType: number; nwProto?: number }>> = {
  ip: { dlType: 0x0800 },
  ipv6: { dlType: 0x86dd },
  arp: { dlType: 0x0806 },
  rarp: { dlType: 0x8035 },
  tcp: { dlType: 0x0800, nwProto: 6 },
  udp: { dlType: 0x0800, nwProto: 17 },
  sctp: { dlType: 0x0800, nwProto: 132 },
  icmp: { dlType: 0x0800, nwProto: 1 },
  tcp6: { dlType: 0x86dd, nwProto: 6 },
  udp6: { dlType: 0x86dd, nwProto: 17 },
  sctp6: { dlType: 0x86dd, nwProto: 132 },
  icmp6: { dlType: 0x86dd, nwProto: 58 },
};

/** The shorthand naming (dl_type, nw_proto), if any. */
export function shorthandFor(dlType: number | undefined, nwProto: number | undefined): string | undefined {
  for (const [name, s] of Object.entries(SHORTHANDS)) if (s.dlType === dlType && s.nwProto === nwProto) return name;
  return undefined;
}

/**
 * OVN's logical fields (ovn lib/logical-fields.c, branch-23.03 `ovn_init_symtab`) over one flat store of 32-bit
 * words, laid out like OVS's `struct flow` where OVN relies on the sharing: `arp.spa`/`arp.tpa` live in the IPv4
 * address slots, `nd.sll`/`nd.tll` in `arp.sha`/`arp.tha`, ICMP type/code in the transport ports, every L4
 * protocol's ports in one pair. A field is a run of words, least significant word first, so the register
 * overlaps (`xxreg0` = `reg0..reg3` with `reg0` the top 32 bits) are plain aliases of the same words.
 * @module
 */

/** Word offsets of the flow store (each a 32-bit word; wider fields take consecutive words, low word first). */
export const W = {
  INPORT: 0,
  OUTPORT: 1,
  FLAGS: 2,
  /** 10 logical registers: words 3..12 (see {@link regWord}). */
  REGS: 3,
  CT_STATE: 13,
  CT_MARK: 14,
  CT_LABEL: 15, // 4 words
  ETH_SRC: 19, // 2 words (48 bits)
  ETH_DST: 21,
  ETH_TYPE: 23,
  VLAN_TCI: 24,
  IP_PROTO: 25,
  IP_TTL: 26,
  IP_DSCP: 27,
  IP_ECN: 28,
  IP_FRAG: 29,
  IPV4_SRC: 30,
  IPV4_DST: 31,
  IPV6_SRC: 32, // 4 words
  IPV6_DST: 36,
  IPV6_LABEL: 40,
  TP_SRC: 41,
  TP_DST: 42,
  TCP_FLAGS: 43,
  ARP_SHA: 44, // 2 words
  ARP_THA: 46,
  ND_TARGET: 48, // 4 words
  ARP_OP: 52,
  PKT_MARK: 53,
  CT_NW_DST: 54,
  CT_IPV6_DST: 55, // 4 words
  CT_TP_DST: 59,
  CT_NW_SRC: 60,
  CT_IPV6_SRC: 61,
  CT_TP_SRC: 65,
  CT_NW_PROTO: 66,
  /** reg11 (DNAT zone), reg12 (SNAT zone), reg13 (ct zone) of the physical pipeline. */
  DNAT_ZONE: 67,
  SNAT_ZONE: 68,
  CT_ZONE: 69,
  SIZE: 70,
} as const;

/**
 * Word of logical register `regN`. OVN defines reg0..reg3 as 32-bit slices of xxreg0 with reg0 the most
 * significant (logical-fields.c add_subregister: `reg<i>` = `xxreg<i/4>[32*(3 - i%4) ..]`), and reg8/reg9 as
 * the halves of xreg4 (reg8 high). Storing reg3,reg2,reg1,reg0 in ascending words keeps xxreg0 little-endian.
 */
export function regWord(n: number): number {
  if (n < 8) return W.REGS + 4 * Math.floor(n / 4) + (3 - (n % 4));
  return W.REGS + (n === 8 ? 9 : 8);
}

/** Field bit layouts OVS gives MFF_LOG_FLAGS (ovn include/ovn/logical-fields.h `mff_log_flags_bits`). */
export const LogFlag = {
  ALLOW_LOOPBACK: 1 << 0,
  FORCE_SNAT_FOR_DNAT: 1 << 2,
  FORCE_SNAT_FOR_LB: 1 << 3,
  LOOKUP_LB_HAIRPIN: 1 << 7,
  SKIP_SNAT_FOR_LB: 1 << 9,
  USE_SNAT_ZONE: 1 << 11,
  CHECK_PORT_SEC: 1 << 12,
  USE_LB_AFF_SESSION: 1 << 14,
  LOCALNET: 1 << 15,
} as const;

/** A real field: a run of bits starting at bit 0 of word `word`. */
export interface FieldDef {
  kind: 'field';
  name: string;
  word: number;
  width: number;
  /** Prerequisite expression text (logical-fields.c), or undefined. */
  prereq?: string;
  /** `inport`/`outport`: compared with port names. */
  string?: boolean;
  /** Values are printed as MAC, IPv4, IPv6 or decimal (for traces and microflow formatting). */
  format?: 'mac' | 'ip4' | 'ip6' | 'int';
  /**
   * Nominal (lib/expr.c expr_symtab_add_field_scoped: a string field, or an OVS field that is not fully maskable):
   * no subfield of it (parse_field), and in a match only `==` (make_cmp).
   */
  nominal?: boolean;
  /** OVS cannot set it (meta-flow's field not writable): "Field … is not modifiable" wherever an action writes it. */
  readOnly?: boolean;
}

/** A named slice of another field (`reg0` = `xxreg0[96..127]`, `ct.est` = `ct_state[1]`). */
export interface SubfieldDef {
  kind: 'subfield';
  name: string;
  parent: string;
  lo: number;
  hi: number;
  prereq?: string;
}

/** A name that stands for a boolean expression (`ip4` = `eth.type == 0x800`). */
export interface PredicateDef {
  kind: 'predicate';
  name: string;
  expansion: string;
}

export type SymbolDef = FieldDef | SubfieldDef | PredicateDef;

const table = new Map<string, SymbolDef>();
const field = (name: string, word: number, width: number, prereq?: string, format?: FieldDef['format'], string?: boolean): void => {
  table.set(name, { kind: 'field', name, word, width, ...(prereq ? { prereq } : {}), ...(format ? { format } : {}), ...(string ? { string } : {}) });
};
const sub = (name: string, parent: string, lo: number, hi: number, prereq?: string): void => {
  table.set(name, { kind: 'subfield', name, parent, lo, hi, ...(prereq ? { prereq } : {}) });
};
const pred = (name: string, expansion: string): void => {
  table.set(name, { kind: 'predicate', name, expansion });
};

// ovn lib/logical-fields.c branch-23.03, ovn_init_symtab, in its order.
field('inport', W.INPORT, 32, undefined, undefined, true);
field('outport', W.OUTPORT, 32, undefined, undefined, true);
field('xxreg0', W.REGS, 128);
field('xxreg1', W.REGS + 4, 128);
for (let xi = 0; xi < 4; xi++) field(`xreg${xi}`, W.REGS + 4 * Math.floor(xi / 2) + 2 * (1 - (xi % 2)), 64);
field('xreg4', W.REGS + 8, 64);
for (let i = 0; i < 10; i++) field(`reg${i}`, regWord(i), 32);
field('flags', W.FLAGS, 32);
sub('flags.loopback', 'flags', 0, 0);
sub('flags.force_snat_for_dnat', 'flags', 2, 2);
sub('flags.force_snat_for_lb', 'flags', 3, 3);
sub('flags.skip_snat_for_lb', 'flags', 9, 9);
sub('flags.use_snat_zone', 'flags', 11, 11);
sub('flags.localnet', 'flags', 15, 15);
// One table serves every version vippath runs (23.03, 24.03, 25.03): names added later are added here; a name that
// moved is kept where 23.03 has it. The only move a switch could see: flags.from_ctrl, bit 16 in 23.03 and 19 from
// 24.03 (include/ovn/logical-fields.h MLF_FROM_CTRL_BIT at ef8f5c1ac), where 16 became MLF_RX_FROM_TUNNEL_BIT. No
// switch flow of any of these versions names from_ctrl (router pipelines do), and nothing on a localnet switch sets
// either bit, so sharing bit 16 changes no switch's behaviour.
sub('flags.from_ctrl', 'flags', 16, 16);
// [24.03] lib/logical-fields.c ef8f5c1ac ovn_init_symtab: MLF_RX_FROM_TUNNEL_BIT 16, MLF_ICMP_SNAT_BIT 17,
// MLF_NETWORK_ID 28..31 (include/ovn/logical-fields.h). ovn-controller sets tunnel_rx on packets it receives from a
// Geneve/VXLAN tunnel (physical.c); a localnet switch's packets never come that way, so it reads 0 here.
sub('flags.tunnel_rx', 'flags', 16, 16);
sub('flags.icmp_snat', 'flags', 17, 17);
sub('flags.network_id', 'flags', 28, 31);
// [25.03] lib/logical-fields.c cbb88276a: MLF_UNSNAT_NEW_BIT 20, MLF_UNSNAT_NOT_TRACKED_BIT 21 (router flags).
sub('flags.unsnat_new', 'flags', 20, 20);
sub('flags.unsnat_not_tracked', 'flags', 21, 21);
field('ct_mark', W.CT_MARK, 32);
sub('ct_mark.blocked', 'ct_mark', 0, 0);
sub('ct_mark.natted', 'ct_mark', 1, 1);
sub('ct_mark.ecmp_reply_port', 'ct_mark', 16, 31);
sub('ct_mark.skip_snat', 'ct_mark', 2, 2);
sub('ct_mark.force_snat', 'ct_mark', 3, 3);
// [25.03] lib/logical-fields.c cbb88276a, include/ovn/logical-fields.h: OVN_CT_OBS_STAGE_1ST_BIT 4 ..
// OVN_CT_OBS_STAGE_END_BIT 5, OVN_CT_ALLOW_ESTABLISHED_BIT 6, obs_collector_id `ct_mark[16..23]` (all WR_CT_COMMIT).
sub('ct_mark.obs_stage', 'ct_mark', 4, 5);
sub('ct_mark.allow_established', 'ct_mark', 6, 6);
sub('ct_mark.obs_collector_id', 'ct_mark', 16, 23);
field('ct_label', W.CT_LABEL, 128);
sub('ct_label.blocked', 'ct_label', 0, 0);
sub('ct_label.natted', 'ct_label', 1, 1);
sub('ct_label.ecmp_reply_eth', 'ct_label', 32, 79);
sub('ct_label.ecmp_reply_port', 'ct_label', 80, 95);
sub('ct_label.label', 'ct_label', 96, 127);
sub('ct_label.skip_snat', 'ct_label', 2, 2);
sub('ct_label.force_snat', 'ct_label', 3, 3);
// [25.03] lib/logical-fields.c cbb88276a: obs_point_id `ct_label[96..127]` (the bits ct_label.label names),
// obs_unused `ct_label[0..95]`, acl_id `ct_label[80..95]`. 25.03 drops ct_label.blocked/natted/ecmp_reply_port/
// skip_snat/force_snat from its table; 25.03's switch flows name none of them, so keeping them here is harmless.
sub('ct_label.obs_point_id', 'ct_label', 96, 127);
sub('ct_label.obs_unused', 'ct_label', 0, 95);
sub('ct_label.acl_id', 'ct_label', 80, 95);
field('ct_state', W.CT_STATE, 32);
// CS_STATES order (ovs lib/packets.h): new est rel rpl inv trk snat dnat; all but trk require ct.trk.
['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'].forEach((n, i) => sub(`ct.${n}`, 'ct_state', i, i, n === 'trk' ? undefined : 'ct.trk'));
field('eth.src', W.ETH_SRC, 48, undefined, 'mac');
field('eth.dst', W.ETH_DST, 48, undefined, 'mac');
field('eth.type', W.ETH_TYPE, 16);
pred('eth.bcast', 'eth.dst == ff:ff:ff:ff:ff:ff');
sub('eth.mcast', 'eth.dst', 40, 40);
pred('eth.mcastv6', 'eth.dst[32..47] == 0x3333');
field('vlan.tci', W.VLAN_TCI, 16);
pred('vlan.present', 'vlan.tci[12]');
sub('vlan.pcp', 'vlan.tci', 13, 15, 'vlan.present');
sub('vlan.vid', 'vlan.tci', 0, 11, 'vlan.present');
pred('ip4', 'eth.type == 0x800');
pred('ip6', 'eth.type == 0x86dd');
pred('ip', 'ip4 || ip6');
field('ip.proto', W.IP_PROTO, 8, 'ip');
field('ip.dscp', W.IP_DSCP, 6, 'ip');
field('ip.ecn', W.IP_ECN, 2, 'ip');
field('ip.ttl', W.IP_TTL, 8, 'ip');
field('ip4.src', W.IPV4_SRC, 32, 'ip4', 'ip4');
field('ip4.dst', W.IPV4_DST, 32, 'ip4', 'ip4');
pred('ip4.src_mcast', 'ip4.src[28..31] == 0xe');
pred('ip4.mcast', 'eth.mcast && ip4.dst[28..31] == 0xe');
pred('icmp4', 'ip4 && ip.proto == 1');
field('icmp4.type', W.TP_SRC, 8, 'icmp4');
field('icmp4.code', W.TP_DST, 8, 'icmp4');
pred('igmp', 'ip4.mcast && ip.proto == 2');
field('ip6.src', W.IPV6_SRC, 128, 'ip6', 'ip6');
field('ip6.dst', W.IPV6_DST, 128, 'ip6', 'ip6');
field('ip6.label', W.IPV6_LABEL, 20, 'ip6');
pred('ip6.mcast_rsvd', 'ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0x0');
pred('ip6.mcast_all_nodes', 'ip6.dst == ff01::1 || ip6.dst == ff02::1');
pred('ip6.mcast_all_rtrs', 'ip6.dst == ff01::2 || ip6.dst == ff02::2 || ip6.dst == ff05::2');
pred('ip6.mcast_sol_node', 'ip6.dst == ff02::1:ff00:0000/104');
pred('ip6.mcast_flood', 'eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || ip6.mcast_all_rtrs || ip6.mcast_sol_node)');
pred('ip6.mcast', 'eth.mcastv6 && ip6.dst[120..127] == 0xff');
pred('icmp6', 'ip6 && ip.proto == 58');
field('icmp6.type', W.TP_SRC, 8, 'icmp6');
field('icmp6.code', W.TP_DST, 8, 'icmp6');
pred('icmp', 'icmp4 || icmp6');
field('ip.frag', W.IP_FRAG, 8, 'ip');
pred('ip.is_frag', 'ip.frag[0]');
pred('ip.later_frag', 'ip.frag[1]');
pred('ip.first_frag', 'ip.is_frag && !ip.later_frag');
pred('arp', 'eth.type == 0x806');
field('arp.op', W.ARP_OP, 16, 'arp');
field('arp.spa', W.IPV4_SRC, 32, 'arp', 'ip4');
field('arp.sha', W.ARP_SHA, 48, 'arp', 'mac');
field('arp.tpa', W.IPV4_DST, 32, 'arp', 'ip4');
field('arp.tha', W.ARP_THA, 48, 'arp', 'mac');
pred('rarp', 'eth.type == 0x8035');
// RARP shares ARP's OVS fields (MFF_ARP_*), with its own prerequisite.
field('rarp.op', W.ARP_OP, 16, 'rarp');
field('rarp.spa', W.IPV4_SRC, 32, 'rarp', 'ip4');
field('rarp.sha', W.ARP_SHA, 48, 'rarp', 'mac');
field('rarp.tpa', W.IPV4_DST, 32, 'rarp', 'ip4');
field('rarp.tha', W.ARP_THA, 48, 'rarp', 'mac');
pred('nd', 'icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255');
pred('nd_ns', 'icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255');
pred('nd_ns_mcast', 'ip6.mcast && icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255');
pred('nd_na', 'icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255');
pred('nd_rs', 'icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255');
pred('nd_ra', 'icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255');
field('nd.target', W.ND_TARGET, 128, 'nd', 'ip6');
field('nd.sll', W.ARP_SHA, 48, 'nd_ns', 'mac');
field('nd.tll', W.ARP_THA, 48, 'nd_na', 'mac');
pred('mldv1', 'eth.mcastv6 && ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}');
pred('mldv2', 'eth.mcastv6 && ip6.dst == ff02::16 && icmp6.type == 143');
pred('tcp', 'ip.proto == 6');
field('tcp.src', W.TP_SRC, 16, 'tcp');
field('tcp.dst', W.TP_DST, 16, 'tcp');
field('tcp.flags', W.TCP_FLAGS, 12, 'tcp');
pred('udp', 'ip.proto == 17');
field('udp.src', W.TP_SRC, 16, 'udp');
field('udp.dst', W.TP_DST, 16, 'udp');
pred('sctp', 'ip.proto == 132');
field('sctp.src', W.TP_SRC, 16, 'sctp');
field('sctp.dst', W.TP_DST, 16, 'sctp');
field('pkt.mark', W.PKT_MARK, 32);
// OVS fields the physical pipeline loads (ovn-controller, chk_lb_hairpin/ct_snat_to_vip flows): not in the
// logical symtab, named as OVS names them so traces can mention them.
field('ct_nw_dst', W.CT_NW_DST, 32, undefined, 'ip4');
field('ct_ipv6_dst', W.CT_IPV6_DST, 128, undefined, 'ip6');
field('ct_tp_dst', W.CT_TP_DST, 16);

// The nominal fields (the string fields besides): OVS 3.1 meta-flow's eth_type, ip_proto, ip_dscp, ip_ecn, ip_ttl,
// icmp and icmpv6 type and code, arp_op are not fully maskable. Checked against ovn-trace 23.03 by
// test/lflow-accept.test.ts.
for (const name of ['inport', 'outport', 'eth.type', 'ip.proto', 'ip.dscp', 'ip.ecn', 'ip.ttl', 'icmp4.type', 'icmp4.code', 'icmp6.type', 'icmp6.code', 'arp.op', 'rarp.op']) {
  (table.get(name) as FieldDef).nominal = true;
}
// The fields no action may write: conntrack's state and original tuple, and what OVS cannot set (eth.type, ip.proto,
// ip.frag, tcp.flags). ct_mark and ct_label are writable only inside ct_commit { … } (the parser's scope).
for (const name of ['ct_state', 'ct_nw_dst', 'ct_ipv6_dst', 'ct_tp_dst', 'eth.type', 'ip.proto', 'ip.frag', 'tcp.flags']) {
  (table.get(name) as FieldDef).readOnly = true;
}

/** The symbol table: every name OVN's match and action language knows on a logical switch. */
export const SYMBOLS: ReadonlyMap<string, SymbolDef> = table;

/** A resolved reference to bits of a field: `width` bits starting at bit `lo` of the run at `word`. */
/**
 * Symbols of OVN 23.03's symtab (lib/logical-fields.c ovn_init_symtab, the `ovn_fields` at its end) that vippath's
 * field table lacks; every other one it has (fields.test.ts checks the whole 23.03 list).
 */
export const OVN_UNMODELLED_SYMBOLS: ReadonlySet<string> = new Set(['icmp4.frag_mtu', 'icmp6.frag_mtu']);

export interface FieldRef {
  /** The symbol as written (`reg0[6]` → `reg0`), for printing. */
  name: string;
  /** The underlying real field. */
  field: FieldDef;
  lo: number;
  width: number;
  /** Whether the source wrote an explicit subscript `[…]`. */
  subscript?: { lo: number; hi: number };
  /** Prerequisite texts gathered from the symbol and its parents. */
  prereqs: string[];
}

/** Resolves `name` (a field or subfield, not a predicate) to bits of a real field. */
export function resolveField(name: string): FieldRef | undefined {
  const def = SYMBOLS.get(name);
  if (!def || def.kind === 'predicate') return undefined;
  if (def.kind === 'field') return { name, field: def, lo: 0, width: def.width, prereqs: def.prereq ? [def.prereq] : [] };
  const parent = resolveField(def.parent);
  if (!parent) return undefined;
  return { name, field: parent.field, lo: parent.lo + def.lo, width: def.hi - def.lo + 1, prereqs: [...parent.prereqs, ...(def.prereq ? [def.prereq] : [])] };
}

/** Reads up to 32 bits at bit `lo` of the field run starting at `word`. */
export function readBits(words: Uint32Array, word: number, lo: number, width: number): number {
  const w = word + (lo >>> 5);
  const shift = lo & 31;
  let v = words[w]! >>> shift;
  if (shift + width > 32) v |= words[w + 1]! << (32 - shift);
  return width >= 32 ? v >>> 0 : (v & ((1 << width) >>> 0) - 1) >>> 0;
}

/** Writes up to 32 bits at bit `lo` of the field run starting at `word`. */
export function writeBits(words: Uint32Array, word: number, lo: number, width: number, value: number): void {
  const w = word + (lo >>> 5);
  const shift = lo & 31;
  const mask = width >= 32 ? 0xffffffff : ((1 << width) >>> 0) - 1;
  const v = (value & mask) >>> 0;
  words[w] = ((words[w]! & ~((mask << shift) >>> 0)) | (v << shift)) >>> 0;
  if (shift + width > 32) {
    const rest = shift + width - 32;
    const m2 = ((1 << rest) >>> 0) - 1;
    words[w + 1] = ((words[w + 1]! & ~m2) | (v >>> (32 - shift))) >>> 0;
  }
}

/** Copies `width` bits (any width) from one place to another, bit runs of up to 32 at a time. */
export function copyBits(src: Uint32Array, sword: number, slo: number, dst: Uint32Array, dword: number, dlo: number, width: number): void {
  for (let done = 0; done < width; done += 32) {
    const n = Math.min(32, width - done);
    writeBits(dst, dword, dlo + done, n, readBits(src, sword, slo + done, n));
  }
}

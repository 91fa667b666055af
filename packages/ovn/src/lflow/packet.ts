/**
 * The packet side of the flow store: loading a decoded frame's headers into flow words, writing changed words
 * back into the frame in place (wire's edit functions keep checksums right), building a frame from a microflow,
 * and printing a flow the way OVS's `flow_format` does (what ovn-trace prints on its first line).
 * @module
 */
import {
  buildFrame, DecodedFrame, FrameDecoder, formatIPv4, formatIPv6, formatIPv6Ntop, formatMac, L3 as L3Import, read16, rewriteIpTtlTos, rewriteIpv4Address, rewriteIpv6Address, rewriteIpv6FlowLabel, rewritePort,
  write16, type FrameSpec,
} from '@vippath/wire';
import { readBits, W as WImport, regWord } from './fields.js';

// Imports bound to module constants, which TurboFan folds (an enum object's fields become immediates): each use of
// an import loads its cell and checks it, and for an object its map, then the field — in storeFrame, called before
// every ct() and at every output, a W or L3 read per word compared (bench/README "A SYN's walk through the executor
// (session 34)").
const W = WImport;
const L3 = L3Import;

const V6_FIELDS: ReadonlyArray<readonly [number, number]> = [[W.IPV6_SRC, 8], [W.IPV6_DST, 24]];

/** Loads 16 big-endian bytes into 4 little-endian-ordered words (word 0 = the last 4 bytes). */
export function loadV6(words: Uint32Array, at: number, buf: Uint8Array, off: number): void {
  for (let i = 0; i < 4; i++) {
    const b = off + 12 - 4 * i;
    words[at + i] = ((buf[b]! << 24) | (buf[b + 1]! << 16) | (buf[b + 2]! << 8) | buf[b + 3]!) >>> 0;
  }
}
/** Stores 4 words (as {@link loadV6} lays them out) as 16 big-endian bytes. */
export function storeV6(words: Uint32Array, at: number, buf: Uint8Array, off: number): void {
  for (let i = 0; i < 4; i++) {
    const v = words[at + i]!;
    const b = off + 12 - 4 * i;
    buf[b] = v >>> 24;
    buf[b + 1] = (v >>> 16) & 255;
    buf[b + 2] = (v >>> 8) & 255;
    buf[b + 3] = v & 255;
  }
}
/** Loads a 6-byte MAC into 2 words (word 0 = low 32 bits). */
export function loadMac(words: Uint32Array, at: number, buf: Uint8Array, off: number): void {
  words[at] = ((buf[off + 2]! << 24) | (buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!) >>> 0;
  words[at + 1] = (buf[off]! << 8) | buf[off + 1]!;
}
export function storeMac(words: Uint32Array, at: number, buf: Uint8Array, off: number): void {
  putMac(buf, off, words[at]!, words[at + 1]!);
}

/** Writes a MAC held as two words (`lo` its last four bytes, `hi` its first two; signed or not) into `buf` at `off`. */
export function putMac(buf: Uint8Array, off: number, lo: number, hi: number): void {
  buf[off] = (hi >>> 8) & 255;
  buf[off + 1] = hi & 255;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = (lo >>> 16) & 255;
  buf[off + 4] = (lo >>> 8) & 255;
  buf[off + 5] = lo & 255;
}

/** The packet-header words (everything a frame holds), cleared before a load. */
const HEADER_FIRST = W.ETH_SRC;
const HEADER_LAST = W.ARP_OP;

/**
 * Fills the header words of `words` from a decoded frame (logical fields and ct fields are left alone). `zeroed`:
 * the caller has just cleared them (a builtin fill costs as much as a dozen of the loads below).
 */
export function loadFrame(frame: Uint8Array, d: DecodedFrame, words: Uint32Array, zeroed = false): void {
  if (!zeroed) words.fill(0, HEADER_FIRST, HEADER_LAST + 1);
  loadMac(words, W.ETH_DST, frame, 0);
  loadMac(words, W.ETH_SRC, frame, 6);
  words[W.ETH_TYPE] = d.etherType;
  // OVS keeps the 802.1Q CFI bit (bit 12) set in vlan_tci for a tagged frame: OVN's vlan.present reads it.
  words[W.VLAN_TCI] = d.vlanCount > 0 ? (d.vlanTci[0]! | 0x1000) : 0;
  if (d.l3 === L3.ARP) {
    const o = d.l3Offset;
    words[W.ARP_OP] = d.arpOp;
    words[W.IPV4_SRC] = d.arpSpa;
    words[W.IPV4_DST] = d.arpTpa;
    loadMac(words, W.ARP_SHA, frame, o + 8);
    loadMac(words, W.ARP_THA, frame, o + 18);
    return;
  }
  if (d.l3 !== L3.IPV4 && d.l3 !== L3.IPV6) return;
  const o = d.l3Offset;
  words[W.IP_PROTO] = d.ipProto;
  words[W.IP_TTL] = d.ipTtl;
  words[W.IP_DSCP] = d.ipTos >>> 2;
  words[W.IP_ECN] = d.ipTos & 3;
  words[W.IP_FRAG] = d.ipFragment ? (d.ipFragmentOffset !== 0 ? 3 : 1) : 0;
  if (d.l3 === L3.IPV4) {
    words[W.IPV4_SRC] = d.ipSrc;
    words[W.IPV4_DST] = d.ipDst;
  } else {
    loadV6(words, W.IPV6_SRC, frame, o + 8);
    loadV6(words, W.IPV6_DST, frame, o + 24);
    words[W.IPV6_LABEL] = ((frame[o + 1]! & 15) << 16) | read16(frame, o + 2);
  }
  if (d.l4Offset < 0) return;
  if (d.ipProto === 6 || d.ipProto === 17 || d.ipProto === 132) {
    words[W.TP_SRC] = d.srcPort;
    words[W.TP_DST] = d.dstPort;
    if (d.ipProto === 6) words[W.TCP_FLAGS] = d.tcpFlags;
  } else if (d.ipProto === 1 || d.ipProto === 58) {
    words[W.TP_SRC] = d.icmpType;
    words[W.TP_DST] = d.icmpCode;
    if (d.ipProto === 58 && (d.icmpType === 135 || d.icmpType === 136) && d.l4Length >= 24) {
      const l4 = d.l4Offset;
      loadV6(words, W.ND_TARGET, frame, l4 + 8);
      // ND options: source (1, NS) / target (2, NA) link-layer address.
      for (let at = l4 + 24; at + 8 <= l4 + d.l4Length;) {
        const len = frame[at + 1]! * 8;
        if (len === 0) break;
        if (frame[at] === 1 && d.icmpType === 135) loadMac(words, W.ARP_SHA, frame, at + 2);
        if (frame[at] === 2 && d.icmpType === 136) loadMac(words, W.ARP_THA, frame, at + 2);
        at += len;
      }
    }
  }
}

/**
 * Writes header words that differ from `shadow` into the frame (in place, checksums kept) and copies each word
 * written to `shadow`, which so stays an image of the frame's headers (as {@link loadFrame} would read them). The
 * IP header's writable words go in as OVS's set_field / dec_ttl commit them (lib/packets.c packet_set_ipv4 and
 * packet_set_ipv6): TTL / hop limit, DSCP and ECN, IPv6's flow label, the IPv4 header checksum updated. Words no
 * frame field holds here, or that no action writes into one (flags, VLAN, an ICMP type, the ND words), are neither
 * written nor copied. Frames whose kind changed (an NS turned into an NA) are not handled here: see
 * {@link frameFromFlow}. Returns whether it wrote a byte after the Ethernet addresses (an address, a port, a
 * checksum, ARP's fields: what conntrack reads), for the executor's frame generation (WordsConntrackEngine.executeWords' `gen`).
 */
export function storeFrame(frame: Uint8Array, d: DecodedFrame, words: Uint32Array, shadow: Uint32Array, scratch: Uint8Array): boolean {
  let wrote = false;
  storeEth(frame, words, shadow);
  const l3 = d.l3;
  if (l3 === L3.IPV4) {
    if (words[W.IPV4_SRC] !== shadow[W.IPV4_SRC]) {
      rewriteIpv4Address(frame, d, 12, words[W.IPV4_SRC]!);
      shadow[W.IPV4_SRC] = words[W.IPV4_SRC]!;
      wrote = true;
    }
    if (words[W.IPV4_DST] !== shadow[W.IPV4_DST]) {
      rewriteIpv4Address(frame, d, 16, words[W.IPV4_DST]!);
      shadow[W.IPV4_DST] = words[W.IPV4_DST]!;
      wrote = true;
    }
    if (words[W.IP_TTL] !== shadow[W.IP_TTL] || words[W.IP_DSCP] !== shadow[W.IP_DSCP] || words[W.IP_ECN] !== shadow[W.IP_ECN]) {
      storeTtlTos(frame, d, words, shadow);
      wrote = true;
    }
  } else if (l3 === L3.ARP) {
    const o = d.l3Offset;
    if (words[W.ARP_OP] !== shadow[W.ARP_OP]) write16(frame, o + 6, words[W.ARP_OP]!);
    storeMac(words, W.ARP_SHA, frame, o + 8);
    storeMac(words, W.ARP_THA, frame, o + 18);
    // The sender's and target's IPv4 addresses (two stores written out: a literal list of pairs here was two
    // arrays allocated per ARP frame).
    putIpv4(frame, o + 14, words[W.IPV4_SRC]!);
    putIpv4(frame, o + 24, words[W.IPV4_DST]!);
    for (const w of ARP_WORDS) shadow[w] = words[w]!;
    wrote = true;
  } else if (l3 === L3.IPV6) {
    for (const [w, off] of V6_FIELDS) {
      if (words[w] !== shadow[w] || words[w + 1] !== shadow[w + 1] || words[w + 2] !== shadow[w + 2] || words[w + 3] !== shadow[w + 3]) {
        storeV6(words, w, scratch, 0);
        rewriteIpv6Address(frame, d, off as 8 | 24, scratch, 0);
        for (let i = 0; i < 4; i++) shadow[w + i] = words[w + i]!;
        wrote = true;
      }
    }
    if (words[W.IP_TTL] !== shadow[W.IP_TTL] || words[W.IP_DSCP] !== shadow[W.IP_DSCP] || words[W.IP_ECN] !== shadow[W.IP_ECN]) {
      storeTtlTos(frame, d, words, shadow);
      wrote = true;
    }
    if (words[W.IPV6_LABEL] !== shadow[W.IPV6_LABEL]) {
      rewriteIpv6FlowLabel(frame, d, words[W.IPV6_LABEL]!);
      shadow[W.IPV6_LABEL] = words[W.IPV6_LABEL]!;
      wrote = true;
    }
  }
  if (d.l4Offset >= 0 && (d.ipProto === 6 || d.ipProto === 17)) {
    if (words[W.TP_SRC] !== shadow[W.TP_SRC]) {
      rewritePort(frame, d, 0, words[W.TP_SRC]!);
      shadow[W.TP_SRC] = words[W.TP_SRC]!;
      wrote = true;
    }
    if (words[W.TP_DST] !== shadow[W.TP_DST]) {
      rewritePort(frame, d, 2, words[W.TP_DST]!);
      shadow[W.TP_DST] = words[W.TP_DST]!;
      wrote = true;
    }
  }
  return wrote;
}

/**
 * {@link storeFrame}'s first part: the Ethernet addresses that differ from `shadow` into the frame and the shadow
 * (no checksum covers them). Alone, it is storeFrame for words whose other header words are the shadow's, but for
 * an ARP frame (storeFrame writes its fields whatever changed).
 */
export const storeEth = (frame: Uint8Array, words: Uint32Array, shadow: Uint32Array): void => {
  // Put straight into the frame (the bytes storeMac into a scratch, then rewriteMac's copy, wrote).
  const dLo = words[W.ETH_DST]!;
  const dHi = words[W.ETH_DST + 1]!;
  if (dLo !== shadow[W.ETH_DST] || dHi !== shadow[W.ETH_DST + 1]) {
    putMac(frame, 0, dLo, dHi);
    shadow[W.ETH_DST] = dLo;
    shadow[W.ETH_DST + 1] = dHi;
  }
  const sLo = words[W.ETH_SRC]!;
  const sHi = words[W.ETH_SRC + 1]!;
  if (sLo !== shadow[W.ETH_SRC] || sHi !== shadow[W.ETH_SRC + 1]) {
    putMac(frame, 6, sLo, sHi);
    shadow[W.ETH_SRC] = sLo;
    shadow[W.ETH_SRC + 1] = sHi;
  }
};
/**
 * The TTL (hop limit) and TOS (traffic class: DSCP, ECN) from the words into the frame (wire's rewriteIpTtlTos, the
 * IPv4 header checksum adjusted), and into the shadow. Apart from storeFrame's body: the default scenario's flows
 * write none of these words.
 */
const storeTtlTos = (frame: Uint8Array, d: DecodedFrame, words: Uint32Array, shadow: Uint32Array): void => {
  rewriteIpTtlTos(frame, d, words[W.IP_TTL]!, ((words[W.IP_DSCP]! & 63) << 2) | (words[W.IP_ECN]! & 3));
  shadow[W.IP_TTL] = words[W.IP_TTL]!;
  shadow[W.IP_DSCP] = words[W.IP_DSCP]!;
  shadow[W.IP_ECN] = words[W.IP_ECN]!;
};

const putIpv4 = (frame: Uint8Array, at: number, v: number): void => {
  frame[at] = v >>> 24;
  frame[at + 1] = (v >>> 16) & 255;
  frame[at + 2] = (v >>> 8) & 255;
  frame[at + 3] = v & 255;
};

/** The header words an ARP frame's store writes whatever changed. */
const ARP_WORDS = [W.ARP_OP, W.ARP_SHA, W.ARP_SHA + 1, W.ARP_THA, W.ARP_THA + 1, W.IPV4_SRC, W.IPV4_DST];

function macText(words: Uint32Array, at: number): string {
  const b = new Uint8Array(6);
  storeMac(words, at, b, 0);
  return formatMac(b, 0);
}
function v6Text(words: Uint32Array, at: number): string {
  return formatIPv6(v6Bytes(words, at), 0);
}
/**
 * An IPv6 field as ovn-trace's first line prints it: OVS's flow_format goes through ipv6_format_addr, i.e. glibc's
 * inet_ntop (OVS v3.1.0 lib/packets.c), so `::10.0.0.1` and `::ffff:10.0.0.2` where RFC 5952 has `::a00:1`.
 */
function v6FlowText(words: Uint32Array, at: number): string {
  return formatIPv6Ntop(v6Bytes(words, at), 0);
}
function v6Bytes(words: Uint32Array, at: number): Uint8Array {
  const b = new Uint8Array(16);
  storeV6(words, at, b, 0);
  return b;
}

/** Builds a frame holding what the header words say (microflows; replies whose kind changed). */
export function frameFromFlow(words: Uint32Array): Uint8Array {
  const type = words[W.ETH_TYPE]!;
  const tci = words[W.VLAN_TCI]!;
  const spec: FrameSpec = { dst: macText(words, W.ETH_DST), src: macText(words, W.ETH_SRC), ...(tci & 0x1000 ? { vlans: [{ tpid: 0x8100, pcp: tci >>> 13, dei: 0, vid: tci & 0xfff }] } : {}) };
  const proto = words[W.IP_PROTO]!;
  const tos = (words[W.IP_DSCP]! << 2) | words[W.IP_ECN]!;
  if (type === 0x806) {
    spec.arp = { op: words[W.ARP_OP]!, senderMac: macText(words, W.ARP_SHA), senderIp: formatIPv4(words[W.IPV4_SRC]!), targetMac: macText(words, W.ARP_THA), targetIp: formatIPv4(words[W.IPV4_DST]!) };
  } else if (type === 0x800) {
    spec.ipv4 = { src: formatIPv4(words[W.IPV4_SRC]!), dst: formatIPv4(words[W.IPV4_DST]!), ttl: words[W.IP_TTL]!, tos, protocol: proto };
  } else if (type === 0x86dd) {
    spec.ipv6 = { src: v6Text(words, W.IPV6_SRC), dst: v6Text(words, W.IPV6_DST), hopLimit: words[W.IP_TTL]!, trafficClass: tos, flowLabel: words[W.IPV6_LABEL]!, protocol: proto };
  } else {
    spec.ethertype = type;
  }
  if (type === 0x800 || type === 0x86dd) {
    if (proto === 6) spec.tcp = { srcPort: words[W.TP_SRC]!, dstPort: words[W.TP_DST]!, flags: words[W.TCP_FLAGS]! };
    else if (proto === 17) spec.udp = { srcPort: words[W.TP_SRC]!, dstPort: words[W.TP_DST]! };
    else if (proto === 58 && (words[W.TP_SRC] === 135 || words[W.TP_SRC] === 136)) {
      const ns = words[W.TP_SRC] === 135;
      const ll = ns ? W.ARP_SHA : W.ARP_THA;
      const hasLl = words[ll] !== 0 || words[ll + 1] !== 0;
      const mac = new Uint8Array(6);
      storeMac(words, ll, mac, 0);
      spec.ndp = { type: ns ? 135 : 136, router: false, solicited: !ns, override: !ns, target: v6Text(words, W.ND_TARGET), options: hasLl ? [{ type: ns ? 1 : 2, data: mac }] : [] } as unknown as FrameSpec['ndp'];
    } else if (proto === 1 || proto === 58) {
      spec.icmp = { type: words[W.TP_SRC]!, code: words[W.TP_DST]!, body: new Uint8Array(4) } as unknown as FrameSpec['icmp'];
    }
  }
  return buildFrame(spec);
}

/** Decodes `frame` into a fresh {@link DecodedFrame} (not for the hot path). */
export function decodeOnce(frame: Uint8Array): DecodedFrame {
  const d = new DecodedFrame();
  new FrameDecoder().decode(frame, d);
  return d;
}

const CT_NAMES = ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'];
/** `ct_state` bits as OVS prints them (`new|trk`). */
export function formatCtState(state: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) if (state & (1 << i)) parts.push(CT_NAMES[i]!);
  return parts.join('|');
}

const hex = (v: number, digits = 0): string => `0x${v.toString(16).padStart(digits, '0')}`;

/**
 * A flow printed as OVS's `flow_format` prints it (ovs lib/flow.c via match_format), as ovn-trace shows the
 * microflow on its first line: protocol name, registers, VLAN, Ethernet, then the L3/L4 fields of the protocol.
 * ct fields are printed when set (the final packet of a trace carries them).
 */
export function formatFlow(words: Uint32Array, options: { ct?: boolean; regs?: 'all' | 'ports' } = {}): string {
  const withCt = options.ct ?? true;
  const regsShown = options.regs ?? 'all';
  const parts: string[] = [];
  const type = words[W.ETH_TYPE]!;
  const proto = words[W.IP_PROTO]!;
  const v6 = type === 0x86dd;
  let name = '';
  if (type === 0x800) name = proto === 6 ? 'tcp' : proto === 17 ? 'udp' : proto === 1 ? 'icmp' : proto === 132 ? 'sctp' : 'ip';
  else if (v6) name = proto === 6 ? 'tcp6' : proto === 17 ? 'udp6' : proto === 58 ? 'icmp6' : proto === 132 ? 'sctp6' : 'ipv6';
  else if (type === 0x806) name = 'arp';
  else if (type === 0x8035) name = 'rarp';
  if (name) parts.push(name);
  const ct = withCt ? words[W.CT_STATE]! : 0;
  if (ct) parts.push(`ct_state=${formatCtState(ct)}`);
  if (withCt && words[W.CT_MARK]) parts.push(`ct_mark=${hex(words[W.CT_MARK]!)}`);
  if (withCt && (words[W.CT_LABEL] || words[W.CT_LABEL + 1] || words[W.CT_LABEL + 2] || words[W.CT_LABEL + 3])) {
    const big = (BigInt(words[W.CT_LABEL + 3]!) << 96n) | (BigInt(words[W.CT_LABEL + 2]!) << 64n) | (BigInt(words[W.CT_LABEL + 1]!) << 32n) | BigInt(words[W.CT_LABEL]!);
    parts.push(`ct_label=0x${big.toString(16)}`);
  }
  for (let r = regsShown === 'all' ? 0 : 14; r < 16; r++) {
    const v = r < 10 ? words[regWord(r)]! : r === 10 ? words[W.FLAGS]! : r === 11 ? words[W.DNAT_ZONE]! : r === 12 ? words[W.SNAT_ZONE]! : r === 13 ? words[W.CT_ZONE]! : r === 14 ? words[W.INPORT]! : words[W.OUTPORT]!;
    if (v) parts.push(`reg${r}=${hex(v)}`);
  }
  const tci = words[W.VLAN_TCI]!;
  if (tci & 0x1000) parts.push(`dl_vlan=${tci & 0xfff}`, `dl_vlan_pcp=${tci >>> 13}`, 'vlan_tci1=0x0000');
  else parts.push(`vlan_tci=${hex(tci, 4)}`);
  parts.push(`dl_src=${macText(words, W.ETH_SRC)}`, `dl_dst=${macText(words, W.ETH_DST)}`);
  if (!name) parts.push(`dl_type=${hex(type, 4)}`);
  if (type === 0x806 || type === 0x8035) {
    parts.push(`arp_spa=${formatIPv4(words[W.IPV4_SRC]!)}`, `arp_tpa=${formatIPv4(words[W.IPV4_DST]!)}`, `arp_op=${words[W.ARP_OP]}`, `arp_sha=${macText(words, W.ARP_SHA)}`, `arp_tha=${macText(words, W.ARP_THA)}`);
  } else if (type === 0x800 || v6) {
    if (v6) parts.push(`ipv6_src=${v6FlowText(words, W.IPV6_SRC)}`, `ipv6_dst=${v6FlowText(words, W.IPV6_DST)}`, `ipv6_label=${hex(words[W.IPV6_LABEL]!, 5)}`);
    else parts.push(`nw_src=${formatIPv4(words[W.IPV4_SRC]!)}`, `nw_dst=${formatIPv4(words[W.IPV4_DST]!)}`);
    if (!name.startsWith('ip')) void 0;
    if (name === 'ip' || name === 'ipv6') parts.push(`nw_proto=${proto}`);
    const frag = words[W.IP_FRAG]!;
    parts.push(`nw_tos=${words[W.IP_DSCP]! << 2}`, `nw_ecn=${words[W.IP_ECN]}`, `nw_ttl=${words[W.IP_TTL]}`, `nw_frag=${frag === 0 ? 'no' : frag === 1 ? 'first' : 'later'}`);
    if (proto === 1 || proto === 58) {
      parts.push(`icmp_type=${words[W.TP_SRC]}`, `icmp_code=${words[W.TP_DST]}`);
      if (proto === 58 && (words[W.TP_SRC] === 135 || words[W.TP_SRC] === 136)) {
        parts.push(`nd_target=${v6FlowText(words, W.ND_TARGET)}`, `nd_sll=${macText(words, W.ARP_SHA)}`, `nd_tll=${macText(words, W.ARP_THA)}`);
      }
    } else if (proto === 6 || proto === 17 || proto === 132) {
      parts.push(`tp_src=${words[W.TP_SRC]}`, `tp_dst=${words[W.TP_DST]}`);
      if (proto === 6) parts.push(`tcp_flags=${formatTcpFlags(words[W.TCP_FLAGS]!)}`);
    }
  }
  return parts.join(',');
}

function formatTcpFlags(f: number): string {
  if (f === 0) return '0';
  const names = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns'];
  const out: string[] = [];
  for (let i = 0; i < 9; i++) if (f & (1 << i)) out.push(names[i]!);
  return out.join('|');
}

/** Reads a ≤32-bit field value (for traces). */
export const fieldValue = (words: Uint32Array, word: number, lo: number, width: number): number => readBits(words, word, lo, width);

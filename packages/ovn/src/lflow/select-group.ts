/**
 * The bucket Open vSwitch 3.1's userspace datapath picks in the select group ovn-controller installs for
 * `ct_lb_mark(backends=…)` — so a simulated new connection reaches the same backend as on a real node.
 *
 * The group (ovn lib/actions.c branch-23.03, encode_ct_lb): `type=select,selection_method=dp_hash`, or
 * `selection_method=hash,fields(<hash_fields>)` when the action names `hash_fields`; one bucket per backend in
 * the order of the action text, `bucket_id` 0..n-1, each `weight:100`.
 *
 * dp_hash (OVS v3.1.0): ofproto-dpif.c group_set_selection_method takes hash algorithm OVS_HASH_ALG_L4 and basis 0
 * from the unset selection_method_param; group_setup_dp_hash_table spreads max(16, 2^⌈log2 n⌉) hash values over
 * the buckets with the Webster method, which for equal weights is slot i → bucket i mod n. ofproto-dpif-xlate.c
 * pick_dp_hash_select_group first emits `hash(l4(0))` + recirculation, then picks `hash_map[dp_hash & mask]`.
 * The userspace datapath's `hash` action (lib/odp-execute.c, OVS_ACTION_ATTR_HASH, OVS_HASH_ALG_L4) is
 * `hash_int(rss_hash, basis)` while the packet carries a valid RSS hash — and in dpif-netdev it always does: the
 * first classification stores `miniflow_hash_5tuple(mf, 0)` of the packet as received
 * (dpif_netdev_packet_get_rss_hash_orig_pkt). dpif_netdev_packet_get_rss_hash mixes the recirculation depth only
 * into the value it returns for the exact-match cache, never into the stored hash, so the ct() recirculations
 * before ls_in_lb do not change the choice. conntrack's NAT does not invalidate the stored hash either: it is the
 * 5-tuple the packet had when it entered the datapath.
 *
 * hash (ofproto-dpif-xlate.c pick_hash_fields_select_group): basis = hash_uint64(0); for each named field in
 * OVS field-id order whose prerequisites hold, basis = hash_bytes(value, n_bytes, basis); then
 * group_best_live_bucket: the bucket with the highest `(hash_int(bucket_id, basis) & 0xffff) * weight`, the last
 * one on ties.
 *
 * Hash primitives: lib/hash.h without SSE4.2 (Debian builds for baseline x86-64): hash_add = mhash_add
 * (murmur3 step), hash_finish = mhash_finish(hash ^ final), hash_int(x, b) = hash_2words(x, b). Values enter
 * the hash as the little-endian reading of their network-order bytes.
 * @module
 */
import { VippathError } from '@vippath/wire';

/** A `hash_fields` text this model (and OVS) does not know. */
export class SelectGroupError extends VippathError {
  constructor(message: string) {
    super('SELECT_GROUP_FIELDS', message);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** lib/hash.h mhash_add (= hash_add without SSE4.2). */
export function hashAdd(hash: number, data: number): number {
  if (data !== 0) {
    let d = Math.imul(data, 0xcc9e2d51);
    d = rotl(d, 15);
    d = Math.imul(d, 0x1b873593);
    hash ^= d;
  }
  hash = rotl(hash >>> 0, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

/** lib/hash.h hash_finish = mhash_finish(hash ^ final). */
export function hashFinish(hash: number, final: number): number {
  let h = (hash ^ final) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** lib/hash.h hash_int(x, basis) = hash_2words(x, basis). */
export function hashInt(x: number, basis: number): number {
  return hashFinish(hashAdd(hashAdd(x >>> 0, 0), basis >>> 0), 8);
}

/** Little-endian reading of the network-order bytes of a 32-bit value. */
function le32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Little-endian reading of a 16-bit network-order value (padded with zero bytes). */
function le16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_SCTP = 132;

/**
 * lib/flow.c flow_hash_5tuple / miniflow_hash_5tuple with basis 0: the datapath's RSS hash of an IP packet.
 * `addr[srcAt…]`/`addr[dstAt…]` hold the addresses as numbers (one word for IPv4, four big-endian words for
 * IPv6); `sport`/`dport` the transport ports (ICMP type and code, 0 for a later fragment).
 */
export function rssHash(v6: boolean, addr: ArrayLike<number>, srcAt: number, dstAt: number, proto: number, sport: number, dport: number): number {
  let h = 0;
  if (v6) {
    for (let i = 0; i < 4; i++) h = hashAdd(h, le32(addr[srcAt + i]!));
    for (let i = 0; i < 4; i++) h = hashAdd(h, le32(addr[dstAt + i]!));
  } else {
    h = hashAdd(h, le32(addr[srcAt]!));
    h = hashAdd(h, le32(addr[dstAt]!));
  }
  h = hashAdd(h, proto);
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    h = hashAdd(h, (le16(sport) | (le16(dport) << 16)) >>> 0);
  }
  return hashFinish(h, 42);
}

/** Hash values of a dp_hash group of `n` equal-weight buckets (group_setup_dp_hash_table). */
function hashSlots(n: number): number {
  let s = 16;
  while (s < n) s *= 2;
  return s;
}

/**
 * Bucket (0..n-1) of a `selection_method=dp_hash` group of `n` equal-weight buckets for a packet whose RSS hash
 * is `rss` ({@link rssHash}). OVS treats dp_hash 0 as "not computed"; a 5-tuple hashing to exactly 0 is not
 * modelled (1 in 2^32).
 */
export function dpHashBucket(rss: number, n: number): number {
  const dpHash = hashInt(rss, 0);
  return (dpHash & (hashSlots(n) - 1)) % n;
}

/** Field bits of a compiled `hash_fields`, in OVS field-id order (meta-flow.h enum mf_field_id). */
const F = {
  IPV4_SRC: 1 << 0,
  IPV4_DST: 1 << 1,
  IPV6_SRC: 1 << 2,
  IPV6_DST: 1 << 3,
  IP_PROTO: 1 << 4,
  TCP_SRC: 1 << 5,
  TCP_DST: 1 << 6,
  UDP_SRC: 1 << 7,
  UDP_DST: 1 << 8,
  SCTP_SRC: 1 << 9,
  SCTP_DST: 1 << 10,
  ICMPV4_TYPE: 1 << 11,
  ICMPV4_CODE: 1 << 12,
  ICMPV6_TYPE: 1 << 13,
  ICMPV6_CODE: 1 << 14,
} as const;

/** OVS field names and aliases (meta-flow.h) accepted in `fields(…)`. */
const FIELD_NAMES: Record<string, number> = {
  ip_src: F.IPV4_SRC,
  nw_src: F.IPV4_SRC,
  ip_dst: F.IPV4_DST,
  nw_dst: F.IPV4_DST,
  ipv6_src: F.IPV6_SRC,
  ipv6_dst: F.IPV6_DST,
  nw_proto: F.IP_PROTO,
  ip_proto: F.IP_PROTO,
  tcp_src: F.TCP_SRC,
  tp_src: F.TCP_SRC,
  tcp_dst: F.TCP_DST,
  tp_dst: F.TCP_DST,
  udp_src: F.UDP_SRC,
  udp_dst: F.UDP_DST,
  sctp_src: F.SCTP_SRC,
  sctp_dst: F.SCTP_DST,
  icmp_type: F.ICMPV4_TYPE,
  icmp_code: F.ICMPV4_CODE,
  icmpv6_type: F.ICMPV6_TYPE,
  icmpv6_code: F.ICMPV6_CODE,
};

/**
 * Compiles a `hash_fields` text (comma-separated OVS field names, e.g. `ip_src,ip_dst,tcp_src,tcp_dst`) once;
 * the result feeds {@link hashFieldsBucket}. Throws {@link SelectGroupError} for a field it does not know.
 */
export function compileHashFields(text: string): number {
  let bits = 0;
  for (const raw of text.split(',')) {
    const name = raw.trim();
    const bit = FIELD_NAMES[name];
    if (bit === undefined) throw new SelectGroupError(`hash_fields "${text}": unknown or unsupported field "${name}"`);
    bits |= bit;
  }
  if (bits === 0) throw new SelectGroupError(`hash_fields "${text}" names no field`);
  return bits;
}

/** hash_uint64(0): the basis of a hash group without selection_method_param. */
const HASH_BASIS = hashFinish(hashAdd(hashAdd(0, 0), 0), 8);

/** hash_bytes of a 32-bit network-order value. */
function hb32(v: number, basis: number): number {
  return hashFinish(hashAdd(basis, le32(v)), 4);
}

/** hash_bytes of a 16-bit network-order value. */
function hb16(v: number, basis: number): number {
  return hashFinish(hashAdd(basis, le16(v)), 2);
}

/** hash_bytes of an 8-bit value. */
function hb8(v: number, basis: number): number {
  return hashFinish(hashAdd(basis, v & 0xff), 1);
}

/** hash_bytes of a 128-bit address given as four big-endian words. */
function hb128(addr: ArrayLike<number>, at: number, basis: number): number {
  let h = basis;
  for (let i = 0; i < 4; i++) h = hashAdd(h, le32(addr[at + i]!));
  return hashFinish(h, 16);
}

/**
 * Bucket (0..n-1) of a `selection_method=hash,fields(…)` group of `n` equal-weight buckets. `fields` from
 * {@link compileHashFields}; the packet as for {@link rssHash}. Fields whose prerequisites the packet does not
 * meet (ip_src of an IPv6 packet, tcp_src of a UDP one) are skipped, as OVS skips them.
 */
export function hashFieldsBucket(fields: number, v6: boolean, addr: ArrayLike<number>, srcAt: number, dstAt: number, proto: number, sport: number, dport: number, n: number): number {
  let b = HASH_BASIS;
  if (!v6 && fields & F.IPV4_SRC) b = hb32(addr[srcAt]!, b);
  if (!v6 && fields & F.IPV4_DST) b = hb32(addr[dstAt]!, b);
  if (v6 && fields & F.IPV6_SRC) b = hb128(addr, srcAt, b);
  if (v6 && fields & F.IPV6_DST) b = hb128(addr, dstAt, b);
  if (fields & F.IP_PROTO) b = hb8(proto, b);
  if (proto === IPPROTO_TCP) {
    if (fields & F.TCP_SRC) b = hb16(sport, b);
    if (fields & F.TCP_DST) b = hb16(dport, b);
  } else if (proto === IPPROTO_UDP) {
    if (fields & F.UDP_SRC) b = hb16(sport, b);
    if (fields & F.UDP_DST) b = hb16(dport, b);
  } else if (proto === IPPROTO_SCTP) {
    if (fields & F.SCTP_SRC) b = hb16(sport, b);
    if (fields & F.SCTP_DST) b = hb16(dport, b);
  } else if (proto === IPPROTO_ICMP && !v6) {
    if (fields & F.ICMPV4_TYPE) b = hb8(sport, b);
    if (fields & F.ICMPV4_CODE) b = hb8(dport, b);
  } else if (proto === IPPROTO_ICMPV6 && v6) {
    if (fields & F.ICMPV6_TYPE) b = hb8(sport, b);
    if (fields & F.ICMPV6_CODE) b = hb8(dport, b);
  }
  let best = 0;
  let bestScore = 0;
  for (let i = 0; i < n; i++) {
    const score = (hashInt(i, b) & 0xffff) * 100;
    if (score >= bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

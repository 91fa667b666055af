/**
 * The executor's frame read-back after conntrack translated a frame in place (internal: not exported by the package).
 * @module
 */
import { L3 as L3Import, type DecodedFrame } from '@vippath/wire';
import { W as WImport } from './fields.js';
import { loadV6, storeEth } from './packet.js';

// Imports bound to module constants, which TurboFan folds (an enum object's fields become immediates): each use of
// an import loads its cell and checks it is initialised, and for an object its map, then the field — and an index
// so loaded is a variable one, bounds-checked (`W.X + 1` with an overflow check): loadIpv4Fresh's 52 named stores
// cost ≈ 200 instructions a call more than the literal indices they replaced (bench/README "A SYN's walk through
// the executor (session 34)").
const W = WImport;
const L3 = L3Import;

/** The packet-header words (as packet.ts's loadFrame fills them). */
const HEADER_FIRST = W.ETH_SRC;
const HEADER_LAST = W.ARP_OP;

/**
 * The executor's shadow — the frame's image in the header words, which storeFrame compares the words with before a
 * ct call — one array for every executor (lflow/executor.ts's `shadow`). A module constant: TurboFan takes its
 * address and length as known, so {@link loadIpv4Fresh}'s and {@link reloadTranslated}'s stores into it carry no
 * bounds check (≈ 2 instructions a word; into an array handed in every store keeps its check, bench/README "A SYN's
 * frame sync before its ct call … (session 41)"). One array serves all: a walk runs to its end before any other
 * starts (no executor is called from inside another's walk: its calls go to conntrack, which calls none), and every
 * walk writes the header words before it reads them — a frame's (runFrame: loadIpv4Fresh, or the header copy after
 * loadFrame), a microflow's (`shadow.set(w)`), a replay taken again (connAgain's header copy), a nested packet's
 * (saved and put back around it) — so no walk reads what another executor's walk left there.
 */
const SHADOW = new Uint32Array(W.SIZE);
const SHADOW64 = new Float64Array(SHADOW.buffer, 0, W.SIZE / 2);
// Exported under another name: the module's own uses read the local binding, which TurboFan folds; an exported
// binding is a cell, loaded and checked for its initialisation at each use.
export const FRAME_SHADOW = SHADOW;

/**
 * Every executor's first pool slot, where a walk's frame is loaded (executor.ts `pool[0]`), and its double view. A
 * module constant for the reason {@link SHADOW} is one: {@link loadIpv4Fresh}'s 42 stores and {@link hideCtFirst}'s
 * 11 into an array handed in each kept its bounds check (`cmp len, idx; jna`, ≈ 2 instructions a store). Shared as
 * the shadow is, and for the same reasons: a walk runs to its end before any other starts, and every walk writes
 * the slot whole before it reads it — a frame's (loadIpv4Fresh, or `fill(0)` then loadFrame), a microflow's
 * (`set`), a replayed connection's walk taken again (`fill(0)` then its key). Nothing reads the slot after its walk:
 * an output's words are copied into the output's own array.
 */
const FIRST = new Uint32Array(W.SIZE);
const FIRST64 = new Float64Array(FIRST.buffer, 0, W.SIZE / 2);
export const FIRST_WORDS = FIRST;

/**
 * packet.ts's `storeEth` on the shadow ({@link FRAME_SHADOW}, the executor's): the Ethernet addresses that differ from
 * it written into the frame and the shadow. The shadow a constant here (storeEth inlined): its four loads and up to
 * four stores carry no bounds check (executor.ts syncFrame, a ct fork's sync of a SYN's `eth.dst`).
 */
export function storeEthShadow(frame: Uint8Array, words: Uint32Array): void {
  storeEth(frame, words, SHADOW);
}

/**
 * After conntrack translated the frame in place (NAT: addresses, ports, an ICMP error's inner header; never a
 * length or an offset): reads back into the shadow ({@link FRAME_SHADOW}), `d` and `words` the header fields NAT can
 * change, as a fresh decode and packet.ts's `loadFrame` would. The shadow must be the frame's image (packet.ts's
 * `storeFrame` keeps it so); `d` stays valid, so the frame is not decoded again. Only these words are written: the call was made on
 * words synced into the frame (storeFrame writes every IP header word an action can assign), so every other header
 * word of `words` already is what the frame holds — or a write OVS would have committed to the packet too and that
 * vippath's frame does not carry (a VLAN TCI, the ND words), which a full copy from `shadow` would undo. `kept`: the
 * call was a words engine's, whose NAT keeps `d`'s addresses and ports (WordsConntrackEngine): an IPv4 frame's are
 * read from `d` then, the same values.
 */
export function reloadTranslated(frame: Uint8Array, d: DecodedFrame, words: Uint32Array, kept: boolean): void {
  const shadow = SHADOW;
  const l3 = d.l3;
  if (kept === true && l3 === L3.IPV4) {
    // A words engine's NAT (WordsConntrackEngine) keeps `d`'s IPv4 addresses and TCP and UDP ports the frame's, as
    // wire's edit functions do: four field loads where the bytes are twelve bounds-checked reads (≈ 100
    // instructions; a SYN's walks make two of these calls). ICMP's type and code are as decoded (NAT leaves them).
    // An IPv4 frame's L4 header is decoded for TCP, UDP, ICMP and protocol 58 only (wire's decodeL4): 58's by the bytes.
    const proto = d.ipProto;
    const l4 = d.l4Offset >= 0;
    if (l4 === false || proto === 6 || proto === 17 || proto === 1) {
      const src = d.ipSrc;
      const dst = d.ipDst;
      shadow[W.IPV4_SRC] = src;
      shadow[W.IPV4_DST] = dst;
      words[W.IPV4_SRC] = src;
      words[W.IPV4_DST] = dst;
      if (l4 === true) {
        const sp = proto === 1 ? d.icmpType : d.srcPort;
        const dp = proto === 1 ? d.icmpCode : d.dstPort;
        shadow[W.TP_SRC] = sp;
        shadow[W.TP_DST] = dp;
        words[W.TP_SRC] = sp;
        words[W.TP_DST] = dp;
      }
      return;
    }
  }
  // The offsets as 16-bit numbers (a header's offset is tens of bytes): TurboFan then knows `o + 19` cannot overflow
  // and drops each byte's overflow check and sign extension (≈ 3 instructions a byte, sixteen bytes a call).
  const o = d.l3Offset & 0xffff;
  if (l3 === L3.IPV4) {
    const src = ((frame[o + 12]! << 24) | (frame[o + 13]! << 16) | (frame[o + 14]! << 8) | frame[o + 15]!) >>> 0;
    const dst = ((frame[o + 16]! << 24) | (frame[o + 17]! << 16) | (frame[o + 18]! << 8) | frame[o + 19]!) >>> 0;
    d.ipSrc = src;
    d.ipDst = dst;
    shadow[W.IPV4_SRC] = src;
    shadow[W.IPV4_DST] = dst;
    words[W.IPV4_SRC] = src;
    words[W.IPV4_DST] = dst;
  } else if (l3 === L3.IPV6) {
    loadV6(shadow, W.IPV6_SRC, frame, o + 8);
    loadV6(shadow, W.IPV6_DST, frame, o + 24);
    for (let i = W.IPV6_SRC; i < W.IPV6_DST + 4; i++) words[i] = shadow[i]!;
  }
  if (d.l4Offset >= 0) {
    const l4 = d.l4Offset & 0xffff;
    const proto = d.ipProto;
    if (proto === 6 || proto === 17 || proto === 132) {
      const sp = (frame[l4]! << 8) | frame[l4 + 1]!;
      const dp = (frame[l4 + 2]! << 8) | frame[l4 + 3]!;
      d.srcPort = sp;
      d.dstPort = dp;
      shadow[W.TP_SRC] = sp;
      shadow[W.TP_DST] = dp;
      words[W.TP_SRC] = sp;
      words[W.TP_DST] = dp;
    } else if (proto === 1 || proto === 58) {
      d.icmpType = frame[l4]!;
      d.icmpCode = frame[l4 + 1]!;
      shadow[W.TP_SRC] = d.icmpType;
      shadow[W.TP_DST] = d.icmpCode;
      words[W.TP_SRC] = d.icmpType;
      words[W.TP_DST] = d.icmpCode;
    }
  }
}

/**
 * packet.ts's `loadFrame` of an IPv4 frame into the first pool slot's words ({@link FIRST_WORDS}), which hold
 * anything (the last walk's leftovers), with every other word 0 — what `words.fill(0)` then `loadFrame` leave —, and
 * the shadow's header words ({@link FRAME_SHADOW}) made the same ({@link headerView}'s copy); `false`, writing
 * nothing, for any other frame (IPv6, ARP, a non-IP EtherType, IPv4 carrying protocol 58, whose ND words loadFrame
 * reads). The words 0 for an IPv4 frame are written two at a time through the slot's double view (and the shadow's
 * through its own), a zero double being eight zero bytes. The three writes it replaces — V8's builtin fill (a C++ runtime call, ≈ 200 instructions), the
 * load, the builtin set of 34 words (≈ 150 of overhead) — cost ≈ 650 instructions a frame; the zero runs' pair
 * indices are the layout's (checked below: any move of a word fails at load).
 */
export function loadIpv4Fresh(frame: Uint8Array, d: DecodedFrame): boolean {
  if (d.l3 !== L3.IPV4) return false;
  const words = FIRST;
  const words64 = FIRST64;
  const proto = d.ipProto;
  if (proto === 58) return false;
  // Words 0..17: the ports, flags, registers, ct_state, ct_mark and three of ct_label's words; 18 its last.
  words64[0] = 0;
  words64[1] = 0;
  words64[2] = 0;
  words64[3] = 0;
  words64[4] = 0;
  words64[5] = 0;
  words64[6] = 0;
  words64[7] = 0;
  words64[8] = 0;
  words[W.CT_LABEL + 3] = 0;
  const ethSrcLo = ((frame[8]! << 24) | (frame[9]! << 16) | (frame[10]! << 8) | frame[11]!) >>> 0;
  const ethSrcHi = (frame[6]! << 8) | frame[7]!;
  const ethDstLo = ((frame[2]! << 24) | (frame[3]! << 16) | (frame[4]! << 8) | frame[5]!) >>> 0;
  const ethDstHi = (frame[0]! << 8) | frame[1]!;
  const type = d.etherType;
  const tci = d.vlanCount > 0 ? (d.vlanTci[0]! | 0x1000) : 0;
  const ttl = d.ipTtl;
  const tos = d.ipTos;
  // Compared, not tested for truth: a plain test of a field is V8's ToBoolean chain (bench/README "Booleans tested as
  // booleans (session 35)").
  const frag = d.ipFragment === true ? (d.ipFragmentOffset !== 0 ? 3 : 1) : 0;
  const src = d.ipSrc;
  const dst = d.ipDst;
  let tpSrc = 0;
  let tpDst = 0;
  let flags = 0;
  if (d.l4Offset >= 0) {
    if (proto === 6 || proto === 17 || proto === 132) {
      tpSrc = d.srcPort;
      tpDst = d.dstPort;
      if (proto === 6) flags = d.tcpFlags;
    } else if (proto === 1) {
      tpSrc = d.icmpType;
      tpDst = d.icmpCode;
    }
  }
  words[W.ETH_SRC] = ethSrcLo;
  words[W.ETH_SRC + 1] = ethSrcHi;
  words[W.ETH_DST] = ethDstLo;
  words[W.ETH_DST + 1] = ethDstHi;
  words[W.ETH_TYPE] = type;
  words[W.VLAN_TCI] = tci;
  words[W.IP_PROTO] = proto;
  words[W.IP_TTL] = ttl;
  words[W.IP_DSCP] = tos >>> 2;
  words[W.IP_ECN] = tos & 3;
  words[W.IP_FRAG] = frag;
  words[W.IPV4_SRC] = src;
  words[W.IPV4_DST] = dst;
  // Words 32..39: the IPv6 addresses; 40 the flow label.
  words64[16] = 0;
  words64[17] = 0;
  words64[18] = 0;
  words64[19] = 0;
  words[W.IPV6_LABEL] = 0;
  words[W.TP_SRC] = tpSrc;
  words[W.TP_DST] = tpDst;
  words[W.TCP_FLAGS] = flags;
  // Words 44..69: ARP's addresses, the ND target, arp.op, pkt.mark, the ct tuple words and the zones.
  words64[22] = 0;
  words64[23] = 0;
  words64[24] = 0;
  words64[25] = 0;
  words64[26] = 0;
  words64[27] = 0;
  words64[28] = 0;
  words64[29] = 0;
  words64[30] = 0;
  words64[31] = 0;
  words64[32] = 0;
  words64[33] = 0;
  words64[34] = 0;
  // The shadow's header words (19..52), the same.
  const shadow = SHADOW;
  const shadow64 = SHADOW64;
  shadow[W.ETH_SRC] = ethSrcLo;
  shadow[W.ETH_SRC + 1] = ethSrcHi;
  shadow[W.ETH_DST] = ethDstLo;
  shadow[W.ETH_DST + 1] = ethDstHi;
  shadow[W.ETH_TYPE] = type;
  shadow[W.VLAN_TCI] = tci;
  shadow[W.IP_PROTO] = proto;
  shadow[W.IP_TTL] = ttl;
  shadow[W.IP_DSCP] = tos >>> 2;
  shadow[W.IP_ECN] = tos & 3;
  shadow[W.IP_FRAG] = frag;
  shadow[W.IPV4_SRC] = src;
  shadow[W.IPV4_DST] = dst;
  shadow64[16] = 0;
  shadow64[17] = 0;
  shadow64[18] = 0;
  shadow64[19] = 0;
  shadow[W.IPV6_LABEL] = 0;
  shadow[W.TP_SRC] = tpSrc;
  shadow[W.TP_DST] = tpDst;
  shadow[W.TCP_FLAGS] = flags;
  shadow64[22] = 0;
  shadow64[23] = 0;
  shadow64[24] = 0;
  shadow64[25] = 0;
  shadow[W.ARP_OP] = 0;
  return true;
}

// loadIpv4Fresh's zero runs are written by pair index (words64[k] is words 2k and 2k + 1): the layout they were
// written for, the named words between them included.
if (
  W.SIZE !== 70 || W.INPORT !== 0 || W.CT_LABEL !== 15 || W.ETH_SRC !== 19 || W.ETH_DST !== 21 || W.ETH_TYPE !== 23 || W.VLAN_TCI !== 24 || W.IP_PROTO !== 25 ||
  W.IP_TTL !== 26 || W.IP_DSCP !== 27 || W.IP_ECN !== 28 || W.IP_FRAG !== 29 || W.IPV4_SRC !== 30 || W.IPV4_DST !== 31 || W.IPV6_SRC !== 32 || W.IPV6_LABEL !== 40 ||
  W.TP_SRC !== 41 || W.TP_DST !== 42 || W.TCP_FLAGS !== 43 || W.ARP_SHA !== 44 || W.ARP_OP !== 52 || HEADER_FIRST !== 19 || HEADER_LAST !== 52
) {
  throw new Error('frame-sync.ts: the flow words moved (loadIpv4Fresh)');
}

/** `shadow`'s header words as one view (made once per shadow), for {@link reloadTranslated}'s copy. */
export function headerView(shadow: Uint32Array): Uint32Array {
  return shadow.subarray(HEADER_FIRST, HEADER_LAST + 1);
}

/**
 * The executor's `hideCt` (a chassis' ct_commit hides the call's ct fields: ct_state, ct_mark, ct_label, the ct tuple)
 * on the first pool slot ({@link FIRST_WORDS}) through its double view as well (word pairs 2k, 2k + 1 as double k, 0.0
 * being eight zero bytes): words 14–17 and 54–65 as eight doubles, 13, 18 and 66 alone. The pairs are the layout's,
 * checked below.
 */
export function hideCtFirst(): void {
  const w = FIRST;
  const w64 = FIRST64;
  w[13] = 0;
  w64[7] = 0;
  w64[8] = 0;
  w[18] = 0;
  w64[27] = 0;
  w64[28] = 0;
  w64[29] = 0;
  w64[30] = 0;
  w64[31] = 0;
  w64[32] = 0;
  w[66] = 0;
}
if (
  W.CT_STATE !== 13 || W.CT_MARK !== 14 || W.CT_LABEL !== 15 || W.CT_NW_DST !== 54 || W.CT_IPV6_DST !== 55 || W.CT_TP_DST !== 59 || W.CT_NW_SRC !== 60 ||
  W.CT_IPV6_SRC !== 61 || W.CT_TP_SRC !== 65 || W.CT_NW_PROTO !== 66
) {
  throw new Error('frame-sync.ts: the ct words moved (hideCtFirst)');
}

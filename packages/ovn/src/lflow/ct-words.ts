/**
 * A packet's ct fields between the logical-flow executor's flow words (W.CT_STATE, W.CT_MARK, W.CT_LABEL and the
 * original tuple's W.CT_NW_*, W.CT_IPV6_*, W.CT_TP_* and W.CT_NW_PROTO words) and a {@link CtResult}: what the
 * executor hands an engine that takes a result (ConntrackEngine.execute) before its call, and writes back after it.
 * An engine with {@link WordsConntrackEngine.executeWords} reads and writes the words itself, as these do.
 * @module
 */
import type { CtResult, WordsConntrackEngine } from './ct-api.js';
import { W } from './fields.js';
import { read32, write32 } from '@vippath/wire';
import { loadV6, storeV6 } from './packet.js';

/** The packet's ct fields from the words into `res` (a call's input): state, mark, label, the original tuple. */
export function ctWordsToResult(w: Uint32Array, res: CtResult): void {
  res.state = w[W.CT_STATE]!;
  res.mark = w[W.CT_MARK]!;
  const label = res.label;
  label[0] = w[W.CT_LABEL]!;
  label[1] = w[W.CT_LABEL + 1]!;
  label[2] = w[W.CT_LABEL + 2]!;
  label[3] = w[W.CT_LABEL + 3]!;
  loadOriginal(w, res);
  res.tupleWritten = false;
  res.rewritten = false;
}

/**
 * A call's answer from `res` into the words: state, mark, label; the original tuple where the call wrote it
 * (`tupleWritten`), else only what an engine that set `hasOriginal` gave of the destination (ovn-trace's DNAT).
 */
export function ctResultToWords(res: CtResult, w: Uint32Array): void {
  const label = res.label;
  w[W.CT_STATE] = res.state;
  w[W.CT_MARK] = res.mark;
  w[W.CT_LABEL] = label[0]!;
  w[W.CT_LABEL + 1] = label[1]!;
  w[W.CT_LABEL + 2] = label[2]!;
  w[W.CT_LABEL + 3] = label[3]!;
  if (res.tupleWritten) storeOriginal(w, res);
  else if (res.hasOriginal) {
    if (res.originalIpv6) loadV6(w, W.CT_IPV6_DST, res.originalDst, 0);
    else w[W.CT_NW_DST] = read32(res.originalDst, 0);
    w[W.CT_TP_DST] = res.originalDstPort;
  }
}

/**
 * The original tuple a previous ct() left on the packet, handed to the next (OVS keeps it in the packet's metadata:
 * conntrack's check_orig_tuple finds a NATed packet's connection by it). None while ct_nw_proto is 0, which is
 * also how ovn-trace's flows (that never set it) pass nothing.
 */
function loadOriginal(w: Uint32Array, res: CtResult): void {
  const proto = w[W.CT_NW_PROTO]!;
  res.hasOriginal = proto !== 0;
  res.originalProto = proto;
  res.originalIpv6 = w[W.ETH_TYPE] === 0x86dd;
  res.originalSrcPort = w[W.CT_TP_SRC]!;
  res.originalDstPort = w[W.CT_TP_DST]!;
  // Without a tuple (hasOriginal false) no engine reads the addresses: they are left as they are.
  if (proto === 0) return;
  if (res.originalIpv6) {
    storeV6(w, W.CT_IPV6_SRC, res.originalSrc, 0);
    storeV6(w, W.CT_IPV6_DST, res.originalDst, 0);
  } else {
    // An IPv4 address is the first 4 bytes (ct-api.ts): the rest is not read.
    write32(res.originalSrc, 0, w[W.CT_NW_SRC]!);
    write32(res.originalDst, 0, w[W.CT_NW_DST]!);
  }
}

/**
 * The whole original tuple as the engine wrote it (OVS write_ct_md, read back by miniflow_extract after the
 * recirculation): every ct() replaces it, with zeros when the packet could not be tracked.
 */
function storeOriginal(w: Uint32Array, res: CtResult): void {
  // Each word written once (the common IPv4 tuple: its addresses, the IPv6 words 0): zeroing all thirteen first and
  // then writing five again was a third of this function's stores, once per conntrack call of a walk.
  const has = res.hasOriginal;
  if (has && res.originalIpv6) {
    w[W.CT_NW_SRC] = 0;
    w[W.CT_NW_DST] = 0;
    loadV6(w, W.CT_IPV6_SRC, res.originalSrc, 0);
    loadV6(w, W.CT_IPV6_DST, res.originalDst, 0);
  } else {
    w[W.CT_NW_SRC] = has ? read32(res.originalSrc, 0) : 0;
    w[W.CT_NW_DST] = has ? read32(res.originalDst, 0) : 0;
    w[W.CT_IPV6_SRC] = 0;
    w[W.CT_IPV6_SRC + 1] = 0;
    w[W.CT_IPV6_SRC + 2] = 0;
    w[W.CT_IPV6_SRC + 3] = 0;
    w[W.CT_IPV6_DST] = 0;
    w[W.CT_IPV6_DST + 1] = 0;
    w[W.CT_IPV6_DST + 2] = 0;
    w[W.CT_IPV6_DST + 3] = 0;
  }
  w[W.CT_TP_SRC] = has ? res.originalSrcPort : 0;
  w[W.CT_TP_DST] = has ? res.originalDstPort : 0;
  w[W.CT_NW_PROTO] = has ? res.originalProto : 0;
}

/**
 * The executor's frame read-back after conntrack translated a frame in place (internal: not exported by the package).
 * @module
 */
import { L3, type DecodedFrame } from '@vippath/wire';
import { W } from './fields.js';
import { loadV6 } from './packet.js';

/** The packet-header words (as packet.ts's loadFrame fills them). */
const HEADER_FIRST = W.ETH_SRC;
const HEADER_LAST = W.ARP_OP;

/**
 * After conntrack translated the frame in place (NAT: addresses, ports, an ICMP error's inner header; never a
 * length or an offset): reads back into `shadow` and `d` the header fields NAT can change, as a fresh decode and
 * packet.ts's `loadFrame` would, then copies `shadow`'s header words (`shadowHeader`, {@link headerView}) into
 * `words`. `shadow` must be the frame's image (packet.ts's `storeFrame` keeps it so); `d` stays valid, so the
 * frame is not decoded again.
 */
export function reloadTranslated(frame: Uint8Array, d: DecodedFrame, words: Uint32Array, shadow: Uint32Array, shadowHeader: Uint32Array): void {
  const o = d.l3Offset;
  if (d.l3 === L3.IPV4) {
    const src = ((frame[o + 12]! << 24) | (frame[o + 13]! << 16) | (frame[o + 14]! << 8) | frame[o + 15]!) >>> 0;
    const dst = ((frame[o + 16]! << 24) | (frame[o + 17]! << 16) | (frame[o + 18]! << 8) | frame[o + 19]!) >>> 0;
    d.ipSrc = src;
    d.ipDst = dst;
    shadow[W.IPV4_SRC] = src;
    shadow[W.IPV4_DST] = dst;
  } else if (d.l3 === L3.IPV6) {
    loadV6(shadow, W.IPV6_SRC, frame, o + 8);
    loadV6(shadow, W.IPV6_DST, frame, o + 24);
  }
  const l4 = d.l4Offset;
  if (l4 >= 0) {
    const proto = d.ipProto;
    if (proto === 6 || proto === 17 || proto === 132) {
      const sp = (frame[l4]! << 8) | frame[l4 + 1]!;
      const dp = (frame[l4 + 2]! << 8) | frame[l4 + 3]!;
      d.srcPort = sp;
      d.dstPort = dp;
      shadow[W.TP_SRC] = sp;
      shadow[W.TP_DST] = dp;
    } else if (proto === 1 || proto === 58) {
      d.icmpType = frame[l4]!;
      d.icmpCode = frame[l4 + 1]!;
      shadow[W.TP_SRC] = d.icmpType;
      shadow[W.TP_DST] = d.icmpCode;
    }
  }
  words.set(shadowHeader, HEADER_FIRST);
}

/** `shadow`'s header words as one view (made once per shadow), for {@link reloadTranslated}'s copy. */
export function headerView(shadow: Uint32Array): Uint32Array {
  return shadow.subarray(HEADER_FIRST, HEADER_LAST + 1);
}

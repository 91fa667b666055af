/**
 * The conntrack interface the logical-flow executor calls, shaped after OVS's `conntrack_execute()`
 * (lib/conntrack.h, OVS 3.1): one call per `ct()` action a logical action compiles to, with a zone, commit
 * and force bits, an optional NAT (to an address and port range, or "apply what the connection has"), and
 * mark/label writes; the answer is the packet's ct_state bits, its connection's mark and label, and — for the
 * hairpin checks ovn-controller compiles — the connection's original-direction tuple (`ct_nw_dst`, `ct_tp_dst`).
 *
 * How OVN's actions map to it (ovn lib/actions.c branch-23.03, encode_CT_NEXT / encode_CT_COMMIT_V2 /
 * encode_ct_nat / encode_ct_lb; the executor does this, engines need not know):
 * - `ct_next;`               → zone, no commit, no NAT
 * - `ct_commit { … };`       → zone, commit, mark/label writes from the braces
 * - `ct_commit_nat;`         → zone, commit, NAT APPLY
 * - `ct_dnat;` / `ct_snat;`  → zone, NAT APPLY (no commit); with an address: commit, NAT DNAT/SNAT to it
 * - `ct_lb_mark;`            → zone, NAT APPLY (no commit)
 * - `ct_lb_mark(backends=…)` → zone, commit, NAT DNAT to the chosen backend, mark bit `natted` (and
 *                               `skip_snat`/`force_snat` when the LB sets them)
 * - `ct_lb;` / `ct_lb(backends=…)` → as ct_lb_mark, the bits written into ct_label instead of ct_mark
 *                               (action CT_LB_MARK: the engines see the same call)
 * - `ct_snat_to_vip;`        → the SNAT zone, commit, NAT SNAT to the VIP (ovn-controller table 70)
 *
 * Engines: `ct/` holds one that behaves like OVS's userspace conntrack; `lflow/ct-trace.ts` one that answers
 * as `ovn-trace --ct` does.
 * @module
 */
import type { DecodedFrame } from '@vippath/wire';

/*
 * Requests and results are reset on every ct() call (the executor resets its request per action). A
 * TypedArray's fill() is a builtin call whose fixed cost is many times that of the handful of stores it makes
 * on these 16-byte arrays; the loops below are inlined by the JIT and cost next to nothing.
 */
const zero16 = (b: Uint8Array): void => {
  for (let i = 0; i < 16; i++) b[i] = 0;
};

const zero4 = (w: Uint32Array): void => {
  w[0] = 0;
  w[1] = 0;
  w[2] = 0;
  w[3] = 0;
};

/**
 * ct_state bits, numbered as OVS numbers them (lib/packets.h `CS_*`, the `ct_state` field's bits) and as
 * OVN's `ct.*` predicates read them (ovn lib/logical-fields.c: ct.new = ct_state[0] … ct.dnat = ct_state[7]).
 */
export const CtState = {
  NEW: 0x01,
  EST: 0x02,
  REL: 0x04,
  RPL: 0x08,
  INV: 0x10,
  TRK: 0x20,
  SNAT: 0x40,
  DNAT: 0x80,
} as const;

/** What a `ct()` call does about NAT. */
export const CtNat = {
  /** No `nat` clause: the packet is not translated. */
  NONE: 0,
  /**
   * `nat` with no address: apply the connection's existing translation (reverse it for replies). With `commit` on a
   * new connection (`ct_commit_nat`), OVS 3.1 commits it with a reply tuple of source address 0 and, for TCP/UDP,
   * destination port 0, and no translation: see the engine's nullTuple.
   */
  APPLY: 1,
  /** `nat(dst=…)`: on commit of a new connection, translate the destination; otherwise as APPLY. */
  DNAT: 2,
  /** `nat(src=…)`: on commit of a new connection, translate the source; otherwise as APPLY. */
  SNAT: 3,
} as const;

/**
 * Which OVN action asked for this `ct()` call. Informational for a real engine (it acts on the request's
 * fields alone); an engine that imitates ovn-trace needs it, because ovn-trace treats each action differently
 * (utilities/ovn-trace.c: `ct_commit` and `ct_snat_to_vip` do nothing, `ct_next` replaces ct_state, the NAT
 * actions OR into it).
 */
export const CtAction = {
  CT_NEXT: 0,
  CT_COMMIT: 1,
  CT_COMMIT_NAT: 2,
  CT_DNAT: 3,
  CT_SNAT: 4,
  CT_LB_MARK: 5,
  CT_SNAT_TO_VIP: 6,
} as const;

/**
 * One `ct()` call's parameters. Preallocated and reused by the executor: an engine must copy what it keeps.
 * Addresses are 16 bytes; an IPv4 address is in the first 4 (`natIpv6` false).
 */
export class CtRequest {
  /** One of {@link CtAction}. */
  action: number = CtAction.CT_NEXT;
  /** Conntrack zone (OVN: the port's zone from reg13, or the datapath's SNAT zone from reg12). */
  zone = 0;
  commit = false;
  /** `force`: a committed connection in the other direction is torn down and this packet starts a new one. */
  force = false;
  /** One of {@link CtNat}. */
  nat: number = CtNat.NONE;
  natIpv6 = false;
  /**
   * Lowest NAT address of the range (OVN uses single addresses: min = max). All zero with DNAT or SNAT: no address
   * (OpenFlow's `nat(dst)` / `nat(src)` without a range): the packet's own is kept, of either family.
   */
  readonly natAddrMin = new Uint8Array(16);
  readonly natAddrMax = new Uint8Array(16);
  /** NAT port range; 0/0 keeps the port. */
  natPortMin = 0;
  natPortMax = 0;
  /** Write `mark = (mark & ~markMask) | (markValue & markMask)` on commit. */
  setMark = false;
  markValue = 0;
  markMask = 0;
  /** 128-bit label write, word 0 = bits 0..31 (`ct_label[0..31]`). */
  setLabel = false;
  readonly labelValue = new Uint32Array(4);
  readonly labelMask = new Uint32Array(4);

  /** Back to "ct(zone=0)": no commit, no NAT, no writes. */
  reset(): void {
    this.action = CtAction.CT_NEXT;
    this.zone = 0;
    this.commit = false;
    this.force = false;
    this.nat = CtNat.NONE;
    this.natIpv6 = false;
    zero16(this.natAddrMin);
    zero16(this.natAddrMax);
    this.natPortMin = 0;
    this.natPortMax = 0;
    this.setMark = false;
    this.markValue = 0;
    this.markMask = 0;
    this.setLabel = false;
    zero4(this.labelValue);
    zero4(this.labelMask);
  }
}

/**
 * What a `ct()` call reports back. Preallocated by the executor. On entry it holds the packet's current ct fields
 * (state, mark, label, original tuple — what an earlier `ct()` left); the engine overwrites what the call sets.
 */
export class CtResult {
  /** {@link CtState} bits; always includes TRK (or is INV|TRK for a packet conntrack cannot track). */
  state = 0;
  /** The zone the lookup was made in (OVS sets `ct_zone`). */
  zone = 0;
  /** The connection's ct_mark after this call (0 when there is no connection). */
  mark = 0;
  /** The connection's ct_label after this call, word 0 = bits 0..31. */
  readonly label = new Uint32Array(4);
  /**
   * True when the engine changed the frame's bytes (NAT). Offsets stay valid (NAT never changes header
   * lengths) but the executor re-decodes so that every field it reads is the translated one.
   */
  rewritten = false;
  /** The connection's original-direction tuple is known (a connection exists). */
  hasOriginal = false;
  originalIpv6 = false;
  /** `ct_nw_src`/`ct_ipv6_src` and `ct_nw_dst`/`ct_ipv6_dst`: the original direction's addresses. */
  readonly originalSrc = new Uint8Array(16);
  readonly originalDst = new Uint8Array(16);
  /** `ct_nw_proto`, `ct_tp_src`, `ct_tp_dst` of the original direction. */
  originalProto = 0;
  originalSrcPort = 0;
  originalDstPort = 0;
  /**
   * This call wrote the original tuple: the connection's, else the packet's own, else none (`hasOriginal` false,
   * the packet's ct_nw_* / ct_tp_* / ct_nw_proto become 0) — what OVS's write_ct_md does on every ct() (lib/conntrack.c
   * branch-3.1). An engine that leaves it false leaves the packet's earlier tuple as it was, except where it sets
   * `hasOriginal` (ovn-trace: only a DNAT writes ct_nw_dst / ct_tp_dst, the rest stays until ct_clear). After a
   * hinted call that found its hint's node, false means the tuple is the hint's connection's and was not written
   * ({@link HintedConntrackEngine.executeHinted}).
   */
  tupleWritten = false;
  /**
   * Which packet the result is carrying, for an engine that keeps what it learnt of a packet between its calls
   * ({@link ConntrackEngine}): 0, unknown (the engine tells a packet's next call only by the ct_state it left);
   * otherwise a caller that sets it changes it whenever a new packet starts in this result — then a packet whose
   * ct_state the caller cleared between two calls (ct_clear; a chassis leaving one zone for the next) is still
   * known as the same one.
   */
  packet = 0;
  /**
   * The caller vouches for the checksums of the packet the result carries — its IPv4 header's and its TCP, UDP or
   * ICMP one: its sender computed them, and nothing wrote the frame since but edits that keep them right. A local
   * stack's frame is such a packet where its NIC offloads the sums (Linux hands it to OVS's kernel datapath, Kube-OVN's,
   * as a CHECKSUM_PARTIAL skb; OVS's userspace datapath marks it DP_PACKET_OL_TX_IPV4 and DP_PACKET_OL_TX_TCP_CKSUM
   * only where it reads vnet headers, i.e. with `userspace-tso-enable`), a frame off the wire is not. An engine may
   * then skip verifying them, as both conntracks do for such a packet (`OvsConntrack`'s extractKey says where). An
   * input, not a result: the caller sets it per packet; {@link reset} clears it.
   */
  checksumsGood = false;

  /** "Not tracked yet": what a packet's ct fields are before its first `ct()`. A numbered packet's number moves on. */
  reset(): void {
    if (this.packet !== 0) this.packet++;
    this.checksumsGood = false;
    this.state = 0;
    this.zone = 0;
    this.mark = 0;
    zero4(this.label);
    this.rewritten = false;
    this.clearOriginal();
  }

  /** Forgets the original-direction tuple (no connection, and none to be read from the packet). */
  clearOriginal(): void {
    this.hasOriginal = false;
    this.originalIpv6 = false;
    zero16(this.originalSrc);
    zero16(this.originalDst);
    this.originalProto = 0;
    this.originalSrcPort = 0;
    this.originalDstPort = 0;
  }
}

/**
 * A conntrack engine. `execute` is on the hot path: it must not allocate per packet and must not throw for a
 * packet it cannot track (that is `INV|TRK`). `frame[0, length)` is the packet as the pipeline holds it now,
 * `decoded` describes it (the engine may use the wire edit functions, which keep `decoded`'s addresses and ports
 * current). `now` is simulated time in milliseconds (capture timestamps), never the wall clock.
 *
 * Between two calls on one packet, a caller changes the frame only as OVS's actions do: address and port writes
 * that adjust the checksums (the wire edit functions), header fields through `decoded`. An engine may then
 * keep what it learnt of the packet (its key, that its checksums verified) for the packet's next call, as
 * `OvsConntrack` does; a new packet starts from a reset result (state 0), or one whose `packet` number changed.
 */
export interface ConntrackEngine {
  execute(frame: Uint8Array, length: number, decoded: DecodedFrame, request: CtRequest, result: CtResult, now: number): void;
}

/**
 * An engine that takes lookup hints (`OvsConntrack`): after a call, the connection node its lookup found, the
 * node's generation and the table's epoch; a later call on the same key may hand them back, and the engine skips
 * its hash lookup only where that provably finds the same node — the outcome is {@link ConntrackEngine.execute}'s,
 * except for the original tuple as {@link executeHinted} says.
 */
export interface HintedConntrackEngine extends ConntrackEngine {
  readonly epoch: number;
  readonly foundNode: number;
  readonly foundGen: number;
  /**
   * {@link ConntrackEngine.execute} with the hint (`node`, `gen`, `epoch`: an earlier call's
   * {@link HintedConntrackEngine.foundNode | foundNode}, {@link HintedConntrackEngine.foundGen | foundGen},
   * {@link HintedConntrackEngine.epoch | epoch}; a bare link would name the parameter). One difference in the
   * outcome: a call whose first lookup found the hint's node itself (after it, `foundNode === node`,
   * `foundGen === gen`, `epoch` unchanged) may leave the original tuple — `hasOriginal`, `originalIpv6`, `originalSrc`, `originalDst`, `originalProto`, `originalSrcPort`,
   * `originalDstPort` — as the result held it on entry, and then sets `tupleWritten` false (every call that finds
   * or makes a connection otherwise sets it true). The tuple execute would have written is that node's connection's
   * original tuple, which never changes while the slot's generation does not: the one the call that gave the hint
   * wrote. A caller that reads the tuple after such a call, or hands the result to a call in the same zone (the
   * only calls that read a result's tuple on entry: `check_orig_tuple` of a NATed packet, and process_one_fast,
   * which keeps it — a call in another zone starts from a clean ct_state and writes its own), first puts that
   * tuple back.
   *
   * `next` true promises that the packet is the one this engine's previous call (`execute` or `executeHinted`) ran on,
   * and that nothing has written its frame or `decoded` since that call returned (the result may have been reset or
   * restored): the call may then take the packet's key from that call's without comparing the packet with it. The
   * outcome is the same as with `next` false; a broken promise may give another.
   *
   * `fresh` true says that the packet is a new one (the caller's first call on it): the engine does not compare it
   * with what it kept of the previous call's packet, and takes its key and checks its checksums as for any packet.
   * Not a promise: on the previous call's packet, untouched, the outcome is the same as with `fresh` false; on a new
   * packet it is execute's (OVS checks every packet).
   *
   * `keyed` true promises that `node` and `gen` are what this engine's `foundNode` and `foundGen` said after an
   * earlier call on a packet with this packet's addresses, protocol and ports, in this request's zone, whose result
   * entered it with this call's ct_state and zone (so the lookup was of the same key, or of its reverse for a packet
   * NATed in that zone for both). The engine may then take the node's key for the packet's without comparing them
   * (a connection's keys do not change while its slot's generation holds; the generation, the epoch and the expiry
   * are still checked). The outcome is the same as with `keyed` false; a broken promise may give another.
   */
  executeHinted(frame: Uint8Array, length: number, decoded: DecodedFrame, request: CtRequest, result: CtResult, now: number, node: number, gen: number, epoch: number, next?: boolean, fresh?: boolean, keyed?: boolean): void;
  /**
   * How far the sender of a node's direction (a node and generation as {@link foundNode} and {@link foundGen} gave
   * them) has closed its half of a TCP connection: 2 its last segment is behind it (its FIN sent, the other peer's
   * FIN sent and acknowledged), 1 its FIN sent only, 0 neither, -1 no live TCP connection's node. The connection
   * replay frees a walk at its direction's last segment (`OvsConntrack.tcpClosing`).
   */
  tcpClosing(node: number, gen: number): number;
}

/**
 * An engine that also takes the packet's ct fields where the logical-flow executor keeps them: its flow words
 * (`W.CT_STATE`, `W.CT_MARK`, the four `W.CT_LABEL` words and the original tuple's `W.CT_NW_*`, `W.CT_IPV6_*`,
 * `W.CT_TP_*` and `W.CT_NW_PROTO` words; lflow/fields.ts). The executor uses it when the engine has it
 * (`OvsConntrack` does); other engines take {@link ConntrackEngine.execute} with the fields copied into and out of
 * a {@link CtResult}.
 */
export interface WordsConntrackEngine extends ConntrackEngine {
  /**
   * {@link ConntrackEngine.execute} with the packet's ct fields in `words` instead of the result's: on entry they
   * hold what the packet's previous `ct()` left (all 0 for a packet not tracked yet), as the executor writes a
   * result back into them; on return they hold this call's answer written back the same way — ct_state, ct_mark
   * and ct_label, and the original tuple as the call wrote it (`tupleWritten`: the connection's, the packet's own,
   * or all 0 without one, each word written; the other family's address words 0), else as it was. The result
   * carries the rest as execute's does: on entry its `zone` and `packet` (the previous call's); on return `state`
   * (the ct_state written), `zone`, `rewritten`, `tupleWritten`, `hasOriginal` and `originalIpv6`. Its `mark`,
   * `label` and tuple fields are neither read nor written. A call that rewrites the frame (`rewritten`) leaves
   * `decoded`'s IPv4 addresses and TCP and UDP ports the frame's, as wire's edit functions do: the executor reads an
   * IPv4 frame's translated header back from there, not from the bytes.
   *
   * `gen` (0 or absent: none) is the caller's frame generation, a promise kept in one number: the caller moves it,
   * to a value it never gave any engine before, whenever anything but the engine called writes `decoded` or the
   * frame's bytes after its Ethernet addresses (which no engine reads) — a new packet, a header field written, the
   * frame decoded again or moved to another buffer. A call given the generation the engine's previous call was
   * given is then on that call's packet, written since only by that call itself (NAT), and may take the packet's
   * key from it without comparing the packet with it. The outcome is the same as with `gen` 0; a broken promise may
   * give another. A caller that hands one frame to two engines moves it at each switch of engine.
   *
   * `fresh` true says that the packet is a new one (the caller's first call on it), as for
   * {@link HintedConntrackEngine.executeHinted}: not a promise, the outcome is the same as with `fresh` false.
   *
   * `hidden` true says that the caller clears the ct words after the call (a `ct()` without recirculation on a
   * chassis: OVN's `ct_commit`), reading back only the result's state, zone and `rewritten`: the call writes the
   * ct_state word, and leaves the mark, label and tuple words as they may be. The connection is what it is with
   * `hidden` false.
   */
  executeWords(frame: Uint8Array, length: number, decoded: DecodedFrame, request: CtRequest, result: CtResult, words: Uint32Array, now: number, gen?: number, fresh?: boolean, hidden?: boolean): void;
}

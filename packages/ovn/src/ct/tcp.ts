/**
 * TCP tracking as OVS's userspace conntrack does it (ovs lib/conntrack-tcp.c v3.1.0, itself after OpenBSD
 * pf's window tracking, Guido van Rooij's "Real Stateful TCP Packet Filtering in IP Filter"): each
 * connection keeps two peers (0 = the original direction's sender, 1 = the reply direction's), each with the
 * highest sequence number sent (`seqlo`), the highest it may send (`seqhi`: what the other end acked plus
 * its window), its largest window, its window scale and its state. State lives in typed arrays indexed by
 * `entry * 2 + peer`, so tracking a segment allocates nothing.
 * @module
 */
import { read16 as read16Import, read32 as read32Import } from '@vippath/wire';
import { CtTcpState, CtTimeout as CtTimeoutImport } from './constants.js';

// Imports bound to module constants, which the optimizing compiler folds (see engine.ts).
const read16 = read16Import;
const read32 = read32Import;
const CtTimeout = CtTimeoutImport;
// The module's own exported constants are read through these: an exported binding is a cell each use loads and
// checks, a plain const folds.
const Update = { INVALID: 0, VALID: 1, NEW: 2, VALID_NEW: 3 } as const;
const WS_FLAG = 0x80;
const WS_UNKNOWN = 0x40;
const PEER = 3;
const STRIDE = 2 * PEER;

/** TCP header flag bits (low 12 bits of the offset/flags word, as OVS's `TCP_FLAGS`). */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/** Outcome of tracking one packet (ovs lib/conntrack-private.h `enum ct_update_res`). */
export const CtUpdate = Update;

const { FIN, SYN, RST, PSH, ACK, URG } = TcpFlag;
const { CLOSED, SYN_SENT, ESTABLISHED, CLOSING, FIN_WAIT_2, TIME_WAIT } = CtTcpState;

/** Largest window scale TCP allows (RFC 7323 §2.3). */
const MAX_WSCALE = 14;
/** Window scale byte: the peer sent the option. */
export const WSCALE_FLAG = WS_FLAG;
/** Window scale byte: the connection was picked up mid-stream, scale unknown — be liberal. */
export const WSCALE_UNKNOWN = WS_UNKNOWN;
const WSCALE_MASK = 0xf;
/** Ack skew allowed either way: a maximal window plus a fudge of 1500 (OVS `MAXACKWINDOW`). */
const MAX_ACK_WINDOW = 0xffff + 1500;
/** Offsets in a decoded frame are below 2^17; masked to 2^30 so that TurboFan knows an offset plus a small constant fits in an int32. */
const OFFSET_MASK = 0x3fffffff;

/**
 * Per-peer TCP tracking state of every connection slot: one record of {@link TCP_STRIDE} words per connection,
 * {@link TCP_PEER} words per peer (`seqlo`, `seqhi`, and one word of the largest window (16 bits, as OVS's
 * `max_win`), the window scale byte and the state), so that tracking a segment reads one cache line or two
 * rather than one line in each of five arrays (with 100 000+ connections every array access is a cache miss).
 */
export type TcpPeers = Uint32Array;
/** Words per peer: seqlo, seqhi, max window | wscale << 16 | state << 24. */
export const TCP_PEER = PEER;
/** Words per connection (two peers). */
export const TCP_STRIDE = STRIDE;
const SEQLO = 0;
const SEQHI = 1;
const PACKED = 2;
/** A peer's words: `seqlo`, `seqhi`, and the packed one (max window | wscale << 16 | state << 24). */
export const TCP_SEQLO = SEQLO;
export const TCP_SEQHI = SEQHI;
export const TCP_PACKED = PACKED;
/** {@link MAX_ACK_WINDOW} and {@link MAX_WSCALE}, for the conntrack engine's copy of tcpUpdate's usual path. */
export const TCP_MAX_ACK_WINDOW = MAX_ACK_WINDOW;
export const TCP_MAX_WSCALE = MAX_WSCALE;

const state = (t: TcpPeers, p: number): number => t[p + PACKED]! >>> 24;

/** Allocates tracking state for `capacity` connections (two peers each). */
export function allocTcpPeers(capacity: number): TcpPeers {
  return new Uint32Array(capacity * STRIDE);
}

/** The state ({@link CtTcpState}) of peer `peer` (0 original sender, 1 reply sender) of connection `e`. */
export function tcpPeerState(t: TcpPeers, e: number, peer: number): number {
  return state(t, e * STRIDE + peer * PEER);
}

/**
 * The window scale byte of peer `peer` of connection `e`: the shift (low four bits), {@link WSCALE_FLAG} when its SYN
 * carried the option, {@link WSCALE_UNKNOWN} when the connection was picked up mid-stream (dumps only).
 */
export function tcpPeerWscale(t: TcpPeers, e: number, peer: number): number {
  return (t[e * STRIDE + peer * PEER + PACKED]! >>> 16) & 0xff;
}

/**
 * How far peer `peer` of connection `e` has closed its half, by the two peers' states: 2 once it has sent its FIN
 * (CLOSING or later) and the other peer has sent one and heard an ACK since (FIN_WAIT_2 or later; a RST puts both in
 * TIME_WAIT) — all this peer may still send are retransmissions and ACKs of the other's; 1 when it has sent FIN and
 * the other has not got that far; 0 before its FIN.
 */
export function tcpPeerClosing(t: TcpPeers, e: number, peer: number): number {
  // int32 offsets (Math.imul, `| 0`): `e` is a slot's (its caller checks it against the slot count), so these are
  // the products and sums themselves, without TurboFan's overflow checks.
  const p = (Math.imul(e, STRIDE) + PACKED) | 0;
  if (t[(p + Math.imul(peer, PEER)) | 0]! >>> 24 < CLOSING) return 0;
  return t[(p + Math.imul(peer ^ 1, PEER)) | 0]! >>> 24 >= FIN_WAIT_2 ? 2 : 1;
}

const seqGeq = (a: number, b: number): boolean => ((a - b) | 0) >= 0;
const seqGt = (a: number, b: number): boolean => ((a - b) | 0) > 0;

/**
 * Flag combinations no real stack sends (pf checks these when scrubbing; OVS always does,
 * `tcp_invalid_flags`): SYN with RST or FIN; neither SYN, ACK nor RST; FIN, PSH or URG without ACK.
 */
export function tcpInvalidFlags(flags: number): boolean {
  if (flags & SYN) {
    if (flags & (RST | FIN)) return true;
  } else if (!(flags & (ACK | RST))) {
    return true;
  }
  return !(flags & ACK) && (flags & (FIN | PSH | URG)) !== 0;
}

/** Whether a packet may start a connection: any sane segment except a SYN+ACK (`tcp_valid_new`). */
export function tcpValidNew(flags: number): boolean {
  return !invalidFlags(flags) && (flags & (SYN | ACK)) !== (SYN | ACK);
}

/** The window scale option of the TCP header at `l4`, with {@link WSCALE_FLAG} when present (`tcp_get_wscale`). */
export function tcpWscale(frame: Uint8Array, l4: number): number {
  let len = ((frame[l4 + 12]! >> 4) << 2) - 20;
  let at = l4 + 20;
  let wscale = 0;
  while (len >= 3) {
    const kind = frame[at]!;
    if (kind === 0) return wscale;
    if (kind === 1) {
      at++;
      len--;
      continue;
    }
    if (kind === 3) wscale = Math.min(frame[at + 2]!, MAX_WSCALE) | WS_FLAG;
    const optlen = Math.max(frame[at + 1]!, 2);
    len -= optlen;
    at += optlen;
  }
  return wscale;
}

// This module's own calls through const bindings: a function declaration is a mutable binding, which V8's optimizing
// compiler loads from the module context and compares with the function it inlined at each call site; a const folds.
const invalidFlags = tcpInvalidFlags;
const wscaleOf = tcpWscale;

/** Initialises both peers of connection `e` from its first packet (`tcp_new_conn`). */
export function tcpNewConn(t: TcpPeers, e: number, frame: Uint8Array, l4: number, payloadLength: number): void {
  // Masked (see tcpUpdate): the offsets' sums lose their overflow checks.
  // `e | 0`: the slot checked a Smi (its `|`'s feedback), not converted through a double for Math.imul (engine.ts connUpdate).
  const src = Math.imul(e | 0, STRIDE) & OFFSET_MASK;
  const dst = src + PEER;
  const at = l4 & OFFSET_MASK;
  const flags = read16(frame, at + 12) & 0xfff;
  const seq = read32(frame, at + 4);
  t[src + SEQLO] = seq;
  // `| 0` as in tcpUpdate: an integer add (the sum is taken modulo 2^32 below).
  let seqhi = seq + (payloadLength | 0) + 1;
  let srcScale: number;
  let dstScale: number;
  if (flags & SYN) {
    seqhi++;
    srcScale = wscaleOf(frame, at);
    dstScale = 0;
  } else {
    srcScale = WS_UNKNOWN;
    dstScale = WS_UNKNOWN;
  }
  let win = Math.max(read16(frame, at + 14), 1);
  const sws = srcScale & WSCALE_MASK;
  // OVS's DIV_ROUND_UP(win, 1 << sws), as its integers: a shift, where Math.ceil of the quotient was a float division
  // and a conversion back (the same value: win < 2^16, the quotient exact).
  if (sws) win = (win + (1 << sws) - 1) >> sws;
  if (flags & FIN) seqhi++;
  t[src + SEQHI] = seqhi >>> 0;
  t[dst + SEQLO] = 0;
  t[dst + SEQHI] = 1;
  // Each peer's packed word written whole (a reused slot's old bits go).
  t[src + PACKED] = (win | (srcScale << 16) | (SYN_SENT << 24)) >>> 0;
  t[dst + PACKED] = (1 | (dstScale << 16) | (CLOSED << 24)) >>> 0;
}

/**
 * Tracks one segment of connection `e` sent by the original (`reply` false) or reply peer
 * (`tcp_conn_update`). Returns a {@link Update} value plus, in bits 4 and up, one more than the
 * {@link CtTimeout} the connection's expiration moves to (0: leave it).
 * `flags`: the segment's flags (the low 12 bits of its header's offset/flags word at `l4 + 12`), which must already
 * have passed {@link tcpInvalidFlags} — the callers read them for that check, so the word is not read twice.
 * The conntrack engine's hinted IPv4 TCP path (engine.ts hintedTcp4) has this function's path for an in-window
 * segment without SYN or RST written out: a change here is a change there.
 */
export function tcpUpdate(t: TcpPeers, e: number, reply: boolean, frame: Uint8Array, l4: number, payloadLength: number, seqCheck: boolean, flags: number): number {
  // `reply === true`: a pointer compare where a test of the argument is V8's ToBoolean chain (it cannot type it).
  // The record's offset as Math.imul masked to 2^30 — itself: a slot's record (TCP_STRIDE words) lies below word 2^30
  // for every pool memory can hold (136 bytes a slot) — so TurboFan knows each `src + k` and `dst + k` fits an int32 and
  // checks none for overflow.
  // `e | 0` as in tcpNewConn.
  const rec = Math.imul(e | 0, STRIDE) & OFFSET_MASK;
  const src = rec + (reply === true ? PEER : 0);
  const dst = rec + (reply === true ? 0 : PEER);
  const at = l4 & OFFSET_MASK;
  // `| 0`: the payload's length is an int32 (below 2^16) where the argument is untyped — typed, `seq + len >>> 0` is an
  // integer add, not a float add with a conversion back.
  const len = payloadLength | 0;
  let win = read16(frame, at + 14);
  // The peers' packed words (max window, window scale, state) are read into locals and written back once: each
  // accessor's read-modify-write of the array was a load and a store the compiler could not merge (a store to a
  // typed array may alias any later load of it).
  let sp = t[src + PACKED]!;
  let dp = t[dst + PACKED]!;

  if ((flags & (SYN | ACK)) === SYN) {
    // A new SYN on a connection both sides have closed reopens it; a repeated SYN keeps it opening.
    // The states written into the packed words read above (setState's read-modify-write of each, without the reads).
    if (dp >>> 24 >= FIN_WAIT_2 && sp >>> 24 >= FIN_WAIT_2) {
      t[src + PACKED] = ((sp & 0x00ffffff) | (CLOSED << 24)) >>> 0;
      t[dst + PACKED] = ((dp & 0x00ffffff) | (CLOSED << 24)) >>> 0;
      return Update.NEW;
    } else if (sp >>> 24 <= SYN_SENT) {
      t[src + PACKED] = ((sp & 0x00ffffff) | (SYN_SENT << 24)) >>> 0;
      return Update.VALID_NEW | ((CtTimeout.TCP_FIRST_PACKET + 1) << 4);
    }
  }

  let sws = 0;
  let dws = 0;
  const sScale = (sp >>> 16) & 0xff;
  const dScale = (dp >>> 16) & 0xff;
  if (sScale & WS_FLAG && dScale & WS_FLAG && !(flags & SYN)) {
    sws = sScale & WSCALE_MASK;
    dws = dScale & WSCALE_MASK;
  } else if (sScale & WS_UNKNOWN && dScale & WS_UNKNOWN && !(flags & SYN)) {
    sws = MAX_WSCALE;
    dws = MAX_WSCALE;
  }

  let seq = read32(frame, at + 4);
  const origSeq = seq;
  let ack = read32(frame, at + 8);
  let end: number;
  let checkAckskew = true;
  if (sp >>> 24 < SYN_SENT) {
    // This peer's first packet. The two packed words are worked on in the locals and stored once at the end (as the
    // accessors' read-modify-writes of the array would leave them: a packet found out of window returns without
    // another store).
    end = (seq + len) >>> 0;
    if (flags & SYN) {
      end = (end + 1) >>> 0;
      if (dScale & WS_FLAG) {
        // tcpWscale's answer is 0 or the option's shift (≤ 14) | WS_FLAG: one byte.
        const ws = wscaleOf(frame, at);
        sp = ((sp & 0xff00ffff) | (ws << 16)) >>> 0;
        if (ws & WS_FLAG) {
          sws = ws & WSCALE_MASK;
          win = ((win + (1 << sws) - 1) >> sws) & 0xffff;
          dws = dScale & WSCALE_MASK;
        } else {
          // The other side offered scaling but this one did not: neither scales (its window scaled back, its scale 0).
          dp = ((dp & 0xff000000) | (((dp & 0xffff) << (dScale & WSCALE_MASK)) & 0xffff)) >>> 0;
        }
      }
    }
    if (flags & FIN) end = (end + 1) >>> 0;
    t[src + SEQLO] = seq;
    sp = ((sp & 0x00ffffff) | (SYN_SENT << 24)) >>> 0;
    const reach = (end + Math.max(1, (dp & 0xffff) << dws)) >>> 0;
    if (t[src + SEQHI] === 1 || seqGeq(reach, t[src + SEQHI]!)) {
      t[src + SEQHI] = reach;
      // Picking up a connection: no ack skew check on this packet.
      checkAckskew = false;
    }
    if (win > (sp & 0xffff)) sp = ((sp & 0xffff0000) | win) >>> 0;
    t[src + PACKED] = sp;
    t[dst + PACKED] = dp;
  } else {
    end = (seq + len) >>> 0;
    if (flags & SYN) end = (end + 1) >>> 0;
    if (flags & FIN) end = (end + 1) >>> 0;
  }

  const sLo = t[src + SEQLO]!;
  const sHi = t[src + SEQHI]!;
  const dLo = t[dst + SEQLO]!;
  if ((flags & ACK) === 0) {
    ack = dLo;
  } else if (ack === 0 && (flags & (ACK | RST)) === (ACK | RST)) {
    // Stacks that send RST|ACK with ack 0 after a timed-out SYN.
    ack = dLo;
  }

  if (seq === end) {
    // No data: relax the sequence check.
    seq = sLo;
    end = seq;
  }

  const ackskew = checkAckskew ? (dLo - ack) | 0 : 0;
  const inWindow =
    seqGeq(sHi, end) &&
    seqGeq(seq, (sLo - ((dp & 0xffff) << dws)) >>> 0) &&
    ackskew >= -MAX_ACK_WINDOW &&
    ackskew <= MAX_ACK_WINDOW << sws &&
    ((flags & RST) === 0 || origSeq === sLo || origSeq === ((sLo + 1) >>> 0) || ((origSeq + 1) >>> 0) === sLo);

  if (inWindow || !seqCheck) {
    if ((sp & 0xffff) < win) sp = (sp & 0xffff0000) | win;
    if (seqGt(end, sLo)) t[src + SEQLO] = end;
    if (seqGeq((ack + (win << sws)) >>> 0, t[dst + SEQHI]!)) t[dst + SEQHI] = (ack + Math.max(win << sws, 1)) >>> 0;
    let s = sp >>> 24;
    let d = dp >>> 24;
    if (flags & SYN && s < SYN_SENT) s = SYN_SENT;
    if (flags & FIN && s < CLOSING) s = CLOSING;
    if (flags & ACK) {
      if (d === SYN_SENT) d = ESTABLISHED;
      else if (d === CLOSING) d = FIN_WAIT_2;
    }
    if (flags & RST) {
      s = TIME_WAIT;
      d = TIME_WAIT;
    }
    t[src + PACKED] = ((sp & 0x00ffffff) | (s << 24)) >>> 0;
    t[dst + PACKED] = ((dp & 0x00ffffff) | (d << 24)) >>> 0;
    let tm: number;
    if (s >= FIN_WAIT_2 && d >= FIN_WAIT_2) tm = CtTimeout.TCP_CLOSED;
    else if (s >= CLOSING && d >= CLOSING) tm = CtTimeout.TCP_FIN_WAIT;
    else if (s < ESTABLISHED || d < ESTABLISHED) tm = CtTimeout.TCP_OPENING;
    else if (s >= CLOSING || d >= CLOSING) tm = CtTimeout.TCP_CLOSING;
    else tm = CtTimeout.TCP_ESTABLISHED;
    return Update.VALID | ((tm + 1) << 4);
  }

  const s = sp >>> 24;
  const d = dp >>> 24;
  if ((d < SYN_SENT || d >= FIN_WAIT_2 || s >= FIN_WAIT_2) && seqGeq((sHi + MAX_ACK_WINDOW) >>> 0, end) && seqGeq(seq, (sLo - MAX_ACK_WINDOW) >>> 0)) {
    // Shotgunned SYNs, a connection picked up after the table was flushed, or stray packets right after
    // close: accepted within a window either way, without refreshing the timeout (so floods do not keep
    // the entry alive).
    if ((sp & 0xffff) < win) sp = (sp & 0xffff0000) | win;
    if (seqGt(end, sLo)) t[src + SEQLO] = end;
    if (seqGeq((ack + (win << sws)) >>> 0, t[dst + SEQHI]!)) t[dst + SEQHI] = (ack + Math.max(win << sws, 1)) >>> 0;
    let ns = s;
    let nd = d;
    if (flags & FIN && ns < CLOSING) ns = CLOSING;
    if (flags & RST) {
      ns = TIME_WAIT;
      nd = TIME_WAIT;
    }
    t[src + PACKED] = ((sp & 0x00ffffff) | (ns << 24)) >>> 0;
    t[dst + PACKED] = ((dp & 0x00ffffff) | (nd << 24)) >>> 0;
    return Update.VALID;
  }
  return Update.INVALID;
}

/**
 * TCP tracking as OVS's userspace conntrack does it (ovs lib/conntrack-tcp.c v3.1.0, itself after OpenBSD
 * pf's window tracking, Guido van Rooij's "Real Stateful TCP Packet Filtering in IP Filter"): each
 * connection keeps two peers (0 = the original direction's sender, 1 = the reply direction's), each with the
 * highest sequence number sent (`seqlo`), the highest it may send (`seqhi`: what the other end acked plus
 * its window), its largest window, its window scale and its state. State lives in typed arrays indexed by
 * `entry * 2 + peer`, so tracking a segment allocates nothing.
 * @module
 */
import { read16, read32 } from '@vippath/wire';
import { CtTcpState, CtTimeout } from './constants.js';

/** TCP header flag bits (low 12 bits of the offset/flags word, as OVS's `TCP_FLAGS`). */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/** Outcome of tracking one packet (ovs lib/conntrack-private.h `enum ct_update_res`). */
export const CtUpdate = { INVALID: 0, VALID: 1, NEW: 2, VALID_NEW: 3 } as const;

const { FIN, SYN, RST, PSH, ACK, URG } = TcpFlag;
const { CLOSED, SYN_SENT, ESTABLISHED, CLOSING, FIN_WAIT_2, TIME_WAIT } = CtTcpState;

/** Largest window scale TCP allows (RFC 7323 §2.3). */
const MAX_WSCALE = 14;
/** Window scale byte: the peer sent the option. */
export const WSCALE_FLAG = 0x80;
/** Window scale byte: the connection was picked up mid-stream, scale unknown — be liberal. */
export const WSCALE_UNKNOWN = 0x40;
const WSCALE_MASK = 0xf;
/** Ack skew allowed either way: a maximal window plus a fudge of 1500 (OVS `MAXACKWINDOW`). */
const MAX_ACK_WINDOW = 0xffff + 1500;

/** Per-peer TCP tracking state of every connection slot. */
export interface TcpPeers {
  seqlo: Uint32Array;
  seqhi: Uint32Array;
  maxWin: Uint16Array;
  wscale: Uint8Array;
  state: Uint8Array;
}

/** Allocates tracking state for `capacity` connections (two peers each). */
export function allocTcpPeers(capacity: number): TcpPeers {
  const n = capacity * 2;
  return { seqlo: new Uint32Array(n), seqhi: new Uint32Array(n), maxWin: new Uint16Array(n), wscale: new Uint8Array(n), state: new Uint8Array(n) };
}

/** Copies the first `count` connections' state into a larger allocation. */
export function growTcpPeers(old: TcpPeers, capacity: number, count: number): TcpPeers {
  const t = allocTcpPeers(capacity);
  t.seqlo.set(old.seqlo.subarray(0, count * 2));
  t.seqhi.set(old.seqhi.subarray(0, count * 2));
  t.maxWin.set(old.maxWin.subarray(0, count * 2));
  t.wscale.set(old.wscale.subarray(0, count * 2));
  t.state.set(old.state.subarray(0, count * 2));
  return t;
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
  return !tcpInvalidFlags(flags) && (flags & (SYN | ACK)) !== (SYN | ACK);
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
    if (kind === 3) wscale = Math.min(frame[at + 2]!, MAX_WSCALE) | WSCALE_FLAG;
    const optlen = Math.max(frame[at + 1]!, 2);
    len -= optlen;
    at += optlen;
  }
  return wscale;
}

/** Initialises both peers of connection `e` from its first packet (`tcp_new_conn`). */
export function tcpNewConn(t: TcpPeers, e: number, frame: Uint8Array, l4: number, payloadLength: number): void {
  const src = e * 2;
  const dst = src + 1;
  const flags = read16(frame, l4 + 12) & 0xfff;
  t.seqlo[src] = read32(frame, l4 + 4);
  let seqhi = t.seqlo[src]! + payloadLength + 1;
  if (flags & SYN) {
    seqhi++;
    t.wscale[src] = tcpWscale(frame, l4);
    t.wscale[dst] = 0;
  } else {
    t.wscale[src] = WSCALE_UNKNOWN;
    t.wscale[dst] = WSCALE_UNKNOWN;
  }
  let maxWin = Math.max(read16(frame, l4 + 14), 1);
  const sws = t.wscale[src]! & WSCALE_MASK;
  if (sws) maxWin = Math.ceil(maxWin / (1 << sws));
  t.maxWin[src] = maxWin;
  if (flags & FIN) seqhi++;
  t.seqhi[src] = seqhi >>> 0;
  t.seqlo[dst] = 0;
  t.seqhi[dst] = 1;
  t.maxWin[dst] = 1;
  t.state[src] = SYN_SENT;
  t.state[dst] = CLOSED;
}

/**
 * Tracks one segment of connection `e` sent by the original (`reply` false) or reply peer
 * (`tcp_conn_update`). Returns a {@link CtUpdate} value plus, in bits 4 and up, one more than the
 * {@link CtTimeout} the connection's expiration moves to (0: leave it).
 * Flags must already have passed {@link tcpInvalidFlags}.
 */
export function tcpUpdate(t: TcpPeers, e: number, reply: boolean, frame: Uint8Array, l4: number, payloadLength: number, seqCheck: boolean): number {
  const src = e * 2 + (reply ? 1 : 0);
  const dst = e * 2 + (reply ? 0 : 1);
  const st = t.state;
  const flags = read16(frame, l4 + 12) & 0xfff;
  let win = read16(frame, l4 + 14);

  if ((flags & (SYN | ACK)) === SYN) {
    // A new SYN on a connection both sides have closed reopens it; a repeated SYN keeps it opening.
    if (st[dst]! >= FIN_WAIT_2 && st[src]! >= FIN_WAIT_2) {
      st[src] = CLOSED;
      st[dst] = CLOSED;
      return CtUpdate.NEW;
    } else if (st[src]! <= SYN_SENT) {
      st[src] = SYN_SENT;
      return CtUpdate.VALID_NEW | ((CtTimeout.TCP_FIRST_PACKET + 1) << 4);
    }
  }

  let sws = 0;
  let dws = 0;
  const ws = t.wscale;
  if (ws[src]! & WSCALE_FLAG && ws[dst]! & WSCALE_FLAG && !(flags & SYN)) {
    sws = ws[src]! & WSCALE_MASK;
    dws = ws[dst]! & WSCALE_MASK;
  } else if (ws[src]! & WSCALE_UNKNOWN && ws[dst]! & WSCALE_UNKNOWN && !(flags & SYN)) {
    sws = MAX_WSCALE;
    dws = MAX_WSCALE;
  }

  let seq = read32(frame, l4 + 4);
  const origSeq = seq;
  let ack = read32(frame, l4 + 8);
  let end: number;
  let checkAckskew = true;
  if (st[src]! < SYN_SENT) {
    // This peer's first packet.
    end = (seq + payloadLength) >>> 0;
    if (flags & SYN) {
      end = (end + 1) >>> 0;
      if (ws[dst]! & WSCALE_FLAG) {
        ws[src] = tcpWscale(frame, l4);
        if (ws[src]! & WSCALE_FLAG) {
          sws = ws[src]! & WSCALE_MASK;
          win = Math.ceil(win / (1 << sws)) & 0xffff;
          dws = ws[dst]! & WSCALE_MASK;
        } else {
          // The other side offered scaling but this one did not: neither scales.
          t.maxWin[dst] = (t.maxWin[dst]! << (ws[dst]! & WSCALE_MASK)) & 0xffff;
          ws[dst] = 0;
        }
      }
    }
    if (flags & FIN) end = (end + 1) >>> 0;
    t.seqlo[src] = seq;
    st[src] = SYN_SENT;
    const reach = (end + Math.max(1, t.maxWin[dst]! << dws)) >>> 0;
    if (t.seqhi[src] === 1 || seqGeq(reach, t.seqhi[src]!)) {
      t.seqhi[src] = reach;
      // Picking up a connection: no ack skew check on this packet.
      checkAckskew = false;
    }
    if (win > t.maxWin[src]!) t.maxWin[src] = win;
  } else {
    end = (seq + payloadLength) >>> 0;
    if (flags & SYN) end = (end + 1) >>> 0;
    if (flags & FIN) end = (end + 1) >>> 0;
  }

  if ((flags & ACK) === 0) {
    ack = t.seqlo[dst]!;
  } else if (ack === 0 && (flags & (ACK | RST)) === (ACK | RST)) {
    // Stacks that send RST|ACK with ack 0 after a timed-out SYN.
    ack = t.seqlo[dst]!;
  }

  if (seq === end) {
    // No data: relax the sequence check.
    seq = t.seqlo[src]!;
    end = seq;
  }

  const ackskew = checkAckskew ? (t.seqlo[dst]! - ack) | 0 : 0;
  const inWindow =
    seqGeq(t.seqhi[src]!, end) &&
    seqGeq(seq, (t.seqlo[src]! - (t.maxWin[dst]! << dws)) >>> 0) &&
    ackskew >= -MAX_ACK_WINDOW &&
    ackskew <= MAX_ACK_WINDOW << sws &&
    ((flags & RST) === 0 || origSeq === t.seqlo[src] || origSeq === ((t.seqlo[src]! + 1) >>> 0) || ((origSeq + 1) >>> 0) === t.seqlo[src]);

  if (inWindow || !seqCheck) {
    if (t.maxWin[src]! < win) t.maxWin[src] = win;
    if (seqGt(end, t.seqlo[src]!)) t.seqlo[src] = end;
    if (seqGeq((ack + (win << sws)) >>> 0, t.seqhi[dst]!)) t.seqhi[dst] = (ack + Math.max(win << sws, 1)) >>> 0;
    if (flags & SYN && st[src]! < SYN_SENT) st[src] = SYN_SENT;
    if (flags & FIN && st[src]! < CLOSING) st[src] = CLOSING;
    if (flags & ACK) {
      if (st[dst] === SYN_SENT) st[dst] = ESTABLISHED;
      else if (st[dst] === CLOSING) st[dst] = FIN_WAIT_2;
    }
    if (flags & RST) {
      st[src] = TIME_WAIT;
      st[dst] = TIME_WAIT;
    }
    const s = st[src]!;
    const d = st[dst]!;
    let tm: number;
    if (s >= FIN_WAIT_2 && d >= FIN_WAIT_2) tm = CtTimeout.TCP_CLOSED;
    else if (s >= CLOSING && d >= CLOSING) tm = CtTimeout.TCP_FIN_WAIT;
    else if (s < ESTABLISHED || d < ESTABLISHED) tm = CtTimeout.TCP_OPENING;
    else if (s >= CLOSING || d >= CLOSING) tm = CtTimeout.TCP_CLOSING;
    else tm = CtTimeout.TCP_ESTABLISHED;
    return CtUpdate.VALID | ((tm + 1) << 4);
  }

  if (
    (st[dst]! < SYN_SENT || st[dst]! >= FIN_WAIT_2 || st[src]! >= FIN_WAIT_2) &&
    seqGeq((t.seqhi[src]! + MAX_ACK_WINDOW) >>> 0, end) &&
    seqGeq(seq, (t.seqlo[src]! - MAX_ACK_WINDOW) >>> 0)
  ) {
    // Shotgunned SYNs, a connection picked up after the table was flushed, or stray packets right after
    // close: accepted within a window either way, without refreshing the timeout (so floods do not keep
    // the entry alive).
    if (t.maxWin[src]! < win) t.maxWin[src] = win;
    if (seqGt(end, t.seqlo[src]!)) t.seqlo[src] = end;
    if (seqGeq((ack + (win << sws)) >>> 0, t.seqhi[dst]!)) t.seqhi[dst] = (ack + Math.max(win << sws, 1)) >>> 0;
    if (flags & FIN && st[src]! < CLOSING) st[src] = CLOSING;
    if (flags & RST) {
      st[src] = TIME_WAIT;
      st[dst] = TIME_WAIT;
    }
    return CtUpdate.VALID;
  }
  return CtUpdate.INVALID;
}

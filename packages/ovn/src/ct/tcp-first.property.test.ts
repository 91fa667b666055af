/**
 * A connection's first packet in each direction — tcpNewConn for the packet that opens it, then tcpUpdate for the other
 * peer's first segment (its SYN|ACK, or a segment of a connection picked up mid-stream) — against OVS's tcp_new_conn and
 * the `src->state < CT_DPIF_TCPS_SYN_SENT` branch of tcp_conn_update with the window check and updates after it
 * (lib/conntrack-tcp.c v3.1.0), restated here with arithmetic of their own (Math.ceil of a quotient, products by powers
 * of two, 16-bit windows by remainder). Random window scale options on both sides (none, 0, 7, 14, above 14), windows,
 * sequence and ack numbers anywhere in 32 bits, payloads and flags, and at times an answering peer whose seqhi is not
 * tcp_new_conn's 1 (so that the check after the branch can refuse the segment); outcome and all six peer words must be
 * the model's.
 * Seeds: fast-check prints the seed of any failure; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CtTcpState, CtTimeout } from './constants.js';
import { allocTcpPeers, CtUpdate, TCP_PEER, tcpNewConn, tcpUpdate } from './tcp.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const MAX_ACK = 0xffff + 1500;
const { CLOSED, SYN_SENT, ESTABLISHED, CLOSING, FIN_WAIT_2, TIME_WAIT } = CtTcpState;

interface Peer {
  lo: number;
  hi: number;
  maxWin: number;
  scale: number;
  state: number;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** A window scale option's shift (undefined: no option). */
const option = fc.constantFrom<number | undefined>(undefined, undefined, 0, 2, 7, 14, 15, 255);
const opening = fc.record({
  syn: fc.constantFrom(true, true, true, false),
  fin: fc.constantFrom(false, false, false, true),
  seq: u32,
  win: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.constantFrom(0, 0, 1, 100),
  ws: option,
});
const answer = fc.record({
  // SYN|ACK, ACK, ACK|PSH, ACK|FIN, RST|ACK (each passes tcpInvalidFlags, as the engine's callers require).
  flags: fc.constantFrom(0x12, 0x12, 0x12, 0x10, 0x18, 0x11, 0x14),
  seq: u32,
  ackOff: fc.oneof(fc.constantFrom(0, 1, -1), fc.integer({ min: -(1 << 20), max: 1 << 20 })),
  win: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.constantFrom(0, 0, 1, 1460),
  ws: option,
  seqCheck: fc.constantFrom(true, true, false),
  // The answering peer's seqhi as something other than tcp_new_conn's 1 left it (undefined: as it did), so that the
  // window check can fail and the branch's own writes are what stays.
  hi: fc.option(u32, { nil: undefined, freq: 3 }),
});

const sgeq = (a: number, b: number): boolean => ((a - b) | 0) >= 0;
const sgt = (a: number, b: number): boolean => ((a - b) | 0) > 0;
const u = (x: number): number => ((x % 2 ** 32) + 2 ** 32) % 2 ** 32;
/** tcp_get_wscale of a header carrying option `ws`. */
const optionScale = (ws: number | undefined): number => (ws === undefined ? 0 : Math.min(ws, 14) | 0x80);

/** A TCP segment at offset 6 of its frame (offsets other than 0 are read as such), with a window scale option or none. */
function segment(flags: number, seq: number, ack: number, win: number, payload: number, ws: number | undefined): { frame: Uint8Array; l4: number } {
  const l4 = 6;
  const opts = ws === undefined ? 0 : 4;
  const frame = new Uint8Array(l4 + 20 + opts + payload);
  const v = new DataView(frame.buffer);
  v.setUint32(l4 + 4, seq);
  v.setUint32(l4 + 8, ack);
  v.setUint16(l4 + 12, (((20 + opts) >> 2) << 12) | flags);
  v.setUint16(l4 + 14, win);
  if (ws !== undefined) frame.set([1, 3, 3, ws], l4 + 20);
  return { frame, l4 };
}

/** tcp_new_conn: the two peers of a connection opened by a segment. */
function newConn(syn: boolean, fin: boolean, seq: number, win: number, payload: number, ws: number | undefined): [Peer, Peer] {
  const src: Peer = { lo: seq, hi: u(seq + payload + 1), maxWin: 0, scale: 0, state: SYN_SENT };
  const dst: Peer = { lo: 0, hi: 1, maxWin: 1, scale: 0, state: CLOSED };
  if (syn) {
    src.hi = u(src.hi + 1);
    src.scale = optionScale(ws);
  } else {
    src.scale = 0x40;
    dst.scale = 0x40;
  }
  src.maxWin = Math.max(win, 1);
  if (src.scale & 0xf) src.maxWin = Math.ceil(src.maxWin / 2 ** (src.scale & 0xf));
  if (fin) src.hi = u(src.hi + 1);
  return [src, dst];
}

/** tcp_conn_update for sender `s`'s first segment (s.state < SYN_SENT) to `d` (both changed in place); tcpUpdate's value. */
function firstUpdate(s: Peer, d: Peer, flags: number, seqIn: number, ackIn: number, winIn: number, payload: number, ws: number | undefined, seqCheck: boolean): number {
  const SYN = 0x02;
  const FIN = 0x01;
  const RST = 0x04;
  const ACK = 0x10;
  let sws = 0;
  let dws = 0;
  let win = winIn;
  if (s.scale & 0x80 && d.scale & 0x80 && !(flags & SYN)) {
    sws = s.scale & 0xf;
    dws = d.scale & 0xf;
  } else if (s.scale & 0x40 && d.scale & 0x40 && !(flags & SYN)) {
    sws = 14;
    dws = 14;
  }
  let seq = seqIn;
  let ack = ackIn;
  let end = u(seq + payload);
  if (flags & SYN) {
    end = u(end + 1);
    if (d.scale & 0x80) {
      s.scale = optionScale(ws);
      if (s.scale & 0x80) {
        sws = s.scale & 0xf;
        win = Math.ceil(win / 2 ** sws);
        dws = d.scale & 0xf;
      } else {
        d.maxWin = (d.maxWin * 2 ** (d.scale & 0xf)) % 0x10000;
        d.scale = 0;
      }
    }
  }
  if (flags & FIN) end = u(end + 1);
  s.lo = seq;
  s.state = SYN_SENT;
  let checkAckskew = true;
  const reach = u(end + Math.max(1, d.maxWin * 2 ** dws));
  if (s.hi === 1 || sgeq(reach, s.hi)) {
    s.hi = reach;
    checkAckskew = false;
  }
  if (win > s.maxWin) s.maxWin = win;

  if ((flags & ACK) === 0 || (ack === 0 && flags & RST)) ack = d.lo;
  const origSeq = seqIn;
  if (seq === end) {
    seq = s.lo;
    end = seq;
  }
  const skew = checkAckskew ? (d.lo - ack) | 0 : 0;
  const ok =
    sgeq(s.hi, end) &&
    sgeq(seq, u(s.lo - d.maxWin * 2 ** dws)) &&
    skew >= -MAX_ACK &&
    skew <= MAX_ACK * 2 ** sws &&
    (!(flags & RST) || origSeq === s.lo || origSeq === u(s.lo + 1) || u(origSeq + 1) === s.lo);
  const slide = (): void => {
    if (s.maxWin < win) s.maxWin = win;
    if (sgt(end, s.lo)) s.lo = end;
    if (sgeq(u(ack + win * 2 ** sws), d.hi)) d.hi = u(ack + Math.max(win * 2 ** sws, 1));
  };
  if (ok || !seqCheck) {
    slide();
    if (flags & SYN && s.state < SYN_SENT) s.state = SYN_SENT;
    if (flags & FIN && s.state < CLOSING) s.state = CLOSING;
    if (flags & ACK) {
      if (d.state === SYN_SENT) d.state = ESTABLISHED;
      else if (d.state === CLOSING) d.state = FIN_WAIT_2;
    }
    if (flags & RST) s.state = d.state = TIME_WAIT;
    let tm: number;
    if (s.state >= FIN_WAIT_2 && d.state >= FIN_WAIT_2) tm = CtTimeout.TCP_CLOSED;
    else if (s.state >= CLOSING && d.state >= CLOSING) tm = CtTimeout.TCP_FIN_WAIT;
    else if (s.state < ESTABLISHED || d.state < ESTABLISHED) tm = CtTimeout.TCP_OPENING;
    else if (s.state >= CLOSING || d.state >= CLOSING) tm = CtTimeout.TCP_CLOSING;
    else tm = CtTimeout.TCP_ESTABLISHED;
    return CtUpdate.VALID | ((tm + 1) << 4);
  }
  if ((d.state < SYN_SENT || d.state >= FIN_WAIT_2 || s.state >= FIN_WAIT_2) && sgeq(u(s.hi + MAX_ACK), end) && sgeq(seq, u(s.lo - MAX_ACK))) {
    slide();
    if (flags & FIN && s.state < CLOSING) s.state = CLOSING;
    if (flags & RST) s.state = d.state = TIME_WAIT;
    return CtUpdate.VALID;
  }
  return CtUpdate.INVALID;
}

function words(t: Uint32Array, p: number, x: Peer): void {
  t[p] = x.lo;
  t[p + 1] = x.hi;
  t[p + 2] = (x.maxWin | (x.scale << 16) | (x.state << 24)) >>> 0;
}

describe('tcpNewConn and tcpUpdate: a connection\'s first segment in each direction', () => {
  it('set both peers as tcp_new_conn and the first-packet branch of tcp_conn_update do (window scales, windows, seqhi)', () => {
    let scaled = 0;
    let unscaled = 0;
    let invalid = 0;
    fc.assert(
      fc.property(opening, answer, (o, a) => {
        const t = allocTcpPeers(2);
        // Connection 1, so that its words do not start at 0.
        const base = 2 * TCP_PEER;
        const f = segment((o.syn ? 0x02 : 0x10) | (o.fin ? 0x01 : 0), o.seq, 0, o.win, o.payload, o.ws);
        tcpNewConn(t, 1, f.frame, f.l4, o.payload);
        const [orig, rep] = newConn(o.syn, o.fin, o.seq, o.win, o.payload, o.ws);
        const opened = allocTcpPeers(2);
        words(opened, base, orig);
        words(opened, base + TCP_PEER, rep);
        expect([...t]).toEqual([...opened]);
        if (a.hi !== undefined) t[base + TCP_PEER + 1] = rep.hi = a.hi;

        const ack = u(o.seq + 1 + a.ackOff);
        const g = segment(a.flags, a.seq, ack, a.win, a.payload, a.ws);
        const want = firstUpdate(rep, orig, a.flags, a.seq, ack, a.win, a.payload, a.ws, a.seqCheck);
        expect(tcpUpdate(t, 1, true, g.frame, g.l4, a.payload, a.seqCheck, a.flags)).toBe(want);
        if (want === CtUpdate.INVALID) invalid++;
        const expected = allocTcpPeers(2);
        words(expected, base, orig);
        words(expected, base + TCP_PEER, rep);
        expect([...t]).toEqual([...expected]);
        if (rep.scale & 0x80 && orig.scale & 0x80) scaled++;
        else unscaled++;
      }),
      { numRuns: 3000, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    expect(scaled).toBeGreaterThan(200);
    expect(unscaled).toBeGreaterThan(200);
    expect(invalid).toBeGreaterThan(50);
  });
});

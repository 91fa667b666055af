/**
 * OvsConntrack.executeWords (the packet's ct fields read and written in the executor's flow words) against execute
 * with those fields copied into a CtResult and written back as the executor does for any engine (lflow/ct-words.ts:
 * ctWordsToResult, ctResultToWords). Two engines run the same packets — IPv4 and IPv6; TCP, UDP, ICMP echo, ICMP
 * errors about a connection (the backend's, or a router's about a packet to the VIP), another IP protocol (0 and 47); clients to a VIP and the backends' replies — each packet
 * through 1–5 ct() calls in two zones with and without commit, NAT (apply, DNAT to a backend and port, SNAT), mark
 * and label writes and force, and between the calls what the executor does to a packet: its ct fields hidden
 * (a chassis between zones), its source port rewritten (a flow's write: the next call in the zone then finds its NATed
 * connection by the original tuple), nothing. After every call all the flow words, the result's state, zone and
 * flags, the frame's bytes and the counters must be equal; after every packet, the tables. The words side runs as the
 * executor does, with a frame generation (executeWords' `gen`) moved by each packet and each write: its calls after a
 * packet's first take the kept key on that promise, the plain side's compare the packet. Its first call on a packet
 * says `fresh` (the key extracted without the compare), as do calls after the ct fields were hidden (on the kept
 * packet: `fresh` is no promise). A call whose ct fields are hidden right after it is told so on the words side
 * (executeWords' `hidden`, a chassis' ct_commit): its mark and label writes must still start from the connection's.
 * Seeds: fast-check prints the seed and the shrunk operations of a failure; VIPPATH_CT_PROP_SEED replays,
 * VIPPATH_CT_WORDS_RUNS sets the runs (default 500).
 */
import fc from 'fast-check';
import { checksumAdjust16, DecodedFrame, FrameDecoder, L3, read16, write16 } from '@vippath/wire';
import { describe, expect, it } from 'vitest';
import { CtNat, CtRequest, CtResult, CtState } from '../lflow/ct-api.js';
import { ctResultToWords, ctWordsToResult } from '../lflow/ct-words.js';
import { W } from '../lflow/fields.js';
import { FIRST_WORDS } from '../lflow/frame-sync.js';
import { OvsConntrack } from './engine.js';
import { checkPromises, EngineSide, F, frame, hideCtWords, natTo, vipFrame, type VipPacket } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const RUNS = Number(process.env.VIPPATH_CT_WORDS_RUNS ?? 500);

const V4 = { clients: ['10.0.0.1', '10.0.0.2'], vip: '10.96.0.10', backends: ['10.1.0.5', '10.1.0.6'] };
const V6 = { clients: ['fd00::1', 'fd00::2'], vip: 'fd00:96::10', backends: ['fd01::5', 'fd01::6'] };

interface Call {
  zone: number;
  commit: boolean;
  force: boolean;
  nat: 'none' | 'apply' | 'dnat' | 'snat';
  backend: number;
  port: boolean;
  mark: number;
  label: number;
  /** What happens to the packet before this call: nothing, its ct fields hidden, its source port rewritten. */
  before: 'none' | 'hide' | 'rewrite';
  /** The ct fields hidden right after this call, which the words side is told (executeWords' `hidden`: a chassis' ct_commit). */
  hiddenAfter: boolean;
}
interface Pkt {
  v6: boolean;
  proto: VipPacket['proto'];
  client: number;
  sport: number;
  backend: number;
  reply: boolean;
  flags: number;
  icmpCode: number;
  dt: number;
  calls: Call[];
}

const call: fc.Arbitrary<Call> = fc.record({
  zone: fc.constantFrom(1, 1, 2),
  commit: fc.boolean(),
  force: fc.constantFrom(false, false, false, false, true),
  nat: fc.constantFrom<Call['nat']>('none', 'apply', 'apply', 'dnat', 'dnat', 'snat'),
  backend: fc.integer({ min: 0, max: 1 }),
  port: fc.boolean(),
  mark: fc.constantFrom(0, 0, 5, 0x80000001),
  label: fc.constantFrom(0, 0, 9, 0xffffffff),
  before: fc.constantFrom<Call['before']>('none', 'none', 'hide', 'rewrite', 'rewrite'),
  hiddenAfter: fc.constantFrom(false, false, true),
});
const pkt: fc.Arbitrary<Pkt> = fc.record({
  v6: fc.constantFrom(false, false, true),
  proto: fc.constantFrom<Pkt['proto']>('tcp', 'tcp', 'tcp', 'udp', 'icmp', 'error', 'errorVip', 'other0', 'other47'),
  client: fc.integer({ min: 0, max: 1 }),
  sport: fc.constantFrom(40000, 40001),
  backend: fc.integer({ min: 0, max: 1 }),
  reply: fc.boolean(),
  flags: fc.constantFrom(F.SYN, F.SYN, F.SYN | F.ACK, F.ACK, F.ACK, F.ACK | F.PSH, F.FIN | F.ACK, F.RST),
  // An echo's code other than 0 too: OVS (and extractIcmp4/6) finds such a packet untrackable (+inv, the tuple
  // cleared), so a tracked echo's tuple always has code 0; the untrackable path is compared with it.
  icmpCode: fc.constantFrom(0, 0, 1, 0x80, 0xff),
  dt: fc.constantFrom(0, 0, 10, 1000, 400_000),
  calls: fc.array(call, { minLength: 1, maxLength: 5 }),
});

function build(p: Pkt): Uint8Array {
  return vipFrame(p.v6 ? V6 : V4, p);
}

/** The frame generations handed out (executeWords' `gen`), over both sides and all runs: each a number given once. */
let gens = 0;

/**
 * One side: an engine, its frame, decode, words and result. The words side works as the executor does: one frame
 * buffer for every packet (the engine sees the same object), and a frame generation moved by each packet and each
 * write (executeWords' `gen`), so its calls after a packet's first take the kept key on that promise; the other side
 * a new frame per packet, its calls comparing the packet with the kept one.
 */
class Side extends EngineSide {
  f = new Uint8Array(0);
  private readonly buf = new Uint8Array(2048);
  len = 0;
  gen = 0;

  /** `first`: the words are the executor's first pool slot (FIRST_WORDS), which the engine writes through its constant. */
  constructor(
    readonly words: boolean,
    first = false,
  ) {
    super(new OvsConntrack({ sweepIntervalMs: 0, maxConnections: 6 }), first ? FIRST_WORDS : new Uint32Array(W.SIZE));
  }

  start(f: Uint8Array): void {
    this.len = f.length;
    if (this.words) {
      this.buf.fill(0);
      this.buf.set(f);
      this.f = this.buf;
      this.gen = ++gens;
    } else this.f = f.slice();
    this.decoder.decode(this.f, this.d, this.len);
    // A new packet: its words loaded from the frame (the ct words 0), the result's packet number moved on.
    this.w.fill(0);
    this.w[W.ETH_TYPE] = this.d.l3 === L3.IPV6 ? 0x86dd : this.d.l3 === L3.IPV4 ? 0x800 : 0;
    this.res.packet++;
  }

  /** hideCt: the ct words cleared (the executor's, between a chassis' zones). */
  hide(): void {
    hideCtWords(this.w);
  }

  /** A flow's write of the TCP/UDP source port (+1), its checksum adjusted, as the executor's frame sync makes it. */
  rewrite(): boolean {
    const d = this.d;
    if (d.l4Offset < 0 || (d.ipProto !== 6 && d.ipProto !== 17) || d.ipFragment) return false;
    const l4 = d.l4Offset;
    const old = read16(this.f, l4);
    const now = (old + 1) & 0xffff;
    write16(this.f, l4, now);
    const c = l4 + (d.ipProto === 6 ? 16 : 6);
    const sum = read16(this.f, c);
    if (!(d.ipProto === 17 && sum === 0)) write16(this.f, c, checksumAdjust16(sum, old, now));
    this.decoder.decode(this.f, d, this.len);
    this.gen = ++gens;
    return true;
  }

  /** `fresh`: executeWords' (the executor's first call on a packet; here also a call after hide, on the kept packet). */
  call(req: CtRequest, now: number, fresh: boolean, hidden = false): void {
    if (this.words) this.ct.executeWords(this.f, this.len, this.d, req, this.res, this.w, now, this.gen, fresh, hidden);
    else {
      ctWordsToResult(this.w, this.res);
      this.ct.execute(this.f, this.f.length, this.d, req, this.res, now);
      ctResultToWords(this.res, this.w);
    }
  }
}

function request(c: Call, v6: boolean, req: CtRequest): void {
  req.reset();
  req.zone = c.zone;
  req.commit = c.commit || c.force;
  req.force = c.force;
  if (c.nat === 'apply') req.nat = CtNat.APPLY;
  else if (c.nat !== 'none') {
    const a = v6 ? V6 : V4;
    natTo(req, c.nat, c.nat === 'dnat' ? a.backends[c.backend]! : a.vip, c.port);
  }
  if (c.mark !== 0) {
    req.setMark = true;
    req.markValue = c.mark;
    req.markMask = c.mark === 5 ? 0xff : 0xffffffff;
  }
  if (c.label !== 0) {
    req.setLabel = true;
    req.labelValue.set([c.label, c.label === 9 ? 0x100 : 0, c.label === 9 ? 0 : 7, c.label]);
    req.labelMask.set([0xffffffff, c.label === 9 ? 0xffff : 0, 0xffffffff, c.label === 9 ? 0xf : 0xffffffff]);
  }
}

/**
 * Corners reached over all runs (asserted below): where the words entry reads or writes the words apart from the
 * common path — labels, an IPv6 tuple, an ICMP tuple (type and code in the port words), the tuple cleared (an
 * untrackable packet), left unwritten (process_one_fast), read back to find a NATed packet's connection after a
 * rewrite (checkOrigWords) — and the packets' ct fields hidden or their ports rewritten between calls.
 */
const seen = { calls: 0, label: 0, v6Tuple: 0, icmpTuple: 0, untracked: 0, origFound: 0, fast: 0, hidden: 0, hiddenAfter: 0, hiddenWrite: 0, rewritten: 0, promised: 0, fresh: 0, freshKept: 0 };
// The words side's calls on the frame generation, each checked against the packet the engine kept (see Side).
const promises = checkPromises();
const P = OvsConntrack.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
const checkOrigWords = P.checkOrigWords!;
P.checkOrigWords = function (this: unknown, ...a: unknown[]) {
  const r = checkOrigWords.apply(this, a) as number;
  if (r >= 0) seen.origFound++;
  return r;
};

/**
 * `between`: run on both sides' engines before each packet (a flush). `first`: the words side's words are the
 * executor's first pool slot (FIRST_WORDS), the array every executor call hands the engine.
 */
function check(seq: Pkt[], between?: (ct: OvsConntrack, i: number) => void, first = false): void {
  const a = new Side(true, first);
  const b = new Side(false);
  const req = new CtRequest();
  let now = 1000;
  for (let i = 0; i < seq.length; i++) {
    const p = seq[i]!;
    now += p.dt;
    between?.(a.ct, i);
    between?.(b.ct, i);
    const f = build(p);
    a.start(f);
    b.start(f);
    for (let k = 0; k < p.calls.length; k++) {
      const c = p.calls[k]!;
      const where = `packet ${i} call ${k}`;
      if (c.before === 'hide') {
        a.hide();
        b.hide();
        seen.hidden++;
      } else if (c.before === 'rewrite' && a.rewrite()) {
        b.rewrite();
        seen.rewritten++;
      }
      request(c, p.v6, req);
      // A packet's first call says fresh, as the executor's does; a call after hide too: not a promise, the packet is
      // the kept one there and the outcome must be the same.
      const fresh = k === 0 || c.before === 'hide';
      if (fresh) seen.fresh++;
      a.call(req, now, fresh, c.hiddenAfter);
      b.call(req, now, false);
      seen.calls++;
      const x = a.res;
      const y = b.res;
      if (c.hiddenAfter) {
        // What a caller that hides the ct fields reads back: the state, zone and rewritten flag; then the words
        // cleared on both sides (the next call's and the table's compare find a mark or label the hidden call
        // wrote from words it left unwritten).
        // tupleWritten too: finishOne writes a hidden call's result fields itself, not through writeMetaWords.
        expect([x.state, x.zone, x.rewritten, x.tupleWritten], where).toEqual([y.state, y.zone, y.rewritten, y.tupleWritten]);
        expect([...a.f.subarray(0, a.len)], where).toEqual([...b.f]);
        expect([...a.ct.counters], where).toEqual([...b.ct.counters]);
        a.hide();
        b.hide();
        seen.hiddenAfter++;
        if (req.setMark || req.setLabel) seen.hiddenWrite++;
        continue;
      }
      expect([...a.w], where).toEqual([...b.w]);
      expect([x.state, x.zone, x.rewritten, x.tupleWritten, x.hasOriginal, x.originalIpv6], where).toEqual([y.state, y.zone, y.rewritten, y.tupleWritten, y.hasOriginal, y.originalIpv6]);
      expect([...a.f.subarray(0, a.len)], where).toEqual([...b.f]);
      expect([...a.ct.counters], where).toEqual([...b.ct.counters]);
      const w = a.w;
      if (w[W.CT_LABEL]! | w[W.CT_LABEL + 2]! | w[W.CT_LABEL + 3]!) seen.label++;
      if (w[W.CT_NW_PROTO] !== 0 && (w[W.CT_IPV6_SRC]! | w[W.CT_IPV6_SRC + 3]!) !== 0) seen.v6Tuple++;
      if (w[W.CT_NW_PROTO] === 1 || w[W.CT_NW_PROTO] === 58) seen.icmpTuple++;
      if (x.tupleWritten && !x.hasOriginal) seen.untracked++;
      // process_one_fast: the only path that writes no tuple.
      if (!x.tupleWritten) seen.fast++;
    }
    expect(a.ct.formatDump(now, { stats: true }), `packet ${i}`).toEqual(b.ct.formatDump(now, { stats: true }));
  }
}

describe('OvsConntrack.executeWords', () => {
  it("leaves the words, result, frame, counters and table that execute and the executor's copies leave", () => {
    fc.assert(
      fc.property(fc.array(pkt, { minLength: 1, maxLength: 30 }), (seq) => check(seq)),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    seen.promised = promises.promised;
    seen.freshKept = promises.freshKept;
    console.log(`ct words property: ${RUNS} runs: ${JSON.stringify(seen)}`);
    expect(promises.stale).toBe(0);
    // Every corner the words entry treats apart from the rest was reached, and compared, many times.
    for (const [k, n] of Object.entries(seen)) expect(n, k).toBeGreaterThan(5);
  }, 180_000);

  it("leaves on the first pool slot's words (FIRST_WORDS, written through the engine's constant) what execute leaves", () => {
    // The engine writes the mark, label and tuple through its module constant when the words are that slot (no bounds
    // checks): the same property on that array; counted, the tuple writes made through the constant and the mark writes
    // (setMarkWords) made on that slot after them (calls not hidden).
    const inner = P.writeMetaWords!;
    const innerMark = P.setMarkWords!;
    let onFirst = 0;
    let marksOnFirst = 0;
    P.writeMetaWords = function (this: { ow: Uint32Array; hideOut: boolean }, ...a: unknown[]) {
      if (this.ow === FIRST_WORDS && this.hideOut !== true) onFirst++;
      return inner.apply(this, a);
    };
    P.setMarkWords = function (this: { ow: Uint32Array; hideOut: boolean }, ...a: unknown[]) {
      if (this.ow === FIRST_WORDS && this.hideOut !== true) marksOnFirst++;
      return innerMark.apply(this, a);
    };
    try {
      fc.assert(
        fc.property(fc.array(pkt, { minLength: 1, maxLength: 30 }), (seq) => check(seq, undefined, true)),
        { numRuns: Math.max(50, RUNS >> 1), ...(SEED !== undefined ? { seed: SEED } : {}) },
      );
    } finally {
      P.writeMetaWords = inner;
      P.setMarkWords = innerMark;
    }
    console.log(`ct words property on FIRST_WORDS: ${onFirst} tuple writes through the constant, ${marksOnFirst} mark writes on the slot`);
    expect(onFirst).toBeGreaterThan(100);
    expect(marksOnFirst).toBeGreaterThan(20);
  }, 180_000);

  it('keeps no fingerprint of a numbered call: a new generation without `fresh` extracts the key again; execute keeps one', () => {
    // What a numbered caller's call leaves (executeWords' `gen`): the kept key for the same generation, and no
    // fingerprint — its next call after a write (a new generation) extracts, as OVS does at every ct(). A call without a
    // generation (execute) fingerprints the packet, so that its next call on the unchanged packet reuses the key.
    const proto = OvsConntrack.prototype as unknown as { extractKey(...a: unknown[]): number };
    const inner = proto.extractKey;
    let extracted = 0;
    proto.extractKey = function (this: unknown, ...a: unknown[]): number {
      extracted++;
      return inner.apply(this, a);
    };
    try {
      const ct = new OvsConntrack({ sweepIntervalMs: 0 });
      const f = frame({ src: V4.clients[0]!, dst: V4.vip, proto: 'tcp', sport: 40000, dport: 80, flags: F.SYN, seq: 1000 });
      const d = new DecodedFrame();
      new FrameDecoder().decode(f, d, f.length);
      const req = new CtRequest();
      req.zone = 1;
      const res = new CtResult();
      res.packet = 1;
      const w = new Uint32Array(W.SIZE);
      w[W.ETH_TYPE] = 0x800;
      const calls: number[] = [];
      ct.executeWords(f, f.length, d, req, res, w, 1000, 7, true);
      calls.push(extracted);
      ct.executeWords(f, f.length, d, req, res, w, 1000, 7, false);
      calls.push(extracted);
      ct.executeWords(f, f.length, d, req, res, w, 1000, 8, false);
      calls.push(extracted);
      ctWordsToResult(w, res);
      ct.execute(f, f.length, d, req, res, 1000);
      calls.push(extracted);
      ct.execute(f, f.length, d, req, res, 1000);
      calls.push(extracted);
      // fresh: extracted; the same generation: the kept key; another generation: extracted (no fingerprint to compare);
      // execute after it: extracted (none either); execute again: the fingerprint it left matches.
      expect(calls).toEqual([1, 1, 2, 3, 3]);
      expect(res.state & CtState.NEW).not.toBe(0);
    } finally {
      proto.extractKey = inner;
    }
  });

  it("starts a hidden call's label write from the connection's label, not from a recycled slot's", () => {
    // The generated runs seldom reuse a labelled slot: a connection labelled, flushed, its slot taken by a new
    // connection whose hidden commit writes part of the label (the rest must be the new connection's 0s).
    const c = (label: number, commit: boolean, hiddenAfter: boolean): Call => ({ zone: 1, commit, force: false, nat: 'none', backend: 0, port: false, mark: 0, label, before: 'none', hiddenAfter });
    const p = (client: number, dt: number, calls: Call[]): Pkt => ({ v6: false, proto: 'tcp', client, sport: 40000 + client, backend: 0, reply: false, flags: F.SYN, icmpCode: 0, dt, calls });
    check([p(0, 0, [c(0xffffffff, true, false)]), p(1, 10, [c(9, true, true)]), p(1, 10, [c(0, false, false)])], (ct, i) => {
      if (i === 1) expect(ct.flush()).toBe(1);
    });
  });
});

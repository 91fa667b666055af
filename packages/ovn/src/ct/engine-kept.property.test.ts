/**
 * The packet's kept key (engine.ts: what a ct() call keeps of the packet's key for the packet's next call — keepKey
 * after an extraction, hintedTcp4's own store, noteNat's after NAT — read back by reuseKey, samePacket, hintedTcp4 and
 * lookedTcp4) against a plain engine. A kept key not updated where it should be is reused only under a caller's
 * promise (samePacket compares the packet with it, and a stale word fails that compare): executeWords' frame
 * generation, executeHinted's `next`. So one engine runs the packets as the executor drives it, call by call in any
 * mix — executeWords on the frame generation (`fresh` or not), executeHinted with the node an earlier call found for
 * this key (`keyed`), any node found before, none, or a hint of another epoch (lookedTcp4), `next` and `fresh` as the
 * executor gives them, execute — on a frame in one of two buffers rewritten for each packet (the engine sees the same
 * object with other bytes) or in a new buffer, one decode object throughout; the other engine runs plain execute on a
 * copy of each packet. The packets come from few addresses and ports (a stale word then names another live
 * connection): clients to a VIP or straight to a backend, the backends' replies, TCP conversations that follow their
 * sequence numbers (or not), UDP, ICMP echo and errors, through 1–5 calls in two zones with commit, NAT (apply, DNAT
 * to a backend with or without a port, SNAT to the VIP), and between calls the ct fields hidden (a chassis between
 * zones) or the source port rewritten (a flow's write: a new generation, no `next`). After every call the ct words,
 * state, zone, rewritten flag, frame bytes and counters must be equal; after every packet, the tables.
 * Seeds: fast-check prints the seed and the shrunk packets of a failure; VIPPATH_CT_PROP_SEED replays,
 * VIPPATH_CT_KEPT_RUNS sets the runs (default 500).
 */
import fc from 'fast-check';
import { checksumAdjust16, DecodedFrame, FrameDecoder, L3, read16, write16 } from '@vippath/wire';
import { describe, expect, it } from 'vitest';
import { CtNat, CtRequest, CtResult } from '../lflow/ct-api.js';
import { ctResultToWords, ctWordsToResult } from '../lflow/ct-words.js';
import { W } from '../lflow/fields.js';
import { OvsConntrack } from './engine.js';
import { checkPromises, F, frame, hideCtWords, icmpError, settleHinted, tupleView, type TupleView } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const RUNS = Number(process.env.VIPPATH_CT_KEPT_RUNS ?? 500);

const CLIENTS = ['10.0.0.1', '10.0.0.2'];
const VIP = '10.96.0.10';
const BACKENDS = ['10.1.0.5', '10.1.0.6'];
const SPORTS = [40000, 40001];

type Mode = 'words' | 'hinted' | 'plain';
interface Call {
  zone: number;
  commit: boolean;
  nat: 'none' | 'apply' | 'dnat' | 'snat';
  backend: number;
  port: boolean;
  before: 'none' | 'hide' | 'rewrite';
  hiddenAfter: boolean;
  mode: Mode;
  /** The hint: below 150 none, below 300 of another epoch, below 800 keyed, below 900 the same unkeyed, else any node. */
  hint: number;
  next: boolean;
  fresh: boolean;
}
type Kind = 'script' | 'syn' | 'ack' | 'data' | 'fin' | 'rst';
interface Pkt {
  proto: 'tcp' | 'udp' | 'icmp' | 'error';
  /** One of the run's two flows (they differ in one field: see Vary). */
  flow: 0 | 1;
  fromServer: boolean;
  kind: Kind;
  /** The frame's buffer on the engine under test: one of two reused ones, or a new one. */
  buf: 0 | 1 | 2;
  /**
   * 0: each call's own entry and flags; 1: a replay as the executor makes it (executeHinted on every call, the node the
   * key found before `keyed`, `fresh` first and `next` after); 2: the same with hints of another epoch (lookedTcp4).
   */
  replay: 0 | 1 | 2;
  dt: number;
  /** The packet's own calls, else (false) the run's pipeline's: every packet of a flow then meets the same zones. */
  own: boolean;
  calls: Call[];
}

const call: fc.Arbitrary<Call> = fc.record({
  zone: fc.constantFrom(1, 1, 2),
  commit: fc.boolean(),
  nat: fc.constantFrom<Call['nat']>('none', 'apply', 'apply', 'apply', 'dnat', 'dnat', 'snat'),
  backend: fc.integer({ min: 0, max: 1 }),
  port: fc.boolean(),
  before: fc.constantFrom<Call['before']>('none', 'none', 'none', 'hide', 'rewrite'),
  hiddenAfter: fc.constantFrom(false, false, false, true),
  mode: fc.constantFrom<Mode>('words', 'words', 'hinted', 'hinted', 'hinted', 'hinted', 'plain'),
  hint: fc.integer({ min: 0, max: 999 }),
  next: fc.constantFrom(true, true, true, false),
  fresh: fc.constantFrom(false, false, false, true),
});
const pkt: fc.Arbitrary<Pkt> = fc.record({
  proto: fc.constantFrom<Pkt['proto']>('tcp', 'tcp', 'tcp', 'tcp', 'tcp', 'udp', 'icmp', 'error'),
  flow: fc.constantFrom<Pkt['flow']>(0, 1),
  fromServer: fc.boolean(),
  kind: fc.constantFrom<Kind>('script', 'script', 'script', 'script', 'script', 'script', 'syn', 'ack', 'data', 'fin', 'rst'),
  buf: fc.constantFrom<Pkt['buf']>(0, 0, 1, 2),
  replay: fc.constantFrom<Pkt['replay']>(0, 0, 1, 2, 2),
  dt: fc.constantFrom(0, 0, 0, 10, 1000, 400_000, -100),
  own: fc.constantFrom(false, false, false, true),
  calls: fc.array(call, { minLength: 1, maxLength: 5 }),
});

/** A TCP conversation's next sequence numbers and step (of SCRIPT). */
interface Flow {
  c: number;
  s: number;
  step: number;
}
/** A conversation: [from the server, flags, payload bytes]; then again from a new SYN. */
const SCRIPT: [boolean, number, number][] = [
  [false, F.SYN, 0],
  [true, F.SYN | F.ACK, 0],
  [false, F.ACK, 0],
  [false, F.ACK | F.PSH, 20],
  [true, F.ACK, 0],
  [true, F.ACK | F.PSH, 20],
  [false, F.ACK, 0],
  [false, F.FIN | F.ACK, 0],
  [true, F.FIN | F.ACK, 0],
  [false, F.ACK, 0],
];

/**
 * The field the run's two flows differ in (client, client port, server port, backend, to the VIP or straight to the backend): a
 * kept key with one stale word then names the other flow's connection, which the lookup finds.
 */
type Vary = 'client' | 'sport' | 'dport' | 'backend' | 'direct';

function build(p: Pkt, vary: Vary, flows: Map<number, Flow>): Uint8Array {
  const one = p.flow === 1;
  const client = CLIENTS[vary === 'client' && one ? 1 : 0]!;
  const backend = BACKENDS[vary === 'backend' && one ? 1 : 0]!;
  const sport = SPORTS[vary === 'sport' && one ? 1 : 0]!;
  const server = vary === 'direct' && one ? backend : VIP;
  const port = vary === 'dport' && one ? 8080 : 80;
  if (p.proto === 'udp' || p.proto === 'icmp') {
    const [src, dst] = p.fromServer ? [backend, client] : [client, server];
    if (p.proto === 'udp') return frame({ src, dst, proto: 'udp', sport: p.fromServer ? port : sport, dport: p.fromServer ? sport : port, payload: 8 });
    return frame({ src, dst, proto: 'icmp', icmpType: p.fromServer ? 0 : 8, icmpId: sport & 0xff });
  }
  if (p.proto === 'error') {
    // A backend's error about the client's segment to it (after DNAT): related to that connection.
    return icmpError(frame({ src: client, dst: backend, proto: 'tcp', sport, dport: 80, flags: F.ACK, seq: 1000, ack: 5000 }), backend);
  }
  let fl = flows.get(p.flow);
  if (fl === undefined) flows.set(p.flow, (fl = { c: 1000, s: 50_000, step: 0 }));
  let fromServer = p.fromServer;
  let flags: number;
  let payload = 0;
  if (p.kind === 'script') {
    const st = SCRIPT[fl.step]!;
    fromServer = st[0];
    flags = st[1];
    payload = st[2];
    fl.step = (fl.step + 1) % SCRIPT.length;
    if (fl.step === 0) {
      fl.c += 100_000;
      fl.s += 100_000;
    }
  } else {
    flags = { syn: F.SYN, ack: F.ACK, data: F.ACK | F.PSH, fin: F.FIN | F.ACK, rst: F.RST | F.ACK }[p.kind];
    if (p.kind === 'data') payload = 20;
  }
  const seq = fromServer ? fl.s : fl.c;
  const ack = flags & F.ACK ? (fromServer ? fl.c : fl.s) : 0;
  const adv = payload + (flags & (F.SYN | F.FIN) ? 1 : 0);
  if (fromServer) fl.s += adv;
  else fl.c += adv;
  const spec = fromServer
    ? { src: backend, dst: client, proto: 'tcp' as const, sport: port, dport: sport, flags, seq, ack, payload }
    : { src: client, dst: server, proto: 'tcp' as const, sport, dport: port, flags, seq, ack, payload };
  return frame(spec);
}

function request(c: Call, req: CtRequest): void {
  req.reset();
  req.zone = c.zone;
  req.commit = c.commit;
  if (c.nat !== 'none') {
    req.nat = c.nat === 'apply' ? CtNat.APPLY : c.nat === 'dnat' ? CtNat.DNAT : CtNat.SNAT;
    if (c.nat !== 'apply') {
      req.commit = true;
      const to = c.nat === 'dnat' ? BACKENDS[c.backend]! : VIP;
      // The address's bytes as the frame builder lays them out (IPv4 at 14 + 12).
      req.natAddrMin.set(frame({ src: to, dst: to, proto: 'udp', sport: 1, dport: 1 }).subarray(26, 30));
      req.natAddrMax.set(req.natAddrMin);
      if (c.port) req.natPortMin = req.natPortMax = c.nat === 'dnat' ? 8080 : 0;
    }
  }
}

/** The frame generations handed out (executeWords' `gen`), over all runs: each a number given once. */
let gens = 0;

/** A flow's write of the TCP/UDP source port (+1), its checksum adjusted; false where the packet has none. */
function rewritePort(f: Uint8Array, d: DecodedFrame, decoder: FrameDecoder, len: number): boolean {
  if (d.l4Offset < 0 || (d.ipProto !== 6 && d.ipProto !== 17) || d.ipFragment) return false;
  const l4 = d.l4Offset;
  const old = read16(f, l4);
  const now = (old + 1) & 0xffff;
  write16(f, l4, now);
  const c = l4 + (d.ipProto === 6 ? 16 : 6);
  const sum = read16(f, c);
  if (!(d.ipProto === 17 && sum === 0)) write16(f, c, checksumAdjust16(sum, old, now));
  decoder.decode(f, d, len);
  return true;
}

/** Corners reached over all runs (asserted below), counted by wrappers of the engine's own functions. */
const seen = { calls: 0, replayed: 0, words: 0, hinted: 0, plain: 0, hintedKnown: 0, hintedFresh: 0, hintedExtracted: 0, lookedKnown: 0, lookedNext: 0, lookedFresh: 0, keptByNat: 0, reusedBuffer: 0, newBuffer: 0, rewritten: 0, hidden: 0 };
const promises = checkPromises();
type Private = { hintedTcp4(...a: unknown[]): boolean; lookedTcp4(...a: unknown[]): boolean; nextTcp4(...a: unknown[]): boolean; noteNat(): boolean; noteKey(...a: unknown[]): void };
const P = OvsConntrack.prototype as unknown as Private;
const hintedTcp4 = P.hintedTcp4;
P.hintedTcp4 = function (this: unknown, ...a: unknown[]): boolean {
  const r = hintedTcp4.apply(this, a);
  // A rewriting call keeps the rewritten packet's key: hintedTcp4 stores it in its rewrite, or noteKey's NAT part.
  if (r && (a[3] as CtResult).rewritten) seen.keptByNat++;
  // Arguments 7 and 8: `known` (the kept key taken), `fresh`; neither (and no sameness found): the key stored afresh.
  if (r && a[7] === true) seen.hintedKnown++;
  if (r && a[8] === true) seen.hintedFresh++;
  if (r && a[7] !== true) seen.hintedExtracted++;
  return r;
};
const lookedTcp4 = P.lookedTcp4;
P.lookedTcp4 = function (this: { xState: number; xFrame: unknown; xDecoded: unknown }, ...a: unknown[]): boolean {
  const known = a[5] === true && this.xState !== -1 && a[0] === this.xFrame && a[1] === this.xDecoded;
  const r = lookedTcp4.apply(this, a);
  if (r && known) seen.lookedKnown++;
  if (r && !known) seen.lookedFresh++;
  return r;
};
// lookedTcp4's known calls nextTcp4 took (argument 7, `looked`): the segment kept by the packet's earlier call.
const nextTcp4 = P.nextTcp4;
P.nextTcp4 = function (this: unknown, ...a: unknown[]): boolean {
  const r = nextTcp4.apply(this, a);
  if (r && a[7] === true) seen.lookedNext++;
  return r;
};
const noteNat = P.noteNat;
P.noteNat = function (this: unknown): boolean {
  const r = noteNat.apply(this);
  if (r) seen.keptByNat++;
  return r;
};
// noteKey's NAT part (noteNat's steps written out in it).
const noteKey = P.noteKey;
P.noteKey = function (this: { natNode: number }, ...a: unknown[]): void {
  if (a[3] !== false && (a[2] as CtResult).rewritten === true && this.natNode >= 0) seen.keptByNat++;
  noteKey.apply(this, a);
};

/** A hint as recorded: the node a call found, its generation, the engine's epoch then. */
type Hint = [number, number, number];

/**
 * The engine under test, driven as the executor drives it: the ct fields in flow words, one result and one decode
 * object, the frame in a reused buffer or a new one, a frame generation moved by each packet and each write.
 */
class Hot {
  readonly ct: OvsConntrack;
  readonly decoder = new FrameDecoder();
  readonly d = new DecodedFrame();
  readonly res = new CtResult();
  readonly w = new Uint32Array(W.SIZE);
  readonly bufs = [new Uint8Array(256), new Uint8Array(256)];
  f = new Uint8Array(0);
  len = 0;
  gen = 0;
  /** The engine's previous call was on this packet and nothing but the engine wrote it since (executeHinted's `next`). */
  onPacket = false;
  /** What a call found for a key (its tuple, zone, entry ct_state and zone): the `keyed` hint for the next such call. */
  readonly byKey = new Map<string, Hint>();
  readonly found: Hint[] = [];
  /** The original tuple a call that found a node wrote (what a hinted call that finds it may leave unwritten). */
  readonly tuples = new Map<string, TupleView>();
  private readonly scratch = new CtResult();

  constructor(options: ConstructorParameters<typeof OvsConntrack>[0]) {
    this.ct = new OvsConntrack(options);
    this.res.packet = 1;
  }

  start(f: Uint8Array, buf: 0 | 1 | 2): void {
    this.len = f.length;
    if (buf === 2) {
      this.f = new Uint8Array(f.length + 8);
      seen.newBuffer++;
    } else {
      this.f = this.bufs[buf]!;
      this.f.fill(0);
      seen.reusedBuffer++;
    }
    this.f.set(f);
    this.decoder.decode(this.f, this.d, this.len);
    this.w.fill(0);
    this.w[W.ETH_TYPE] = this.d.l3 === L3.IPV4 ? 0x800 : 0;
    this.res.reset();
    this.gen = ++gens;
    this.onPacket = false;
  }

  rewrite(): boolean {
    if (!rewritePort(this.f, this.d, this.decoder, this.len)) return false;
    this.gen = ++gens;
    this.onPacket = false;
    return true;
  }

  private key(zone: number): string {
    const d = this.d;
    return `${d.l3}/${d.ipProto}/${d.ipSrc}:${d.srcPort}>${d.ipDst}:${d.dstPort}|${zone}|${this.w[W.CT_STATE]}|${this.res.zone}`;
  }

  /** `replay`: the packet's (Pkt.replay). */
  call(c: Call, k: number, req: CtRequest, now: number, replay: 0 | 1 | 2): void {
    const ct = this.ct;
    const key = this.key(c.zone);
    const res = this.res;
    const w = this.w;
    if (replay !== 0) {
      // The executor's replay of a walk: every call hinted, `fresh` first, `next` after (nothing writes the packet
      // between its calls here: a rewrite before a call breaks `next`), `keyed` with the node the key found before.
      seen.replayed++;
      ctWordsToResult(w, res);
      const recorded = this.byKey.get(key);
      const hint: Hint = replay === 2 ? [-1, 0, ct.epoch + 1_000_000] : (recorded ?? [-1, 0, ct.epoch]);
      const entry = tupleView(res);
      ct.executeHinted(this.f, this.len, this.d, req, res, now, hint[0], hint[1], hint[2], k > 0 && this.onPacket, k === 0, replay === 1 && recorded !== undefined);
      settleHinted(ct, res, hint, entry, this.tuples.get(hint.join('/')));
      ctResultToWords(res, w);
    } else if (c.mode === 'words') {
      seen.words++;
      ct.executeWords(this.f, this.len, this.d, req, res, w, now, this.gen, k === 0 || c.fresh, c.hiddenAfter);
    } else {
      ctWordsToResult(w, res);
      if (c.mode === 'plain') {
        seen.plain++;
        ct.execute(this.f, this.len, this.d, req, res, now);
      } else {
        seen.hinted++;
        const h = c.hint;
        const recorded = this.byKey.get(key);
        const any = this.found.length > 0 ? this.found[h % this.found.length] : undefined;
        let hint: Hint = [-1, 0, ct.epoch];
        let keyed = false;
        if (h < 150) hint = [-1, 0, ct.epoch];
        // Another epoch: a walk template's steps (lookedTcp4 under `next` or `fresh`).
        else if (h < 300) hint = [recorded?.[0] ?? -1, recorded?.[1] ?? 0, ct.epoch + 1_000_000];
        else if (h < 900) {
          if (recorded !== undefined) hint = recorded;
          keyed = h < 800 && recorded !== undefined;
        } else if (any !== undefined) hint = any;
        const entry = tupleView(res);
        const next = k > 0 && this.onPacket && c.next;
        ct.executeHinted(this.f, this.len, this.d, req, res, now, hint[0], hint[1], hint[2], next, k === 0 || c.fresh, keyed);
        settleHinted(ct, res, hint, entry, this.tuples.get(hint.join('/')));
      }
      ctResultToWords(res, w);
    }
    this.onPacket = true;
    const node = ct.foundNode;
    const found: Hint = [node, ct.foundGen, ct.epoch];
    if (node >= 0 && !c.hiddenAfter) {
      ctWordsToResult(w, this.scratch);
      this.tuples.set(found.join('/'), tupleView(this.scratch));
    }
    // Only hints whose tuple is known (a hidden call leaves it unwritten): a hinted call finding the node may leave it.
    if (node < 0 || this.tuples.has(found.join('/'))) {
      this.byKey.set(key, found);
      if (node >= 0) this.found.push(found);
    }
  }
}

/** The plain engine: execute on a copy of each packet, the ct fields copied as the executor does for any engine. */
class Plain {
  readonly ct: OvsConntrack;
  readonly decoder = new FrameDecoder();
  readonly d = new DecodedFrame();
  readonly res = new CtResult();
  readonly w = new Uint32Array(W.SIZE);
  f = new Uint8Array(0);

  constructor(options: ConstructorParameters<typeof OvsConntrack>[0]) {
    this.ct = new OvsConntrack(options);
    this.res.packet = 1;
  }

  start(f: Uint8Array): void {
    this.f = f.slice();
    this.decoder.decode(this.f, this.d, this.f.length);
    this.w.fill(0);
    this.w[W.ETH_TYPE] = this.d.l3 === L3.IPV4 ? 0x800 : 0;
    this.res.reset();
  }

  call(req: CtRequest, now: number): void {
    ctWordsToResult(this.w, this.res);
    this.ct.execute(this.f, this.f.length, this.d, req, this.res, now);
    ctResultToWords(this.res, this.w);
  }
}

function check(opts: Opts, seq: Pkt[]): void {
  const options = { sweepIntervalMs: 0, tcpSequenceCheck: opts.seqCheck, maxConnections: opts.maxConnections };
  const a = new Hot(options);
  const b = new Plain(options);
  const flows = new Map<number, Flow>();
  const req = new CtRequest();
  let now = 1000;
  for (let i = 0; i < seq.length; i++) {
    const p = seq[i]!;
    now = Math.max(0, now + p.dt);
    const f = build(p, opts.vary, flows);
    a.start(f, p.buf);
    b.start(f);
    const calls = p.own ? p.calls : opts.pipeline;
    for (let k = 0; k < calls.length; k++) {
      const c = calls[k]!;
      const where = `packet ${i} call ${k}`;
      if (c.before === 'hide') {
        hideCtWords(a.w);
        hideCtWords(b.w);
        seen.hidden++;
      } else if (c.before === 'rewrite' && a.rewrite()) {
        rewritePort(b.f, b.d, b.decoder, b.f.length);
        seen.rewritten++;
      }
      request(c, req);
      a.call(c, k, req, now, p.replay);
      b.call(req, now);
      seen.calls++;
      const x = a.res;
      const y = b.res;
      expect([x.state, x.zone, x.rewritten], where).toEqual([y.state, y.zone, y.rewritten]);
      expect([...a.f.subarray(0, a.len)], where).toEqual([...b.f]);
      expect([...a.ct.counters], where).toEqual([...b.ct.counters]);
      if (c.hiddenAfter) {
        // A hidden call (executeWords' `hidden`) leaves the mark, label and tuple words as they may be: cleared after.
        hideCtWords(a.w);
        hideCtWords(b.w);
      } else expect([...a.w], where).toEqual([...b.w]);
    }
    expect(a.ct.formatDump(now, { stats: true }), `packet ${i}`).toEqual(b.ct.formatDump(now, { stats: true }));
  }
}

type Opts = { seqCheck: boolean; maxConnections: number; vary: Vary; pipeline: Call[] };

/**
 * A case per field the two flows differ in (client: the source address, client port: the source port, server port:
 * the destination port, straight to the backend: the destination address), run before the generated ones: each flow
 * opened (a SYN committed in zones 1 and 2), then their ACKs in turn replayed with hints of another epoch — the first
 * call's key extracted and kept by the hinted path (lookedTcp4 `fresh`, hintedTcp4), the second's taken from it
 * (lookedTcp4 under `next`) and looked up in zone 2, where a word left from the other flow's packet finds the other
 * flow's connection.
 */
function example(vary: Vary): [Opts, Pkt[]] {
  // The SYNs committed without NAT (a null NAT's reply keys of one client and server port would clash: nullTuple), the
  // ACKs with `nat` and no commit (a call without `nat` keeps its connection for process_one_fast, which the hinted
  // path then leaves to execute).
  const c = (zone: number, commit: boolean): Call => ({ zone, commit, nat: commit ? 'none' : 'apply', backend: 0, port: false, before: 'none', hiddenAfter: false, mode: 'words', hint: 0, next: true, fresh: false });
  const p = (flow: 0 | 1, kind: Kind, replay: 0 | 2): Pkt => ({ proto: 'tcp', flow, fromServer: false, kind, buf: 0, replay, dt: 0, own: true, calls: [c(1, kind === 'syn'), c(2, kind === 'syn')] });
  return [
    { seqCheck: false, maxConnections: 1000, vary, pipeline: [] },
    [p(0, 'syn', 0), p(1, 'syn', 0), p(0, 'ack', 2), p(1, 'ack', 2), p(0, 'ack', 2), p(1, 'ack', 2)],
  ];
}

describe('OvsConntrack kept key', () => {
  it('gives, on any mix of the executor’s entries, flags and buffers, what plain execute on copies gives', () => {
    fc.assert(
      fc.property(fc.record({ seqCheck: fc.constantFrom(false, false, true), maxConnections: fc.constantFrom(6, 1000), vary: fc.constantFrom<Vary>('client', 'sport', 'dport', 'backend', 'direct'), pipeline: fc.array(call, { minLength: 2, maxLength: 4 }) }), fc.array(pkt, { minLength: 1, maxLength: 40, size: 'max' }), (opts, seq) => check(opts, seq)),
      { numRuns: RUNS, examples: (['client', 'sport', 'dport', 'direct'] as const).map(example), ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    console.log(`ct kept-key property: ${RUNS} runs: ${JSON.stringify(seen)}, words promises ${JSON.stringify(promises)}`);
    expect(promises.stale).toBe(0);
    for (const [k, n] of Object.entries(seen)) expect(n, k).toBeGreaterThan(20);
    expect(promises.promised).toBeGreaterThan(20);
  }, 180_000);
});

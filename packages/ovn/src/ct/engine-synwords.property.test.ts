/**
 * connNotFound's tracker for a TCP commit (engine.ts): the words tcpNewConn made for the engine's previous TCP commit
 * given the same frame generation (the same segment, by WordsConntrackEngine's promise) — a SYN's second commit, zone
 * 4's hidden ct_commit after zone 1's ct_lb_mark commit — copied instead of tcpNewConn's walk. The reference is a
 * second engine whose memo never answers (tcpNewConn for every commit), fed the same packets and calls (executeWords,
 * as the executor calls it). After every call both must hold the same words, result fields, frame bytes and every
 * field of their own but the memo's (the tracker's words among them).
 * The frame is one buffer per side that every packet is written into (as the executor's), so only the generation tells
 * two packets at the same offsets apart: generated segments vary the sequence number, window, options (none, a window
 * scale, MSS and SACK and timestamps around it, a malformed length), flags and payload; calls are OVN's five for a SYN,
 * some dropped, given another zone or a commit, the generation withheld; and between two calls the caller may write
 * another segment into the frame (a new generation, as its contract asks).
 * Seeds: fast-check prints the seed of any failure; VIPPATH_CT_PROP_SEED replays; VIPPATH_CT_PROP_RUNS sets the runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CtRequest } from '../lflow/ct-api.js';
import { W } from '../lflow/fields.js';
import { OvsConntrack } from './engine.js';
import { engineSnapshot, EngineSide, F, frame, hideCtWords, natTo } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const RUNS = process.env.VIPPATH_CT_PROP_RUNS ? Number(process.env.VIPPATH_CT_PROP_RUNS) : 200;

const VIP = '10.96.0.10';
const POD = '10.180.204.4';
const CLIENT = '10.181.1.75';
/** The frame buffer's size: every generated frame fits (14 + 20 + 60 + 40 bytes at most). */
const BUF = 160;

let gens = 0;

/** The memo's generation (the engine's private field). */
interface Inner {
  synGen: number;
}

/** One engine with the executor's objects for it: the frame one buffer that every packet is written into. */
class Side extends EngineSide {
  readonly f = new Uint8Array(BUF);

  constructor(general: boolean) {
    super(new OvsConntrack({ sweepIntervalMs: 0, initialCapacity: 4, reservedCapacity: 64 }));
    // The reference: a memo generation no call is given (−1), whatever is stored into it: tcpNewConn for every commit.
    if (general) Object.defineProperty(this.ct, 'synGen', { get: () => -1, set: () => undefined });
  }

  /** The caller writes `f` into its frame buffer (a new packet: `fresh`, its words cleared). */
  write(f: Uint8Array, fresh: boolean): void {
    this.f.fill(0);
    this.f.set(f);
    this.decoder.decode(this.f, this.d);
    if (fresh) {
      this.w.fill(0);
      this.w[W.ETH_TYPE] = 0x800;
      this.res.packet++;
    }
  }
}

/** The memo under test (synWords, synGen): the reference engine's never answers, so only its fields may differ. */
const noMemo = (field: string): boolean => field.startsWith('syn');

interface Seg {
  flags: number;
  seq: number;
  win: number;
  opts: number[];
  payload: number;
}

interface Call {
  zone: number;
  commit: boolean;
  nat: 'none' | 'apply' | 'dnat';
  hidden: boolean;
  /** Withhold the frame generation (gen 0). */
  noGen: boolean;
  /** Before the call the caller writes this segment into the frame (the same addresses and ports), a new generation. */
  rewrite: Seg | undefined;
}

interface Pkt {
  port: number;
  seg: Seg;
  calls: Call[];
}

const optsArb: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant<number[]>([]),
  fc.integer({ min: 0, max: 16 }).map((s) => [1, 3, 3, s]),
  // Linux's SYN: MSS, SACK permitted, timestamps, NOP, window scale.
  fc.tuple(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 0xffff })).map(([s, ts]) => [2, 4, 5, 0xb4, 4, 2, 8, 10, ts >> 8, ts & 0xff, 0, 1, 0, 0, 0, 0, 1, 3, 3, s]),
  // The scale's option cut short by the header's end, an end-of-list before it.
  fc.constantFrom([1, 1, 1, 3], [0, 3, 3, 7], [3, 2, 9, 1]).map((o) => [...o]),
);

const segArb: fc.Arbitrary<Seg> = fc.record({
  flags: fc.constantFrom(F.SYN, F.SYN, F.SYN, F.SYN | 0xc0, F.SYN | F.FIN, F.ACK, F.PSH | F.ACK),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  win: fc.integer({ min: 0, max: 0xffff }),
  opts: optsArb,
  payload: fc.constantFrom(0, 0, 1, 40),
});

const ovnCalls: Call[] = [
  { zone: 1, commit: false, nat: 'apply', hidden: false, noGen: false, rewrite: undefined },
  { zone: 1, commit: true, nat: 'dnat', hidden: false, noGen: false, rewrite: undefined },
  { zone: 1, commit: true, nat: 'none', hidden: true, noGen: false, rewrite: undefined },
  { zone: 4, commit: false, nat: 'apply', hidden: false, noGen: false, rewrite: undefined },
  { zone: 4, commit: true, nat: 'none', hidden: true, noGen: false, rewrite: undefined },
];

const callArb = (c: Call): fc.Arbitrary<Call | undefined> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(c) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(4, 7).map((zone) => ({ ...c, zone, commit: true })) },
    { weight: 1, arbitrary: fc.constant({ ...c, noGen: true }) },
    { weight: 2, arbitrary: segArb.map((rewrite) => ({ ...c, rewrite })) },
  );

const pktArb: fc.Arbitrary<Pkt> = fc.record({
  port: fc.constantFrom(40000, 40001, 40002),
  seg: segArb,
  calls: fc.tuple(...ovnCalls.map(callArb)).map((cs) => cs.filter((c): c is Call => c !== undefined)),
});

const segFrame = (port: number, s: Seg): Uint8Array =>
  frame({ src: CLIENT, dst: VIP, proto: 'tcp', sport: port, dport: 80, flags: s.flags, seq: s.seq, win: s.win, tcpOptions: s.opts, payload: s.payload });

const seen = { copied: 0, made: 0 };

function request(c: Call, req: CtRequest): void {
  req.reset();
  req.zone = c.zone;
  req.commit = c.commit;
  if (c.nat === 'apply') req.nat = 1;
  else if (c.nat === 'dnat') {
    natTo(req, 'dnat', POD, true);
    req.commit = c.commit;
  }
}

/** Runs the packets through both sides; throws at the first difference. */
function check(pkts: Pkt[]): void {
  const a = new Side(false);
  const b = new Side(true);
  const req = new CtRequest();
  const inner = a.ct as unknown as Inner;
  let now = 1000;
  pkts.forEach((p, i) => {
    now += 1;
    const f = segFrame(p.port, p.seg);
    a.write(f, true);
    b.write(f, true);
    let gen = ++gens;
    p.calls.forEach((c, k) => {
      const where = `packet ${i} call ${k} (zone ${c.zone} ${c.nat}${c.commit ? ' commit' : ''}${c.hidden ? ' hidden' : ''}${c.rewrite ? ' rewritten' : ''})`;
      if (c.rewrite !== undefined) {
        const g = segFrame(p.port, c.rewrite);
        a.write(g, false);
        b.write(g, false);
        gen = ++gens;
      }
      request(c, req);
      const g = c.noGen ? 0 : gen;
      // Counted on the fast side: a connection committed with the memo's generation given (copied) or not.
      const memo = g !== 0 && g === inner.synGen;
      const size = a.ct.size;
      a.ct.executeWords(a.f, a.f.length, a.d, req, a.res, a.w, now, g, k === 0, c.hidden);
      if (a.ct.size > size) {
        if (memo) seen.copied++;
        else seen.made++;
      }
      b.ct.executeWords(b.f, b.f.length, b.d, req, b.res, b.w, now, g, k === 0, c.hidden);
      expect([...a.w], where).toEqual([...b.w]);
      const x = a.res;
      const y = b.res;
      expect([x.state, x.zone, x.rewritten, x.tupleWritten, x.hasOriginal, x.originalIpv6], where).toEqual([y.state, y.zone, y.rewritten, y.tupleWritten, y.hasOriginal, y.originalIpv6]);
      expect([...a.f], where).toEqual([...b.f]);
      expect(engineSnapshot(a.ct, { skip: noMemo }), where).toEqual(engineSnapshot(b.ct, { skip: noMemo }));
      if (c.hidden) {
        hideCtWords(a.w);
        hideCtWords(b.w);
      }
    });
  });
}

describe('OvsConntrack: a TCP commit on the previous commit\'s segment has tcpNewConn\'s tracker', () => {
  it("OVN's SYN calls, the second commit's words copied (fixed example)", () => {
    const before = seen.copied;
    const syn: Seg = { flags: F.SYN, seq: 0x89abcdef, win: 64240, opts: [2, 4, 5, 0xb4, 4, 2, 8, 10, 1, 2, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7], payload: 0 };
    check([
      { port: 40000, seg: syn, calls: ovnCalls },
      { port: 40001, seg: { ...syn, seq: 5, win: 1000, opts: [1, 3, 3, 2] }, calls: ovnCalls },
    ]);
    expect(seen.copied - before).toBe(2);
  });

  it('generated segments and calls', () => {
    fc.assert(
      fc.property(fc.array(pktArb, { minLength: 1, maxLength: 10 }), (pkts) => check(pkts)),
      { numRuns: RUNS, seed: SEED },
    );
    // Both ways reached.
    expect(seen.copied).toBeGreaterThan(0);
    expect(seen.made).toBeGreaterThan(0);
  });
});

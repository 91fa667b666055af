/**
 * freshCommit (engine.ts): a chassis' hidden ct_commit without NAT on the connection the packet's previous call in
 * the zone committed with NAT — OVN's ct_commit after ct_lb_mark's commit, zone 1 on a new connection's SYN — answered
 * without processOne's path (nattedLookup, connUpdate, tcpUpdate's SYN branch, verdict). The reference is that path:
 * a second engine whose freshCommit always declines, fed the same packets and calls (executeWords, as the executor
 * calls it: the frame generation's promise, `fresh` on a packet's first call, `hidden` and the ct words cleared after a
 * hidden call). After every call both engines must hold the same words, result fields, frame bytes and every field of
 * their own — the tables, the tracker's words, the scratch key, the hints, the kept key, the counters.
 * The generated packets: SYNs (and segments with other flags: SYN|ACK, SYN|PSH, a bare ACK, SYN|FIN, RST|ACK; SYN with
 * ECE|CWR) through OVN's calls — ct_lb_mark in zone 1, its DNAT commit to the pod (or to the client itself: a hairpin;
 * or an SNAT commit),
 * the hidden ct_commit, ct_lb_mark and the hidden ct_commit in zone 4 — with calls dropped, moved to the other zone,
 * given NAT, a mark, a label or force, time passing between calls (past the first packet's timeout too), the
 * frame generation withheld (samePacket's compare instead of the promise); and the pod's replies.
 * Seeds: fast-check prints the seed of any failure; VIPPATH_CT_PROP_SEED replays; VIPPATH_CT_PROP_RUNS sets the runs.
 */
import fc from 'fast-check';
import { L3 } from '@vippath/wire';
import { describe, expect, it } from 'vitest';
import { CtRequest } from '../lflow/ct-api.js';
import { W } from '../lflow/fields.js';
import { OvsConntrack } from './engine.js';
import { engineSnapshot, EngineSide, F, frame, hideCtWords, natTo } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const RUNS = process.env.VIPPATH_CT_PROP_RUNS ? Number(process.env.VIPPATH_CT_PROP_RUNS) : 200;

const VIP = '10.96.0.10';
const POD = '10.180.204.4';
const CLIENTS = ['10.181.1.75', '10.181.1.76'];

let gens = 0;

/** One engine with the executor's objects for it. */
class Side extends EngineSide {
  f = new Uint8Array(0);
  gen = 0;

  constructor(general: boolean) {
    // A small pool that grows (and rehashes) in the runs; the reservation small, as the snapshots copy every array.
    super(new OvsConntrack({ sweepIntervalMs: 0, initialCapacity: 4, reservedCapacity: 64 }));
    // The reference: processOne's path always.
    if (general) (this.ct as unknown as { freshCommit: () => boolean }).freshCommit = () => false;
  }

  start(f: Uint8Array): void {
    this.f = f.slice();
    this.decoder.decode(this.f, this.d);
    this.w.fill(0);
    this.w[W.ETH_TYPE] = this.d.l3 === L3.IPV6 ? 0x86dd : 0x800;
    this.res.packet++;
  }

  /** The executor's hideCt after a hidden call. */
  hide(): void {
    hideCtWords(this.w);
  }
}

interface Call {
  zone: number;
  commit: boolean;
  force: boolean;
  nat: 'none' | 'apply' | 'dnat' | 'snat';
  hidden: boolean;
  mark: number;
  label: number;
  /** ms passing before the call. */
  wait: number;
  /** Withhold the frame generation (gen 0: samePacket's compare). */
  noGen: boolean;
}

interface Pkt {
  kind: 'syn' | 'reply';
  client: number;
  port: number;
  flags: number;
  /** DNAT to the client's own address and port: the connection's reply key is its original key. */
  hairpin: boolean;
  calls: Call[];
  dt: number;
}

const ovnCalls: Call[] = [
  { zone: 1, commit: false, force: false, nat: 'apply', hidden: false, mark: 0, label: 0, wait: 0, noGen: false },
  { zone: 1, commit: true, force: false, nat: 'dnat', hidden: false, mark: 0, label: 0, wait: 0, noGen: false },
  { zone: 1, commit: true, force: false, nat: 'none', hidden: true, mark: 0, label: 0, wait: 0, noGen: false },
  { zone: 4, commit: false, force: false, nat: 'apply', hidden: false, mark: 0, label: 0, wait: 0, noGen: false },
  { zone: 4, commit: true, force: false, nat: 'none', hidden: true, mark: 0, label: 0, wait: 0, noGen: false },
];

// A call of OVN's sequence as is (mostly), or changed in one respect.
const callArb = (c: Call): fc.Arbitrary<Call | undefined> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(c) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant({ ...c, zone: c.zone === 1 ? 4 : 1 }) },
    { weight: 1, arbitrary: fc.constantFrom<Call['nat']>('none', 'apply', 'snat').map((nat) => ({ ...c, nat })) },
    { weight: 1, arbitrary: fc.constantFrom(5, 7).map((mark) => ({ ...c, mark })) },
    { weight: 1, arbitrary: fc.constantFrom(9, 3).map((label) => ({ ...c, label })) },
    { weight: 1, arbitrary: fc.constant({ ...c, force: true, commit: true }) },
    { weight: 1, arbitrary: fc.constant({ ...c, hidden: !c.hidden }) },
    { weight: 1, arbitrary: fc.constantFrom(1, 29_000, 31_000, 200_000).map((wait) => ({ ...c, wait })) },
    { weight: 1, arbitrary: fc.constant({ ...c, noGen: true }) },
  );

const synArb: fc.Arbitrary<Pkt> = fc.record({
  kind: fc.constant<'syn'>('syn'),
  client: fc.integer({ min: 0, max: CLIENTS.length - 1 }),
  port: fc.constantFrom(40000, 40000, 40001),
  flags: fc.constantFrom(F.SYN, F.SYN, F.SYN, F.SYN | 0xc0, F.SYN | F.ACK, F.SYN | F.PSH, F.ACK, F.SYN | F.FIN, F.RST | F.ACK),
  hairpin: fc.constantFrom(false, false, false, true),
  calls: fc.tuple(...ovnCalls.map(callArb)).map((cs) => cs.filter((c): c is Call => c !== undefined)),
  dt: fc.constantFrom(1, 1000, 31_000, 200_000),
});

const replyArb: fc.Arbitrary<Pkt> = fc.record({
  kind: fc.constant<'reply'>('reply'),
  client: fc.integer({ min: 0, max: CLIENTS.length - 1 }),
  port: fc.constantFrom(40000, 40001),
  flags: fc.constantFrom(F.SYN | F.ACK, F.ACK, F.RST, F.FIN | F.ACK),
  hairpin: fc.constant(false),
  calls: fc.constant([
    { zone: 4, commit: false, force: false, nat: 'apply', hidden: false, mark: 0, label: 0, wait: 0, noGen: false },
    { zone: 1, commit: false, force: false, nat: 'apply', hidden: false, mark: 0, label: 0, wait: 0, noGen: false },
  ] as Call[]),
  dt: fc.constantFrom(1, 1000),
});

const seen = { calls: 0, fast: 0, declined: 0, hairpin: 0, expired: 0 };

function request(c: Call, p: Pkt, req: CtRequest): void {
  req.reset();
  req.zone = c.zone;
  req.commit = c.commit;
  req.force = c.force;
  if (c.nat === 'apply') req.nat = 1;
  else if (c.nat === 'dnat') {
    natTo(req, 'dnat', p.hairpin ? CLIENTS[p.client]! : POD, true);
    // The hairpin's DNAT to the client's own address and port (its SYN is to that address and port too).
    if (p.hairpin) req.natPortMin = req.natPortMax = p.port;
    req.commit = c.commit;
  } else if (c.nat === 'snat') {
    // A source NAT commit: the kept key's source is then not the original's.
    natTo(req, 'snat', '10.96.0.99', false);
    req.commit = c.commit;
  }
  if (c.mark !== 0) {
    req.setMark = true;
    req.markValue = c.mark;
    req.markMask = c.mark === 5 ? 0xff : 0xffffffff;
  }
  if (c.label !== 0) {
    req.setLabel = true;
    req.labelValue.set([c.label, 0, 7, c.label]);
    req.labelMask.set([0xffffffff, 0, 0xffffffff, c.label === 9 ? 0xf : 0xffffffff]);
  }
}

/** Runs the packets through both sides; throws at the first difference. */
function check(pkts: Pkt[]): void {
  const a = new Side(false);
  const b = new Side(true);
  const req = new CtRequest();
  // Counted on the fast side only: which calls freshCommit answered.
  const fc0 = (a.ct as unknown as { freshCommit: (...x: unknown[]) => boolean }).freshCommit.bind(a.ct);
  let answered = false;
  (a.ct as unknown as { freshCommit: (...x: unknown[]) => boolean }).freshCommit = (...x: unknown[]) => {
    answered = fc0(...x);
    return answered;
  };
  let now = 1000;
  pkts.forEach((p, i) => {
    now += p.dt;
    const c0 = CLIENTS[p.client]!;
    const f =
      p.kind === 'syn'
        ? frame({ src: c0, dst: p.hairpin ? c0 : VIP, proto: 'tcp', sport: p.port, dport: p.hairpin ? p.port : 80, flags: p.flags })
        : frame({ src: POD, dst: c0, proto: 'tcp', sport: 8080, dport: p.port, flags: p.flags });
    a.start(f);
    b.start(f);
    // One frame generation for both sides (the engines keep it).
    a.gen = b.gen = ++gens;
    p.calls.forEach((c, k) => {
      now += c.wait;
      const where = `packet ${i} (${p.kind} ${p.flags}) call ${k} (zone ${c.zone} ${c.nat}${c.hidden ? ' hidden' : ''})`;
      request(c, p, req);
      answered = false;
      const gen = c.noGen ? 0 : a.gen;
      a.ct.executeWords(a.f, a.f.length, a.d, req, a.res, a.w, now, gen, k === 0, c.hidden);
      const sa = engineSnapshot(a.ct);
      b.ct.executeWords(b.f, b.f.length, b.d, req, b.res, b.w, now, c.noGen ? 0 : b.gen, k === 0, c.hidden);
      const sb = engineSnapshot(b.ct);
      seen.calls++;
      if (answered) {
        seen.fast++;
        if (p.hairpin) seen.hairpin++;
      } else if (c.hidden && c.nat === 'none' && k > 0) seen.declined++;
      expect([...a.w], where).toEqual([...b.w]);
      const x = a.res;
      const y = b.res;
      expect([x.state, x.zone, x.rewritten, x.tupleWritten, x.hasOriginal, x.originalIpv6], where).toEqual([y.state, y.zone, y.rewritten, y.tupleWritten, y.hasOriginal, y.originalIpv6]);
      expect([...a.f], where).toEqual([...b.f]);
      expect(sa, where).toEqual(sb);
      if (c.hidden) {
        a.hide();
        b.hide();
      }
    });
  });
}

describe('OvsConntrack: freshCommit answers as processOne', () => {
  it("OVN's SYN calls, then the pod's SYN|ACK (fixed example)", () => {
    const before = seen.fast;
    check([
      { kind: 'syn', client: 0, port: 40000, flags: F.SYN, hairpin: false, calls: ovnCalls, dt: 1 },
      { kind: 'reply', client: 0, port: 40000, flags: F.SYN | F.ACK, hairpin: false, calls: [ovnCalls[3]!, ovnCalls[0]!].map((c) => ({ ...c, commit: false, hidden: false })), dt: 1 },
      { kind: 'syn', client: 1, port: 40000, flags: F.SYN, hairpin: false, calls: ovnCalls, dt: 1 },
    ]);
    expect(seen.fast - before).toBe(2);
  });

  it('generated packets and calls', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 3, arbitrary: synArb }, { weight: 1, arbitrary: replyArb }), { minLength: 1, maxLength: 12 }), (pkts) => check(pkts)),
      { numRuns: RUNS, seed: SEED },
    );
    // The fast answer and its declines both reached, a hairpin's decline among them.
    expect(seen.fast).toBeGreaterThan(0);
    expect(seen.declined).toBeGreaterThan(0);
  });
});

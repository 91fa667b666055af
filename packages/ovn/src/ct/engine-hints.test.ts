/**
 * Lookup hints (engine.ts executeHinted): a call handed a node an earlier call found may skip the hash lookup only
 * where the lookup would find that node. Two engines run the same operations — conversations through a VIP's DNAT
 * and straight to a backend (whose reply key equals a NATed connection's: two live nodes of one key), replies,
 * FIN/RST, marks and labels, time jumps forwards and backwards past the timeouts, sweeps, flushes, pools that grow
 * from one slot, tables full at a few connections — one with plain calls, one with hints: the node its own previous
 * call of the same packet position and tuple found, or any node it found before (any key, any epoch). Every
 * call's outcome, the frame's bytes, the counters and the table must be equal at every step.
 * Seeds: fast-check prints the seed and the shrunk operations of a failure; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv4, parseIPv4 } from '@vippath/wire';
import { CtNat, CtResult, CtState } from '../lflow/ct-api.js';
import { OvsConntrack } from './engine.js';
import { ctView, F, frame, Runner, tupleOf, tupleView, type CtCall, type TupleView } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const RUNS = Number(process.env.VIPPATH_CT_HINT_RUNS ?? 300);

const CLIENTS = ['10.0.0.1', '10.0.0.2'];
const VIP = '10.96.0.10';
const BACKENDS = ['10.1.0.5', '10.1.0.6'];
const SPORTS = [40000, 40001];

type Kind = 'syn' | 'synack' | 'ack' | 'data' | 'fin' | 'rst' | 'synrst';
interface Pkt {
  op: 'pkt';
  client: number;
  sport: number;
  backend: number;
  direct: boolean;
  fromServer: boolean;
  kind: Kind;
  /** Take the flow's next step of a handshake and conversation instead of `kind` (and `fromServer` then). */
  script: boolean;
  seqJitter: number;
  mark: number;
  label: number;
  force: boolean;
  hints: number[];
}
type Op = Pkt | { op: 'time'; ms: number } | { op: 'sweep' } | { op: 'flush'; zone: number | undefined };

const pkt: fc.Arbitrary<Op> = fc.record({
  op: fc.constant('pkt' as const),
  client: fc.constantFrom(0, 0, 0, 1),
  sport: fc.integer({ min: 0, max: SPORTS.length - 1 }),
  backend: fc.constantFrom(0, 0, 0, 1),
  direct: fc.constantFrom(false, false, true),
  fromServer: fc.boolean(),
  kind: fc.constantFrom<Kind>('syn', 'synack', 'ack', 'ack', 'ack', 'ack', 'ack', 'data', 'data', 'data', 'fin', 'rst', 'synrst'),
  script: fc.constantFrom(true, true, true, false),
  seqJitter: fc.constantFrom(0, 0, 0, 0, 0, 1, 70000),
  mark: fc.constantFrom(0, 0, 5),
  label: fc.constantFrom(0, 0, 9),
  force: fc.constantFrom(false, false, false, false, false, true),
  // Per call: below 100 no hint, below 800 the node found by this packet position's last call on the same tuple, else
  // any node found before.
  hints: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 4, maxLength: 4 }),
});
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 20, arbitrary: pkt },
  { weight: 2, arbitrary: fc.constantFrom(100, 1000, 31_000, 61_000, 7_200_000, 90_000_000, -100, -31_000, -7_200_000, -90_000_000).map((ms) => ({ op: 'time' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ op: 'sweep' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, 1, 2).map((zone) => ({ op: 'flush' as const, zone })) },
);
const options = fc.record({
  maxConnections: fc.constantFrom(3, 6, 1000),
  initialCapacity: fc.constantFrom(1, 2, 1024),
  sweepIntervalMs: fc.constantFrom(0, 20_000),
});

/**
 * Counts of hints taken (the node answered without a hash lookup) by execute's lookup and by executeHinted's IPv4 TCP
 * path, to show the property exercises both.
 */
let taken = 0;
let takenTcp4 = 0;
/** Hinted calls that left the original tuple unwritten (found their hint's node), settled by the Runner. */
let tuplesLeft = 0;
/** Hinted calls taken by the IPv4 TCP path with the previous call's key (executeHinted's `next`). */
let takenKnown = 0;
/** Hinted calls taken by the IPv4 TCP path under executeHinted's `keyed` promise (the key compare skipped). */
let takenKeyed = 0;
type Hinted = { hinted(n: number, now: number): number; hintedTcp4(...a: unknown[]): boolean };
const proto = OvsConntrack.prototype as unknown as Hinted;
const hinted = proto.hinted;
proto.hinted = function (this: OvsConntrack, n: number, now: number): number {
  const r = hinted.call(this, n, now);
  if (r >= 0) taken++;
  return r;
};
const hintedTcp4 = proto.hintedTcp4;
proto.hintedTcp4 = function (this: OvsConntrack, ...a: unknown[]): boolean {
  const r = hintedTcp4.apply(this, a);
  if (r) takenTcp4++;
  // Its last argument: the packet's key taken from the previous call's (executeHinted's `next`, kept key).
  if (r && a[7] === true) takenKnown++;
  // Its last: what of the node is known (1, HINT_KEYED: executeHinted's `keyed`).
  if (r && a[9] === 1) takenKeyed++;
  return r;
};

function sameOutcome(a: Runner, b: Runner, fa: Uint8Array, fb: Uint8Array, where: string): void {
  const x = a.res;
  const y = b.res;
  expect(ctView(y), where).toEqual(ctView(x));
  expect([...fb], where).toEqual([...fa]);
  expect([...b.ct.counters], where).toEqual([...a.ct.counters]);
}

function sameTable(a: Runner, b: Runner, where: string): void {
  expect(b.ct.size, where).toBe(a.ct.size);
  expect(b.ct.poolCapacity, where).toBe(a.ct.poolCapacity);
  expect(b.ct.connections(a.now), where).toEqual(a.ct.connections(a.now));
  expect(b.ct.formatDump(a.now, { stats: true }), where).toEqual(a.ct.formatDump(a.now, { stats: true }));
}

/** Runs `ops` through a plain and a hinted engine, comparing at every step. */
function check(opts: { maxConnections: number; initialCapacity: number; sweepIntervalMs: number }, ops: Op[]): void {
  const a = new Runner(opts);
  const b = new Runner(opts);
  // Conversation state per flow (client, port, backend, direct): the next sequence numbers of each side.
  const seqs = new Map<string, { c: number; s: number; step: number }>();
  // Each hint with the tuple its call left, which a hinted call that finds that node may leave unwritten (the
  // Runner settles it; sameOutcome then holds the put-back tuple equal to the plain call's).
  const last = new Map<string, [number, number, number, TupleView, boolean]>();
  const found: [number, number, number, TupleView, boolean][] = [];
  let now = 1000;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    const where = `op ${i} ${JSON.stringify(o)}`;
    if (o.op === 'time') {
      now = Math.max(0, now + o.ms);
      a.now = now;
      b.now = now;
    } else if (o.op === 'sweep') {
      expect(b.ct.sweep(now), where).toBe(a.ct.sweep(now));
    } else if (o.op === 'flush') {
      expect(b.ct.flush(o.zone), where).toBe(a.ct.flush(o.zone));
    } else {
      const c = CLIENTS[o.client]!;
      const sport = SPORTS[o.sport]!;
      const be = BACKENDS[o.backend]!;
      const flow = `${o.client}/${o.sport}/${o.backend}/${o.direct}`;
      const sq = seqs.get(flow) ?? { c: 1000, s: 5000, step: 0 };
      seqs.set(flow, sq);
      let kind = o.kind;
      let fromServer = o.fromServer;
      if (o.script) {
        kind = sq.step === 0 ? 'syn' : sq.step === 1 ? 'synack' : sq.step === 2 ? 'ack' : o.kind === 'data' ? 'data' : 'ack';
        if (sq.step < 3) fromServer = sq.step === 1;
        sq.step++;
      }
      const flags = { syn: F.SYN, synack: F.SYN | F.ACK, ack: F.ACK, data: F.ACK | F.PSH, fin: F.FIN | F.ACK, rst: F.RST | F.ACK, synrst: F.SYN | F.RST }[kind];
      const payload = kind === 'data' ? 10 : 0;
      const spec = fromServer
        ? { src: be, dst: c, proto: 'tcp' as const, sport: 8080, dport: sport, flags, seq: sq.s + o.seqJitter, ack: sq.c, payload }
        : { src: c, dst: o.direct ? be : VIP, proto: 'tcp' as const, sport, dport: o.direct ? 8080 : 80, flags, seq: sq.c + o.seqJitter, ack: sq.s, payload };
      const adv = payload + (flags & (F.SYN | F.FIN) ? 1 : 0);
      if (fromServer) sq.s += adv;
      else sq.c += adv;
      const fa = frame(spec);
      const fb = fa.slice();
      a.res.reset();
      b.res.reset();
      let n = 0;
      const call = (cc: CtCall): number => {
        const pick = o.hints[n]!;
        const t = tupleOf(fb);
        const key = `${n}|${t.src}|${t.dst}|${t.sport}|${t.dport}|${cc.zone}`;
        const hint = pick < 100 ? undefined : pick < 800 ? last.get(key) : found[pick % Math.max(1, found.length)];
        b.hint = hint && [hint[0], hint[1], hint[2]];
        b.hintTuple = hint?.[3];
        // A hint a call with this packet's tuple found in this zone, entered as this one (a NATed packet's lookup is of
        // its reverse: a retransmitted SYN's commit), is executeHinted's `keyed` promise; found[]'s others are not.
        const natted = (b.res.state & (CtState.SNAT | CtState.DNAT)) !== 0 && b.res.zone === cc.zone;
        b.keyed = hint !== undefined && pick < 800 && hint[4] === natted;
        // The packet's calls after its first: the previous call's packet, untouched (executeHinted's `next`), in most.
        b.next = n > 0 && pick % 10 !== 0;
        // A packet's first call, in most: a new packet (executeHinted's `fresh`), so that a hint of another epoch goes
        // to lookedTcp4 (the zone's last made connection, or the lookup) as the first call of a filled slot does.
        b.fresh = n === 0 && pick % 10 !== 0;
        a.call(fa, cc);
        b.call(fb, cc);
        b.hint = undefined;
        sameOutcome(a, b, fa, fb, `${where} call ${n} ${JSON.stringify(cc)}`);
        if (b.ct.foundNode >= 0) {
          const h: [number, number, number, TupleView, boolean] = [b.ct.foundNode, b.ct.foundGen, b.ct.epoch, tupleView(b.res), natted];
          last.set(key, h);
          found.push(h);
        }
        n++;
        return a.res.state;
      };
      const fresh = (s: number) => (s & (CtState.NEW | CtState.INV)) === CtState.NEW;
      const commit = (zone: number, extra: CtCall): CtCall => ({
        zone,
        commit: true,
        ...(o.force ? { force: true } : {}),
        ...(o.mark ? { mark: [o.mark, 0xff] as [number, number] } : {}),
        // A byte in each of the label's four words, each word a different value: a read of one word for another differs.
        ...(o.label ? { label: [[o.label, o.label << 8, o.label << 16, (o.label << 24) >>> 0], [0xff, 0xff00, 0xff0000, 0xff000000]] as [number[], number[]] } : {}),
        ...extra,
      });
      if (fromServer) {
        call({ zone: 2, nat: 'apply' });
        call({ zone: 1, nat: 'apply' });
      } else {
        // OVN's ls_in_lb / ls_in_stateful pattern in the client's zone, then the backend's zone.
        if (fresh(call({ zone: 1, nat: 'apply' }))) call(commit(1, o.direct ? {} : { dnat: `${be}:8080` }));
        if (fresh(call({ zone: 2, nat: 'apply' }))) call(commit(2, {}));
      }
    }
    sameTable(a, b, where);
  }
  tuplesLeft += b.tupleLeft;
}

describe('OvsConntrack lookup hints', () => {
  it('a hinted engine gives the same outcomes, bytes, counters and table as a plain one at every step', () => {
    taken = 0;
    takenTcp4 = 0;
    tuplesLeft = 0;
    takenKnown = 0;
    takenKeyed = 0;
    fc.assert(fc.property(options, fc.array(op, { minLength: 1, maxLength: 80, size: 'max' }), check), { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) });
    // The property is about hints taken, not only refused: by execute's lookup (a hint the IPv4 TCP path leaves to
    // it — force, mark and label writes, an armed process_one_fast cache, a NATed packet's reverse lookup…) and by
    // the IPv4 TCP path itself.
    console.log(`hints taken: ${taken} by execute, ${takenTcp4} by the IPv4 TCP path (${tuplesLeft} leaving the tuple, ${takenKnown} with the previous call's key, ${takenKeyed} keyed)`);
    expect(taken).toBeGreaterThan(RUNS / 10);
    expect(takenTcp4).toBeGreaterThan(RUNS * 2);
    expect(tuplesLeft).toBeGreaterThan(RUNS);
    expect(takenKnown).toBeGreaterThan(RUNS);
    expect(takenKeyed).toBeGreaterThan(RUNS);
  }, 180_000);

  // The case the epoch exists for: a connection straight to the backend commits a reply key a NATed connection's
  // reply key already is; the SYN-ACK's lookup found the NATed one before, and must find the newer one now.
  it('a node a newer connection of the same key stands in front of is no longer taken', () => {
    const C = CLIENTS[0]!;
    const B = BACKENDS[0]!;
    for (const hintOn of [false, true]) {
      const r = new Runner();
      r.run(frame({ src: C, dst: VIP, proto: 'tcp', sport: 40000, dport: 80, flags: F.SYN, seq: 1000 }), { zone: 1, commit: true, dnat: `${B}:8080` });
      const synack = () => frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
      const first = synack();
      expect(r.run(first, { zone: 1, nat: 'apply' }) & CtState.SNAT).toBe(CtState.SNAT);
      const hint: [number, number, number] = [r.ct.foundNode, r.ct.foundGen, r.ct.epoch];
      const epoch = r.ct.epoch;
      r.run(frame({ src: C, dst: B, proto: 'tcp', sport: 40000, dport: 8080, flags: F.SYN, seq: 1000 }), { zone: 1, commit: true });
      expect(r.ct.epoch).not.toBe(epoch);
      r.hint = hintOn ? hint : undefined;
      const again = synack();
      // The newer, un-NATed connection answers: no un-DNAT (which would read SNAT).
      expect(r.run(again, { zone: 1, nat: 'apply' })).toBe(CtState.TRK | CtState.EST | CtState.RPL);
      expect(tupleOf(again).src).toBe(B);
    }
  });

  // Time running backwards: a newer connection of the same key that had expired (so a lookup found the older one,
  // which became the hint) is live again and stands in front.
  it('a hint found while a newer node of its key had expired is not taken once time runs back', () => {
    const C = CLIENTS[0]!;
    const B = BACKENDS[0]!;
    const outcome = (hintOn: boolean) => {
      const r = new Runner();
      r.now = 1000;
      r.run(frame({ src: C, dst: VIP, proto: 'tcp', sport: 40000, dport: 80, flags: F.SYN, seq: 1000 }), { zone: 1, commit: true, dnat: `${B}:8080` });
      r.run(frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 }), { zone: 1, nat: 'apply' });
      r.run(frame({ src: C, dst: VIP, proto: 'tcp', sport: 40000, dport: 80, flags: F.ACK, seq: 1001, ack: 5001 }), { zone: 1, nat: 'apply' });
      // Straight to the backend: its reply key is the NATed connection's; it is in SYN_SENT (30 s).
      r.run(frame({ src: C, dst: B, proto: 'tcp', sport: 40000, dport: 8080, flags: F.SYN, seq: 1000 }), { zone: 1, commit: true });
      r.now = 40_000;
      const ack = () => frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.ACK, seq: 5001, ack: 1001 });
      const late = ack();
      r.run(late, { zone: 1, nat: 'apply' });
      const hint: [number, number, number] = [r.ct.foundNode, r.ct.foundGen, r.ct.epoch];
      expect(tupleOf(late).src).toBe(VIP);
      r.now = 20_000;
      r.hint = hintOn ? hint : undefined;
      const early = ack();
      const state = r.run(early, { zone: 1, nat: 'apply' });
      return { state, tuple: tupleOf(early), counters: [...r.ct.counters] };
    };
    const plain = outcome(false);
    expect(plain.tuple.src).toBe(B);
    expect(outcome(true)).toEqual(plain);
  });

  it('time running backwards starts a new epoch; a hint from another engine is never taken', () => {
    const r = new Runner();
    const other = new Runner();
    r.now = 5000;
    r.run(frame({ src: CLIENTS[0]!, dst: VIP, proto: 'tcp', sport: 40000, dport: 80, flags: F.SYN, seq: 1 }), { zone: 1, commit: true });
    const e = r.ct.epoch;
    r.now = 4000;
    r.run(frame({ src: CLIENTS[0]!, dst: VIP, proto: 'tcp', sport: 40000, dport: 80, flags: F.ACK, seq: 2 }), { zone: 1 });
    expect(r.ct.epoch).not.toBe(e);
    expect(other.ct.epoch).not.toBe(r.ct.epoch);
  });

  /*
   * The IPv4 TCP path (engine.ts hintedTcp4) leaves a call to execute wherever execute does more than the lookup the
   * hint answers: each case below runs a call on a plain engine and the same call, with the hint its own earlier call
   * found, on a hinted one — outcome, bytes, counters, table and the node found must be equal (each fails with the
   * path's guard for it removed).
   */
  const C = CLIENTS[0]!;
  const B = BACKENDS[0]!;
  const syn = () => frame({ src: C, dst: VIP, proto: 'tcp', sport: 40000, dport: 80, flags: F.SYN, seq: 1000 });
  const synack = () => frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 });
  const ack = () => frame({ src: C, dst: VIP, proto: 'tcp', sport: 40000, dport: 80, flags: F.ACK, seq: 1001, ack: 5001 });
  /** A DNATed connection through the VIP in zone 1, established; `extra` runs after. */
  const established = (r: Runner): void => {
    r.now = 1000;
    r.run(syn(), { zone: 1, commit: true, dnat: `${B}:8080` });
    r.run(synack(), { zone: 1, nat: 'apply' });
    r.run(ack(), { zone: 1, nat: 'apply' });
  };
  /** `setup`, then `last` on the packet `f()` with the hint the same calls found on a first pass: plain and hinted alike. */
  const sameAsPlain = (
    setup: (r: Runner) => void,
    f: () => Uint8Array,
    first: CtCall[],
    last: CtCall,
    change?: (f: Uint8Array) => void,
    hintFrom?: { f: () => Uint8Array; calls: CtCall[] },
  ): void => {
    const runs = [false, true].map((hintOn) => {
      // execute's result form whatever VIPPATH_CT_WORDS says: a hinted call is defined against it (tupleWritten is
      // the result form's flag; executeWords writes the tuple into the words always).
      const r = new Runner({}, false);
      setup(r);
      // First pass: the hint for `last` is the node its call found (or, where it made no lookup — the cache
      // answered —, the node the packet's last lookup found: the same key's); or the last node `hintFrom` found.
      const g = (hintFrom?.f ?? f)();
      r.res.reset();
      let hint: [number, number, number] = [-1, 0, 0];
      for (const c of hintFrom?.calls ?? [...first, last]) {
        r.call(g, c);
        if (r.ct.foundNode >= 0) {
          hint = [r.ct.foundNode, r.ct.foundGen, r.ct.epoch];
          r.hintTuple = tupleView(r.res);
        }
      }
      expect(hint[0]).toBeGreaterThanOrEqual(0);
      const h = f();
      change?.(h);
      r.res.reset();
      for (const c of first) r.call(h, c);
      r.hint = hintOn ? hint : undefined;
      r.call(h, last);
      r.hint = undefined;
      return { res: ctView(r.res), bytes: [...h], counters: [...r.ct.counters], table: r.ct.formatDump(r.now, { stats: true }), found: r.ct.foundNode };
    });
    expect(runs[1]).toEqual(runs[0]);
  };

  it('IPv4 TCP path: a bad checksum is counted as execute counts it, not answered from the hint', () => {
    // The TCP checksum's first byte (Ethernet 14 + IPv4 20 + 16).
    sameAsPlain(established, ack, [], { zone: 1, nat: 'apply' }, (f) => (f[50] ^= 0x5a));
    sameAsPlain(established, ack, [], { zone: 1, nat: 'apply' }, (f) => (f[24] ^= 0x5a));
  });

  it("IPv4 TCP path: `next` after a call that kept no key (a bad checksum) checks the packet as execute does", () => {
    // A connection through zone 1 (DNAT) and zone 2, as OVN's ingress and egress pipelines run it. The good ACK's
    // zone-2 call gives the hint and leaves its key kept; the next ACK has a bad TCP checksum: its zone-1 call counts it
    // and keeps no key, so its zone-2 call, promised the previous call's packet, must check it again (INV, counted) —
    // not answer from the good ACK's key, kept for this very buffer, which matches the zone-2 node.
    const before = takenKnown;
    const runs = [false, true].map((hintOn) => {
      const r = new Runner();
      r.now = 1000;
      r.run(syn(), { zone: 1, commit: true, dnat: `${B}:8080` }, { zone: 2, commit: true });
      r.run(synack(), { zone: 2, nat: 'apply' }, { zone: 1, nat: 'apply' });
      const good = ack();
      r.res.reset();
      r.call(good, { zone: 1, nat: 'apply' });
      r.call(good, { zone: 2, nat: 'apply' });
      const hint: [number, number, number] = [r.ct.foundNode, r.ct.foundGen, r.ct.epoch];
      r.hintTuple = tupleView(r.res);
      const states: number[] = [];
      for (const bad of [true, false]) {
        // In the same buffer, as the executor hands each frame over in its own (the kept key's frame).
        const h = good;
        h.set(ack());
        if (bad) h[50] ^= 0x5a;
        r.res.reset();
        r.call(h, { zone: 1, nat: 'apply' });
        r.hint = hintOn ? hint : undefined;
        r.next = hintOn;
        states.push(r.call(h, { zone: 2, nat: 'apply' }));
        r.hint = undefined;
        r.next = false;
      }
      return { states, res: ctView(r.res), counters: [...r.ct.counters], table: r.ct.formatDump(r.now, { stats: true }) };
    });
    expect(runs[0]!.states[0]).toBe(CtState.INV | CtState.TRK);
    expect(runs[1]).toEqual(runs[0]);
    // The good ACK after it: its zone-2 call takes the key its zone-1 call kept.
    expect(takenKnown).toBe(before + 1);
  });

  it('IPv4 TCP path: ct_mark and ct_label writes on an established connection are made as execute makes them', () => {
    // No guard keeps these from the path (finishOne writes them as processOne does): the hinted call must take it.
    const before = takenTcp4;
    // The hint from a call that writes nothing (a first pass writing the same values would hide a write not made).
    const plainFirst = { f: ack, calls: [{ zone: 1, nat: 'apply' as const }] };
    sameAsPlain(established, ack, [], { zone: 1, nat: 'apply', mark: [0x50, 0xf0], label: [[9, 0, 0, 0x80000000], [0xff, 0, 0, 0x80000000]] }, undefined, plainFirst);
    expect(takenTcp4).toBe(before + 1);
    // A second write over the first: the masks keep what they leave out.
    sameAsPlain(
      (r) => {
        established(r);
        r.run(ack(), { zone: 1, nat: 'apply', mark: [0x5, 0xff], label: [[0x77, 0, 0, 0], [0xff, 0, 0, 0]] });
      },
      ack,
      [],
      { zone: 1, nat: 'apply', mark: [0x30, 0xf0], label: [[0x900, 0, 0, 0], [0xf00, 0, 0, 0]] },
      undefined,
      plainFirst,
    );
    expect(takenTcp4).toBe(before + 2);
  });

  it('IPv4 TCP path: every metadata field but the tuple is written over what the result held; the tuple is left as found', () => {
    // The path writes the packet's metadata itself, not through writeMeta: a field it left as it found it keeps the
    // junk below, which execute overwrites. The original tuple is the exception the hinted contract allows (the node
    // found is the hint's: its tuple is the one the hint's call wrote): left as found, tupleWritten false. Both
    // directions (the original node, the reply node), a result seen before and a new one.
    const junk = (res: CtResult): void => {
      res.state = 0;
      res.zone = 0xbeef;
      res.mark = 0xdeadbeef;
      res.label.fill(0xffffffff);
      res.hasOriginal = false;
      res.originalIpv6 = true;
      res.originalSrc.fill(0xff);
      res.originalDst.fill(0xee);
      res.originalProto = 17;
      res.originalSrcPort = 1;
      res.originalDstPort = 2;
      res.tupleWritten = true;
      res.rewritten = true;
    };
    const reply = () => frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.ACK, seq: 5001, ack: 1001 });
    for (const f of [ack, reply]) {
      for (const fresh of [false, true]) {
        const before = takenTcp4;
        const runs = [false, true].map((hintOn) => {
          const r = new Runner();
          established(r);
          r.run(f(), { zone: 1, nat: 'apply', label: [[3, 0, 0, 0], [0xff, 0, 0, 0]] });
          const hint = [r.ct.foundNode, r.ct.foundGen, r.ct.epoch] as const;
          const hintTuple = tupleView(r.res);
          const res = fresh ? new CtResult() : r.res;
          junk(res);
          const entry = tupleView(res);
          const h = f();
          r.decoder.decode(h, r.d);
          r.req.reset();
          r.req.zone = 1;
          r.req.nat = CtNat.APPLY;
          if (hintOn) r.ct.executeHinted(h, h.length, r.d, r.req, res, r.now, hint[0], hint[1], hint[2]);
          else r.ct.execute(h, h.length, r.d, r.req, res, r.now);
          const left = { written: res.tupleWritten, tuple: tupleView(res), found: [r.ct.foundNode, r.ct.foundGen, r.ct.epoch] };
          // What the contract's caller does: the hint's tuple put back.
          if (hintOn) {
            expect(left.found).toEqual([...hint]);
            Object.assign(res, { hasOriginal: hintTuple.hasOriginal, originalIpv6: hintTuple.originalIpv6, originalProto: hintTuple.originalProto, originalSrcPort: hintTuple.originalSrcPort, originalDstPort: hintTuple.originalDstPort, tupleWritten: true });
            res.originalSrc.set(hintTuple.originalSrc);
            res.originalDst.set(hintTuple.originalDst);
          }
          return { res: ctView(res), bytes: [...h], left, entry };
        });
        const where = `${f === ack ? 'original' : 'reply'} node, ${fresh ? 'new' : 'known'} result`;
        expect(takenTcp4, where).toBe(before + 1);
        expect(runs[1]!.left.written, where).toBe(false);
        expect(runs[1]!.left.tuple, where).toEqual(runs[1]!.entry);
        expect(runs[0]!.left.written, where).toBe(true);
        expect(runs[1]!.res, where).toEqual(runs[0]!.res);
        expect(runs[1]!.bytes, where).toEqual(runs[0]!.bytes);
        expect(runs[0]!.res.label, where).toEqual([3, 0, 0, 0]);
      }
    }
  });

  it('IPv4 TCP path: force on a reply expires the connection as execute does', () => {
    sameAsPlain(established, synack, [], { zone: 1, commit: true, force: true }, undefined, { f: synack, calls: [{ zone: 1, nat: 'apply' }] });
  });

  it("IPv4 TCP path: process_one_fast's cache answers a packet's second call in a zone", () => {
    // ct(zone=2) without NAT twice: the second call is the cache's (no second window update).
    sameAsPlain(
      (r) => {
        r.now = 1000;
        r.run(frame({ src: C, dst: B, proto: 'tcp', sport: 40000, dport: 8080, flags: F.SYN, seq: 1000 }), { zone: 2, commit: true });
        r.run(frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 }), { zone: 2 });
      },
      () => frame({ src: C, dst: B, proto: 'tcp', sport: 40000, dport: 8080, flags: F.ACK | F.PSH, seq: 1001, ack: 5001, payload: 10 }),
      [{ zone: 2 }],
      { zone: 2 },
    );
  });

  it('IPv4 TCP path: a packet NATed by an earlier call in the same zone is looked up by its reverse, as execute does', () => {
    // A connection straight to the backend in zone 1 too (the NATed packet's tuple is its original key): a lookup of
    // the translated key would find it; initial_conn_lookup of the NATed packet finds the VIP connection's reply node.
    sameAsPlain(
      (r) => {
        established(r);
        r.run(frame({ src: C, dst: B, proto: 'tcp', sport: 40000, dport: 8080, flags: F.SYN, seq: 1000 }), { zone: 1, commit: true });
        r.run(frame({ src: B, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 }), { zone: 1 });
      },
      ack,
      [{ zone: 1, nat: 'apply' }],
      { zone: 1, nat: 'apply' },
      undefined,
      // The hint: the direct connection's original node.
      { f: () => frame({ src: C, dst: B, proto: 'tcp', sport: 40000, dport: 8080, flags: F.ACK, seq: 1001, ack: 5001 }), calls: [{ zone: 1 }] },
    );
  });

  // noteKey's fingerprint serves samePacket, which a caller that promises (the executor's replays) never asks: a call
  // under a promise leaves none, so a later call without one extracts the key again (as OVS does at every ct()).
  it('IPv4 TCP path: a call under a promise leaves no fingerprint; a later call without one extracts the key', () => {
    type Counted = { extractKey(...a: unknown[]): unknown };
    const cp = OvsConntrack.prototype as unknown as Counted;
    const { extractKey } = cp;
    let extracted = 0;
    const second = (promise: boolean): { extracted: number; state: number } => {
      const r = new Runner({}, false);
      established(r);
      const hint: [number, number, number] = [r.ct.foundNode, r.ct.foundGen, r.ct.epoch];
      r.hintTuple = tupleView(r.res);
      const f = ack();
      r.res.reset();
      r.hint = hint;
      r.fresh = promise;
      const before = takenTcp4;
      r.call(f, { zone: 1, nat: 'apply' });
      expect(takenTcp4).toBe(before + 1);
      r.hint = undefined;
      r.fresh = false;
      extracted = 0;
      cp.extractKey = function (this: OvsConntrack, ...a: unknown[]): unknown {
        extracted++;
        return extractKey.apply(this, a);
      };
      try {
        r.call(f, { zone: 2 });
      } finally {
        cp.extractKey = extractKey;
      }
      return { extracted, state: r.res.state };
    };
    const kept = second(false);
    const promised = second(true);
    expect(kept.extracted).toBe(0);
    expect(promised.extracted).toBe(1);
    expect(promised.state).toBe(kept.state);
  });

  it('IPv4 TCP path: a NATed reply the sums made at commit cannot carry is rewritten field by field, as execute does', () => {
    // A backend whose address is the VIP's with its 16-bit halves swapped: the address's adjustment is a ones'
    // complement zero, which natTcp4 declines for a reply (engine.property.test.ts); the path, which calls natTcp4
    // itself, must then rewrite as natPacket does — not leave the packet as it came.
    const vip = parseIPv4(VIP);
    const sw = formatIPv4(((vip << 16) | (vip >>> 16)) >>> 0);
    const reply = () => frame({ src: sw, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.ACK, seq: 5001, ack: 1001 });
    const setup = (r: Runner): void => {
      r.now = 1000;
      r.run(syn(), { zone: 1, commit: true, dnat: `${sw}:8080` });
      // The connection's second NATed packet: the sums are made.
      r.run(frame({ src: sw, dst: C, proto: 'tcp', sport: 8080, dport: 40000, flags: F.SYN | F.ACK, seq: 5000, ack: 1001 }), { zone: 1, nat: 'apply' });
      r.run(ack(), { zone: 1, nat: 'apply' });
    };
    const before = takenTcp4;
    sameAsPlain(setup, reply, [], { zone: 1, nat: 'apply' });
    expect(takenTcp4).toBe(before + 1);
    const r = new Runner({}, false);
    setup(r);
    const f = reply();
    r.run(f, { zone: 1, nat: 'apply' });
    expect(tupleOf(f)).toEqual({ src: VIP, dst: C, sport: 80, dport: 40000 });
  });
});

/**
 * The server's SYN|ACK on the hinted IPv4 TCP path (engine.ts hintedTcp4): a segment with SYN and ACK from a peer before
 * SYN_SENT has its own written-out form there (tcpUpdate's first-packet branch, the window check and updates after it),
 * which must leave what tcpUpdate's general path leaves. A plain engine (execute: tcpUpdate) and a hinted one get the
 * same generated conversation — a client's SYN committed in one zone or two (plain or DNAT to a backend), the server's
 * SYN|ACK through those zones (hints on the reply node: a fresh call, then `next`, with `keyed` or not), at times a
 * retransmitted or second SYN|ACK (the sender then at SYN_SENT: tcpUpdate's call), then the client's ACK — with window
 * scale options present, absent and in odd layouts (after other options, after an end-of-list, lengths below 2 or
 * above 3, cut short, two of them, shifts above 14) on both sides, the sequence check on and off, and the peers' words
 * at times moved from what tcpNewConn left (the answering peer's seqhi and largest window, so that the ack skew and the
 * window's upper edge are checked and can refuse; the client's seqlo and state). Every call's outcome, the frames'
 * bytes, both zones' tracker words, the connections (with their expirations) and the counters must be equal.
 * Seeds: fast-check prints the seed of any failure; VIPPATH_CT_PROP_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { CtTcpState } from './constants.js';
import { CtState } from '../lflow/ct-api.js';
import { OvsConntrack } from './engine.js';
import { ctView, F, frame, Runner, tupleView, type CtCall, type TupleView } from './packets.test-helpers.js';
import { TCP_PEER, TCP_STRIDE, tcpWscale } from './tcp.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const MAX_ACK = 0xffff + 1500;
const { CLOSED, LISTEN, SYN_SENT, ESTABLISHED, CLOSING, FIN_WAIT_2 } = CtTcpState;

/**
 * tcpUpdate's values, call by call: the plain engine's (execute's tracker call) say whether its window check held, and
 * the hinted engine's calls say whether the written-out form handed a SYN|ACK to it — which it must do exactly where the
 * window check does not hold (a form that declines more costs the call; one that declines less shows as other words).
 */
const updates = vi.hoisted(() => ({ values: [] as number[] }));
vi.mock('./tcp.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('./tcp.js')>();
  return {
    ...m,
    tcpUpdate: (...a: Parameters<typeof m.tcpUpdate>): number => {
      const r = m.tcpUpdate(...a);
      updates.values.push(r);
      return r;
    },
  };
});

/** Calls the hinted path took (hintedTcp4 itself, or through nextTcp4, which hands it a segment whose numbers it has not kept). */
let hintedTaken = 0;
const engineProto = OvsConntrack.prototype as unknown as { hintedTcp4(...a: unknown[]): boolean };
const hintedTcp4 = engineProto.hintedTcp4;
engineProto.hintedTcp4 = function (this: OvsConntrack, ...a: unknown[]): boolean {
  const r = hintedTcp4.apply(this, a);
  if (r) hintedTaken++;
  return r;
};

/**
 * Calls nextTcp4 took itself (a later zone under `next` and `keyed`): the SYN|ACK's update the earlier zone's call kept
 * (TRK) where the zone's six words are the ones that call found, tcpUpdate's call otherwise.
 */
let nextTaken = 0;
const nextProto = OvsConntrack.prototype as unknown as { nextTcp4(...a: unknown[]): boolean };
const nextTcp4 = nextProto.nextTcp4;
nextProto.nextTcp4 = function (this: OvsConntrack, ...a: unknown[]): boolean {
  const before = hintedTaken;
  const r = nextTcp4.apply(this, a);
  if (r && hintedTaken === before) nextTaken++;
  return r;
};

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const shift = fc.constantFrom(0, 2, 7, 14, 15, 255);
/** One option's bytes: window scale in the usual and odd forms, and others around it. */
const piece = fc.oneof(
  shift.map((s) => [3, 3, s]),
  fc.constant([1]),
  fc.constant([2, 4, 5, 0xb4]),
  fc.constant([4, 2]),
  fc.constant([8, 10, 0, 0, 0, 1, 0, 0, 0, 0]),
  // End of the list: nothing after it is read.
  fc.constant([0]),
  // A length below 2 (taken as 2: the next option starts at the shift byte) or above 3.
  shift.map((s) => [3, 0, s]),
  shift.map((s) => [3, 5, s, 0, 0]),
  fc.constant([0x19, 3, 7]),
);
/** A header's option bytes: none, the usual NOP and window scale, or pieces in any order (cut at 40, padded). */
const options = fc.oneof(
  fc.constant<number[] | undefined>(undefined),
  shift.map((s) => [1, 3, 3, s]),
  fc.tuple(fc.array(piece, { maxLength: 6 }), fc.constantFrom(0, 1)).map(([ps, pad]) => {
    const b = ps.flat().slice(0, 40);
    while (b.length % 4 !== 0) b.push(pad);
    return b;
  }),
);
const synAck = fc.record({
  seq: u32,
  // The ack against the client's seqlo (tcpNewConn's: the SYN's sequence number; one past it is the usual).
  ackOff: fc.oneof(
    { arbitrary: fc.constantFrom(1, 1, 0, -1), weight: 2 },
    // The ack skew's edges unscaled (the skew is the client's seqlo less the ack: −ackOff).
    { arbitrary: fc.constantFrom(-MAX_ACK, -MAX_ACK - 1, MAX_ACK, MAX_ACK + 1), weight: 3 },
    { arbitrary: fc.oneof(fc.constant(0x7fffffff), fc.integer({ min: -(1 << 22), max: 1 << 22 })), weight: 2 },
  ),
  win: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.constantFrom(0, 0, 0, 1, 100),
  // At times a bare SYN (a simultaneous open: tcpUpdate's, not the SYN|ACK's path).
  flags: fc.constantFrom(F.SYN | F.ACK, F.SYN | F.ACK, F.SYN | F.ACK, F.SYN | F.ACK | F.PSH, F.SYN | F.ACK | F.URG, F.SYN),
  opts: options,
});
type Mode = 'plain' | 'dnat';
const conversation = fc.record({
  client: fc.record({ seq: u32, win: fc.integer({ min: 0, max: 0xffff }), opts: options }),
  mode: fc.constantFrom<Mode>('plain', 'dnat'),
  zones: fc.constantFrom(1, 2),
  keyed: fc.boolean(),
  seqCheck: fc.constantFrom(true, true, false),
  // The answering peer's words before its first segment, where not tcpNewConn's (seqhi 1, largest window 1, CLOSED).
  // seqhi anywhere; half the number space from the first SYN|ACK's end (where the window's upper edge can refuse:
  // seqhi above the reach, so not moved, and more than 2^31 − 1 past the end); next to the reach (where it stops moving).
  serverHi: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    { arbitrary: u32.map((v) => ({ at: 'abs' as const, v })), weight: 2 },
    { arbitrary: fc.constantFrom(0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001).map((v) => ({ at: 'end' as const, v })), weight: 2 },
    { arbitrary: fc.integer({ min: -2, max: 2 }).map((v) => ({ at: 'reach' as const, v })), weight: 2 },
  ),
  serverWin: fc.option(fc.integer({ min: 1, max: 0xffff }), { nil: undefined, freq: 3 }),
  serverState: fc.constantFrom(CLOSED, CLOSED, CLOSED, LISTEN),
  clientState: fc.constantFrom(SYN_SENT, SYN_SENT, SYN_SENT, ESTABLISHED, CLOSING, FIN_WAIT_2),
  clientLo: fc.option(u32, { nil: undefined, freq: 4 }),
  first: synAck,
  // After the first SYN|ACK: none, the same bytes again (a retransmit), or another SYN|ACK.
  again: fc.constantFrom('none', 'same', 'new'),
  second: synAck,
  // With two zones, at times one of the second zone's six tracker words moved by one (client seqlo, seqhi, packed
  // word, server the same): its SYN|ACK then not the first zone's update (nextTcp4: tcpUpdate's call).
  tweak: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.tuple(fc.integer({ min: 0, max: 5 }), fc.constantFrom(1, -1)), weight: 1 }),
});
type SynAck = typeof synAck extends fc.Arbitrary<infer T> ? T : never;

const CLIENT = '10.0.0.1';
const VIP = '10.1.0.5';
const BACKEND = '10.2.0.7';

describe('the hinted IPv4 TCP path: the server\'s SYN|ACK written out', () => {
  it('leaves what tcpUpdate\'s general path leaves (options, scales, the window check, retransmits, zones)', () => {
    const n = { handed: 0, first: 0, firstValid: 0, firstRefused: 0, scaled: 0, unscaled: 0, seqOff: 0, later: 0, retransmits: 0, kept: 0, keptValid: 0, keptOff: 0 };
    fc.assert(
      fc.property(conversation, (c) => {
        const a = new Runner({ tcpSequenceCheck: c.seqCheck });
        const b = new Runner({ tcpSequenceCheck: c.seqCheck });
        const zones = c.zones === 2 ? [1, 2] : [1];
        const [server, port] = c.mode === 'dnat' ? [BACKEND, 8080] : [VIP, 80];
        const commit = (z: number): CtCall => (z === 1 && c.mode === 'dnat' ? { zone: 1, commit: true, dnat: `${BACKEND}:8080` } : { zone: z, commit: true });
        const syn = frame({ src: CLIENT, dst: VIP, proto: 'tcp', sport: 40000, dport: 80, flags: F.SYN, seq: c.client.seq, win: c.client.win, ...(c.client.opts ? { tcpOptions: c.client.opts } : {}) });
        a.now = b.now = 1000;
        a.run(syn.slice(), ...zones.map(commit));
        b.run(syn.slice(), ...zones.map(commit));
        // Its SYN again, whose lookups find the connections: the hints' nodes, and each zone's original tuple (what a
        // hinted call that leaves it is settled with).
        const hints: [number, number, TupleView][] = [];
        const fa = syn.slice();
        const fb = syn.slice();
        a.res.reset();
        b.res.reset();
        for (const z of zones) {
          a.call(fa, { zone: z, nat: 'apply' });
          b.call(fb, { zone: z, nat: 'apply' });
          hints.push([b.ct.foundNode, b.ct.foundGen, tupleView(b.res)]);
        }
        const entries = hints.map(([node]) => node >> 1);
        const clientLo = c.clientLo ?? c.client.seq;
        const answer = (g: SynAck): Uint8Array =>
          frame({ src: server, dst: CLIENT, proto: 'tcp', sport: port, dport: 40000, flags: g.flags, seq: g.seq, ack: (clientLo + g.ackOff) >>> 0, win: g.win, payload: g.payload, ...(g.opts ? { tcpOptions: g.opts } : {}) });
        const first = answer(c.first);
        // The first SYN|ACK's end and reach (its end plus the client's largest window, scaled when both offer scaling,
        // or unscaled into 16 bits when only the client does), from the client's tracker words as its SYN left them.
        const end = (c.first.seq + c.first.payload + 1) >>> 0;
        const cPk = (b.ct as unknown as { tcp: Uint32Array }).tcp[entries[0]! * TCP_STRIDE + 2]!;
        const cScale = (cPk >>> 16) & 0xff;
        const sScale = tcpWscale(first, 34);
        const cWin = cScale & 0x80 ? ((cPk & 0xffff) << (cScale & 0xf)) & (sScale & 0x80 ? 0xffffffff : 0xffff) : cPk & 0xffff;
        const reach = (end + Math.max(1, cWin)) >>> 0;
        const serverHi = c.serverHi === undefined ? undefined : c.serverHi.at === 'abs' ? c.serverHi.v : ((c.serverHi.at === 'end' ? end : reach) + c.serverHi.v) >>> 0;
        // The generated peer words, in both engines.
        for (const r of [a, b]) {
          const t = (r.ct as unknown as { tcp: Uint32Array }).tcp;
          for (const e of entries) {
            const o = e * TCP_STRIDE;
            const s = o + TCP_PEER;
            if (serverHi !== undefined) t[s + 1] = serverHi;
            if (c.serverWin !== undefined) t[s + 2] = ((t[s + 2]! & 0xffff0000) | c.serverWin) >>> 0;
            t[s + 2] = ((t[s + 2]! & 0x00ffffff) | (c.serverState << 24)) >>> 0;
            if (c.clientLo !== undefined) t[o] = c.clientLo;
            t[o + 2] = ((t[o + 2]! & 0x00ffffff) | (c.clientState << 24)) >>> 0;
          }
          if (c.tweak !== undefined && entries.length === 2) {
            const [w, by] = c.tweak;
            const at = entries[1]! * TCP_STRIDE + (w < 3 ? w : TCP_PEER + w - 3);
            t[at] = (t[at]! + by) >>> 0;
          }
        }
        const tracker = (r: Runner, e: number): number[] => [...(r.ct as unknown as { tcp: Uint32Array }).tcp.subarray(e * TCP_STRIDE, (e + 1) * TCP_STRIDE)];
        let firstWords: number[] = [];
        a.now = b.now = 2000;

        /** One packet through the zones (the server's in reverse order), hinted in b; the outcome checked after each call. */
        const send = (f: Uint8Array, fromServer: boolean, count: boolean): void => {
          const synAckFlags = (f[47]! & (F.SYN | F.ACK)) === (F.SYN | F.ACK);
          const ga = f.slice();
          const gb = f.slice();
          a.res.reset();
          b.res.reset();
          const order = fromServer ? [...zones.keys()].reverse() : [...zones.keys()];
          order.forEach((i, step) => {
            const [node, gen, tuple] = hints[i]!;
            const e = entries[i]!;
            const t = (b.ct as unknown as { tcp: Uint32Array }).tcp;
            const firstSeg = fromServer && synAckFlags && t[e * TCP_STRIDE + TCP_PEER + 2]! >>> 24 < SYN_SENT;
            b.hint = [fromServer ? node | 1 : node & ~1, gen, b.ct.epoch];
            b.hintTuple = tuple;
            b.fresh = step === 0;
            b.next = step > 0;
            b.keyed = c.keyed;
            const before = hintedTaken;
            const nextBefore = nextTaken;
            // The zone's six words against the first zone's before its call (the words its update found).
            const words = tracker(b, e);
            if (step === 0) firstWords = words;
            const ia = updates.values.length;
            a.call(ga, { zone: zones[i]!, nat: 'apply' });
            const aValues = updates.values.slice(ia);
            const ib = updates.values.length;
            b.call(gb, { zone: zones[i]!, nat: 'apply' });
            const bCalls = updates.values.length - ib;
            const taken = hintedTaken > before;
            if (count && firstSeg && taken) {
              // The window check held where tcpUpdate's value moves the expiration (bits 4 and up; its path for a
              // segment outside the window with seqCheck on moves none): then no call of it from the hinted engine.
              expect(aValues.length).toBe(1);
              expect(bCalls).toBe(aValues[0]! >> 4 !== 0 ? 0 : 1);
              if (bCalls !== 0) n.handed++;
              n.first++;
              if (a.res.state & CtState.INV) n.firstRefused++;
              else n.firstValid++;
              if (step > 0) n.later++;
              // Both peers' scale bytes with the option's flag after it: the SYN|ACK's shift applied.
              if (t[e * TCP_STRIDE + 2]! & t[e * TCP_STRIDE + TCP_PEER + 2]! & (0x80 << 16)) n.scaled++;
              else n.unscaled++;
              if (serverHi !== undefined) n.seqOff++;
            }
            if (count && firstSeg && nextTaken > nextBefore) {
              // The first zone's update where the six words are its, in the same cases (tcpUpdate's value moved the
              // expiration: VALID); tcpUpdate's call otherwise.
              expect(aValues.length).toBe(1);
              n.kept++;
              if (words.every((x, j) => x === firstWords[j])) {
                expect(bCalls).toBe(aValues[0]! >> 4 !== 0 ? 0 : 1);
                if (bCalls === 0) n.keptValid++;
              } else {
                expect(bCalls).toBe(1);
                n.keptOff++;
              }
            }
            if (!count && fromServer && taken) n.retransmits++;
            expect(ctView(b.res)).toEqual(ctView(a.res));
            expect([...gb]).toEqual([...ga]);
            for (const x of entries) expect(tracker(b, x)).toEqual(tracker(a, x));
          });
          expect(b.ct.connections(3000)).toEqual(a.ct.connections(3000));
          expect([...b.ct.counters]).toEqual([...a.ct.counters]);
        };
        send(first, true, true);
        if (c.again !== 'none') send(c.again === 'same' ? first : answer(c.second), true, false);
        a.now = b.now = 2100;
        send(frame({ src: CLIENT, dst: VIP, proto: 'tcp', sport: 40000, dport: 80, flags: F.ACK, seq: (c.client.seq + 1) >>> 0, ack: (c.first.seq + 1) >>> 0, win: c.client.win }), false, false);
      }),
      { numRuns: 1500, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    console.log(
      `SYN|ACKs from a peer before SYN_SENT taken by the hinted path: ${n.first} (${n.firstValid} valid, ${n.firstRefused} invalid, ${n.handed} handed to tcpUpdate; ${n.later} in a later zone; ` +
        `${n.scaled} with both scales, ${n.unscaled} without; ${n.seqOff} with the answering peer's seqhi moved); ` +
        `later server segments taken: ${n.retransmits}; first SYN|ACKs nextTcp4 took: ${n.kept} (${n.keptValid} on the first zone's update, ${n.keptOff} with a word moved) (VIPPATH_CT_PROP_SEED replays a seed)`,
    );
    expect(n.first).toBeGreaterThan(800);
    expect(n.firstValid).toBeGreaterThan(400);
    expect(n.firstRefused).toBeGreaterThan(50);
    expect(n.handed).toBeGreaterThan(50);
    expect(n.later).toBeGreaterThan(100);
    expect(n.scaled).toBeGreaterThan(100);
    expect(n.seqOff).toBeGreaterThan(200);
    expect(n.retransmits).toBeGreaterThan(200);
    expect(n.keptValid).toBeGreaterThan(100);
    expect(n.keptOff).toBeGreaterThan(40);
  });
});

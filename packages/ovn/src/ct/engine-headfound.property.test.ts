/**
 * lookupCk's answer from the chain head (engine.ts, `replyA`): a packet that is not a SYN whose IPv4 key is the reply
 * key of the connection committed last is answered without a hash or a walk when that reply node heads its chain, has
 * the key and is live. The reference is lookupKey itself, the walk, asked for the same key at every lookupCk answer.
 * The generated runs build the two situations where the head's answer and the walk's part:
 * - a later connection with the same reply key inserted in front of the candidate: a VIP connection (DNAT to the pod)
 *   and a direct one to the pod from the same client port, committed in turn in one zone (both reply keys pod→client);
 *   the first reply packet takes the newer one from the head, the next finds the older one as candidate behind it;
 * - a connection whose reply key is its original key (a hairpin to the same address and port): the walk answers the
 *   original node.
 * Seeds: fast-check prints the seed of any failure; VIPPATH_CT_PROP_SEED replays; VIPPATH_CT_PROP_RUNS sets the runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { F, frame, Runner, type CtCall } from './packets.test-helpers.js';

const SEED = process.env.VIPPATH_CT_PROP_SEED ? Number(process.env.VIPPATH_CT_PROP_SEED) : undefined;
const RUNS = process.env.VIPPATH_CT_PROP_RUNS ? Number(process.env.VIPPATH_CT_PROP_RUNS) : 300;

const VIP = '10.96.0.10';
const POD = '10.180.204.4';
const CLIENTS = ['10.181.1.75', '10.181.1.76'];
const HAIRPIN = '10.180.204.9';

interface Engine {
  ck: Uint32Array;
  replyA: number;
  lookupCk(now: number): number;
  lookupKey(k: Uint32Array, now: number, h: number, miss: boolean): number;
  hashAt(k: Uint32Array): number;
  buckets: Int32Array;
  links: Int32Array;
  bucketMask: number;
}

/** What the runs reached: head answers, hairpin answers among them, candidates with the key found behind the head. */
interface Seen {
  head: number;
  hairpin: number;
  behind: number;
}

/** Checks every lookupCk answer of `r`'s engine against the walk; counts what was reached in `seen`. */
function checkLookups(r: Runner, seen: Seen, fail: string[]): void {
  const e = r.ct as unknown as Engine;
  const inner = e.lookupCk.bind(e);
  e.lookupCk = (now: number): number => {
    const ra = e.replyA;
    const n = inner(now);
    const ref = e.lookupKey(e.ck, now, e.hashAt(e.ck), false);
    if (n !== ref) fail.push(`lookupCk ${n} ≠ walk ${ref} (candidate ${ra})`);
    if (ra >= 0 && e.replyA !== ra && (n === ra || n === ra - 1)) {
      seen.head++;
      if (n === ra - 1) seen.hairpin++;
    }
    if (ra >= 0 && ref >= 0 && ref !== ra && ref !== ra - 1) {
      // The candidate has the key too but the walk met another node first.
      const k = e.ck;
      const h = e.hashAt(k);
      if (e.links[ra << 1] === h && e.buckets[h & e.bucketMask] !== ra) seen.behind++;
    }
    return n;
  };
}

// `collide`: a VIP SYN and a direct SYN of one client port in turn (the same reply key twice); `replies`: two replies.
type Kind = 'vip-syn' | 'direct-syn' | 'collide' | 'reply' | 'replies' | 'client-ack' | 'hairpin-syn' | 'hairpin-ack' | 'wait';

interface Step {
  kind: Kind;
  client: number;
  port: number;
  /** Which zones the packet passes: both (OVN's order for its direction), zone 1 only, zone 4 only. */
  path: 'both' | 'z1' | 'z4';
  flags: number;
  wait: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom<Kind>('vip-syn', 'direct-syn', 'collide', 'collide', 'reply', 'replies', 'replies', 'client-ack', 'hairpin-syn', 'hairpin-ack', 'wait'),
  client: fc.integer({ min: 0, max: CLIENTS.length - 1 }),
  port: fc.constantFrom(40000, 40000, 40001),
  path: fc.constantFrom<Step['path']>('both', 'both', 'z1', 'z4'),
  flags: fc.constantFrom(F.SYN | F.ACK, F.ACK, F.PSH | F.ACK, F.RST),
  wait: fc.constantFrom(1, 1000, 40_000, 200_000),
});

function calls(path: Step['path'], first: CtCall, second: CtCall): CtCall[] {
  return path === 'both' ? [first, second] : path === (first.zone === 1 ? 'z1' : 'z4') ? [first] : [second];
}

function runStep(r: Runner, s: Step): void {
  const c = CLIENTS[s.client]!;
  switch (s.kind) {
    case 'vip-syn':
      r.run(frame({ src: c, dst: VIP, proto: 'tcp', sport: s.port, dport: 80, flags: F.SYN }), ...calls(s.path, { zone: 1, commit: true, dnat: `${POD}:8080` }, { zone: 4, commit: true }));
      return;
    case 'direct-syn':
      r.run(frame({ src: c, dst: POD, proto: 'tcp', sport: s.port, dport: 8080, flags: F.SYN }), ...calls(s.path, { zone: 1, commit: true }, { zone: 4, commit: true }));
      return;
    case 'collide':
      runStep(r, { ...s, kind: 'vip-syn' });
      runStep(r, { ...s, kind: 'direct-syn' });
      return;
    case 'replies':
      runStep(r, { ...s, kind: 'reply' });
      runStep(r, { ...s, kind: 'reply', flags: F.ACK });
      return;
    case 'reply':
      r.run(frame({ src: POD, dst: c, proto: 'tcp', sport: 8080, dport: s.port, flags: s.flags }), ...calls(s.path, { zone: 4 }, { zone: 1, nat: 'apply' }));
      return;
    case 'client-ack':
      r.run(frame({ src: c, dst: VIP, proto: 'tcp', sport: s.port, dport: 80, flags: s.flags === (F.SYN | F.ACK) ? F.ACK : s.flags }), ...calls(s.path, { zone: 1, nat: 'apply' }, { zone: 4 }));
      return;
    case 'hairpin-syn':
      r.run(frame({ src: HAIRPIN, dst: HAIRPIN, proto: 'tcp', sport: s.port, dport: s.port, flags: F.SYN }), ...calls(s.path, { zone: 1, commit: true }, { zone: 4, commit: true }));
      return;
    case 'hairpin-ack':
      r.run(frame({ src: HAIRPIN, dst: HAIRPIN, proto: 'tcp', sport: s.port, dport: s.port, flags: s.flags }), ...calls(s.path, { zone: 1 }, { zone: 4 }));
      return;
    case 'wait':
      r.now += s.wait;
      return;
  }
}

const base: Omit<Step, 'kind'> = { client: 0, port: 40000, path: 'both', flags: F.SYN | F.ACK, wait: 1 };

describe('OvsConntrack: lookupCk answers from the chain head as the walk does', () => {
  it('a same-key connection inserted in front of the candidate; a hairpin (fixed examples)', () => {
    for (const words of [false, true]) {
      const seen: Seen = { head: 0, hairpin: 0, behind: 0 };
      const fail: string[] = [];
      const r = new Runner({}, words);
      checkLookups(r, seen, fail);
      // The VIP connection, then the direct one with the same reply key, in zone 1: two replies, the second meets the
      // VIP connection's reply node as candidate behind the direct one's.
      for (const s of [
        { ...base, kind: 'vip-syn', path: 'z1' },
        { ...base, kind: 'direct-syn', path: 'z1' },
        { ...base, kind: 'reply', path: 'z1' },
        { ...base, kind: 'reply', path: 'z1', flags: F.ACK },
        { ...base, kind: 'hairpin-syn', path: 'z1' },
        { ...base, kind: 'hairpin-ack', path: 'z1', flags: F.ACK },
      ] as Step[])
        runStep(r, s);
      expect(fail).toEqual([]);
      expect(seen.head).toBeGreaterThanOrEqual(2);
      expect(seen.hairpin).toBe(1);
      expect(seen.behind).toBeGreaterThanOrEqual(1);
    }
  });

  for (const words of [false, true]) {
    it(`generated conversations (${words ? 'executeWords' : 'execute'})`, () => {
      const seen: Seen = { head: 0, hairpin: 0, behind: 0 };
      fc.assert(
        fc.property(fc.array(stepArb, { minLength: 2, maxLength: 30 }), (steps) => {
          const fail: string[] = [];
          const r = new Runner({}, words);
          checkLookups(r, seen, fail);
          steps.forEach((s, i) => {
            runStep(r, s);
            if (fail.length > 0) throw new Error(`step ${i} (${s.kind}): ${fail.join('; ')}`);
          });
        }),
        { numRuns: RUNS, seed: SEED },
      );
      // Each situation reached by the generated runs themselves, not only by the examples.
      expect(seen.head).toBeGreaterThan(0);
      expect(seen.hairpin).toBeGreaterThan(0);
      expect(seen.behind).toBeGreaterThan(0);
    });
  }
});

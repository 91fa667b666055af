/**
 * A new connection's first frame replayed from another connection's walk (megaflow.ts SynTemplate, executor.ts
 * `synLookup`, `replaySyn`, `makeSynTemplate`). Two cached executors on one chassis, one with templates and one
 * without (each its own OvsConntrack), run the same packets: outputs (ports, bytes), drops and the conntrack table
 * must be equal after every packet. The flows make a SYN's walk depend on what a template's key must hold: a load
 * balancer with three backends (the select group's pick hashes the 5-tuple, which the key's masks leave out: a SYN
 * served from another backend's walk would commit the wrong translation), a flow on the client's port (`tcp.src`),
 * one on the original tuple's source port after the balancer's call (`ct_tp_src`: a ct tuple word, put into the
 * key's masks through the key field it equals), one on the TCP flags (a plain SYN apart from SYN|ECE), and up to four
 * calls a walk (more than an established walk's slot holds).
 *
 * Seeds: 20261206 unless VIPPATH_SYN_SEED gives one (`random`: a new one, printed); VIPPATH_SYN_RUNS (default 150).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import { OvsConntrack } from '../ct/engine.js';
import { LflowExecutor } from './executor.js';
import { flowList, oneSwitch, vif } from './switch.test-helpers.js';
import type { SouthboundState } from './types.js';

const SEED_ENV = process.env.VIPPATH_SYN_SEED;
const SEED = SEED_ENV === 'random' ? (Math.random() * 2 ** 31) | 0 : SEED_ENV ? Number(SEED_ENV) : 20261206;
const RUNS = Number(process.env.VIPPATH_SYN_RUNS ?? 150);

/** Backends of the balancer a SYN with TTL 30 takes (10.0.0.2:80 otherwise, untranslated). */
const BACKENDS = [
  { port: 'p3', mac: '00:00:00:00:00:03', ip: '10.0.0.70', tp: 80 },
  { port: 'p3', mac: '00:00:00:00:00:04', ip: '10.0.0.71', tp: 80 },
  { port: 'p4', mac: '00:00:00:00:00:05', ip: '10.0.0.72', tp: 8080 },
] as const;

function southbound(): SouthboundState {
  const { flows, add } = flowList();
  // ct_lb_mark without backends: a connection's NAT in the inport's zone (the first call of every walk).
  add('ingress', 0, 0, '1', 'ct_lb_mark;');
  add('ingress', 1, 20, 'ct.new && ip.ttl == 30', `ct_lb_mark(backends=${BACKENDS.map((b) => `${b.ip}:${b.tp}`).join(',')});`);
  add('ingress', 1, 10, 'ct.new', 'ct_commit; next;');
  add('ingress', 1, 0, '1', 'next;');
  // After the balancer's call its original tuple is in the ct words: a client port read there.
  // (Ports 0xa0xx share one high byte: a proof that such a port is not 50000, 0xc350, reads only that byte.) The
  // original destination port (a SYN's own: 81 leaves through p2 with another source MAC).
  add('ingress', 2, 40, 'inport == "p1" && ct_tp_dst == 81', 'eth.src = 00:00:00:00:00:0c; outport = "p2"; output;');
  add('ingress', 2, 35, 'inport == "p1" && ip.ttl == 64 && tcp.src == 50000', 'eth.dst = 00:00:00:00:00:0b; outport = "p2"; output;');
  add('ingress', 2, 33, 'inport == "p1" && ip.ttl == 64 && tcp.flags == 0x02', 'eth.src = 00:00:00:00:00:0d; outport = "p2"; output;');
  add('ingress', 2, 10, 'inport == "p1" && ip4.dst == 10.0.0.70', 'eth.dst = 00:00:00:00:00:03; outport = "p3"; output;');
  add('ingress', 2, 10, 'inport == "p1" && ip4.dst == 10.0.0.71', 'eth.dst = 00:00:00:00:00:04; outport = "p3"; output;');
  add('ingress', 2, 10, 'inport == "p1" && ip4.dst == 10.0.0.72', 'eth.dst = 00:00:00:00:00:05; outport = "p4"; output;');
  add('ingress', 2, 5, 'inport == "p1"', 'outport = "p2"; output;');
  add('ingress', 2, 0, '1', 'outport = "p1"; output;');
  // Two calls in the outport's zone: with the ingress ones, four for a SYN.
  add('egress', 0, 0, '1', 'ct_next;');
  add('egress', 1, 10, 'ct.new', 'ct_commit; next;');
  add('egress', 1, 0, '1', 'next;');
  add('egress', 2, 0, '1', 'output;');
  return oneSwitch(flows, [
    vif('p1', 2, '00:00:00:00:00:01 10.0.1.1'),
    vif('p2', 3, '00:00:00:00:00:02 10.0.0.2'),
    vif('p3', 4, '00:00:00:00:00:03 10.0.0.70', '00:00:00:00:00:04 10.0.0.71'),
    vif('p4', 5, '00:00:00:00:00:05 10.0.0.72'),
  ]);
}

/**
 * A client's segment (`syn`: its flags, TTL, port and address), a backend's answer (`reply`: SYN|ACK or ACK from
 * backend `to`, or from p2 when `to` is 3), a flush of both engines, time passing (past conntrack's SYN_SENT
 * timeout of 30 s).
 */
type Step =
  | { op: 'syn'; sport: number; ip: number; ttl: number; flags: number; times: number; dport: number }
  | { op: 'reply'; sport: number; ip: number; to: number; flags: number }
  | { op: 'flush' }
  | { op: 'wait'; dt: number };

const CLIENTS = ['10.0.1.1', '10.0.1.2'] as const;

function frameOf(st: Step): [Uint8Array, string] {
  if (st.op === 'syn') {
    const f = buildFrame({ src: '00:00:00:00:00:01', dst: '00:00:00:00:00:02', ipv4: { src: CLIENTS[st.ip]!, dst: '10.0.0.2', ttl: st.ttl }, tcp: { srcPort: st.sport, dstPort: st.dport, flags: st.flags, seq: 1000, ack: st.flags & 0x10 ? 5001 : 0 } });
    return [f, 'p1'];
  }
  if (st.op !== 'reply') throw new Error('no frame');
  const b = st.to < 3 ? BACKENDS[st.to]! : { port: 'p2', mac: '00:00:00:00:00:02', ip: '10.0.0.2', tp: 80 };
  const f = buildFrame({ src: b.mac, dst: '00:00:00:00:00:01', ipv4: { src: b.ip, dst: CLIENTS[st.ip]!, ttl: 64 }, tcp: { srcPort: b.tp, dstPort: st.sport, flags: st.flags, seq: 5000, ack: 1001 } });
  return [f, b.port];
}

function view(ex: LflowExecutor, ct: OvsConntrack, frame: Uint8Array, inport: string, now: number): string {
  const buf = new Uint8Array(frame.length + 8);
  buf.set(frame);
  const r = ex.runFrame(buf, frame.length, inport, now);
  return JSON.stringify({
    outputs: r.outputs.map((o) => [o.port, [...o.frame.subarray(0, o.length)]]),
    drops: r.drops.map((d) => [d.pipeline, d.table, d.reason]),
    ct: ct.connections(now),
  });
}

/** The executor's table's SYN counters (private: not in MegaflowStats). */
function synCounts(ex: LflowExecutor): { hits: number; breaks: number; templates: number } {
  const t = (ex as unknown as { mega: { synHits: number; synBreaks: number; synTemplateCount: number } }).mega;
  return { hits: t.synHits, breaks: t.synBreaks, templates: t.synTemplateCount };
}

/**
 * Plays `seq` through an executor with templates and one without; fails at the first packet whose outputs, drops or
 * conntrack table differ. Returns the first one's SYN counters.
 */
function compareSyns(seq: readonly Step[]): { hits: number; breaks: number; templates: number } {
  const sb = southbound();
  const cta = new OvsConntrack();
  const ctb = new OvsConntrack();
  const a = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: cta, wordsOut: false });
  const b = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: ctb, wordsOut: false });
  a.enableMegaflows({ templates: true });
  b.enableMegaflows({ templates: false });
  let now = 1000;
  seq.forEach((st, i) => {
    if (st.op === 'flush') {
      cta.flush();
      ctb.flush();
      return;
    }
    if (st.op === 'wait') {
      now += st.dt;
      return;
    }
    const [f, inport] = frameOf(st);
    const times = st.op === 'syn' ? st.times : 1;
    for (let t = 0; t < times; t++) {
      const x = view(a, cta, f, inport, now);
      const y = view(b, ctb, f, inport, now);
      if (x !== y) expect({ step: i, time: t, st, result: x }).toEqual({ step: i, time: t, st, result: y });
    }
  });
  return synCounts(a);
}

const syn = (sport: number, ttl = 30, flags = 0x02, dport = 80): Step => ({ op: 'syn', sport, ip: 0, ttl, flags, times: 1, dport });

describe("a new connection's first frame replayed from another connection's walk (SynTemplate)", () => {
  it('gives the outputs, drops and conntrack table of the walk taken for the SYN itself', () => {
    let hits = 0;
    let breaks = 0;
    const step: fc.Arbitrary<Step> = fc.oneof(
      {
        weight: 16,
        arbitrary: fc.record({
          op: fc.constant('syn' as const),
          sport: fc.oneof(
            { weight: 2, arbitrary: fc.constantFrom(41000, 41001, 41002, 41003, 50000) },
            { weight: 6, arbitrary: fc.integer({ min: 0xa000, max: 0xa0ff }) },
            { weight: 1, arbitrary: fc.integer({ min: 1024, max: 65535 }) },
          ),
          ip: fc.nat(1),
          ttl: fc.constantFrom(30, 30, 64),
          // SYN, SYN|ECE|CWR, SYN|ECE; now and then an ACK or a RST from the client.
          flags: fc.oneof({ weight: 8, arbitrary: fc.constant(0x02) }, { weight: 1, arbitrary: fc.constantFrom(0xc2, 0x42, 0x10, 0x04) }),
          times: fc.constantFrom(1, 1, 1, 2),
          dport: fc.constantFrom(80, 80, 80, 80, 81),
        }),
      },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('reply' as const), sport: fc.constantFrom(41000, 41001, 41002, 41003, 50000), ip: fc.nat(1), to: fc.nat(3), flags: fc.constantFrom(0x12, 0x10, 0x04) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('wait' as const), dt: fc.constantFrom(1, 1000, 40_000) }) },
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (seq) => {
        const s = compareSyns(seq);
        hits += s.hits;
        breaks += s.breaks;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`syn-template property: ${RUNS} runs, seed ${SEED}: ${hits} SYNs replayed from a template, ${breaks} replays taken again from a call`);
    expect(hits).toBeGreaterThan(RUNS / 5);
    expect(breaks).toBeGreaterThan(0);
  }, 180_000);

  // The first SYN of a route is walked through the slow path (its segments recorded, the walk not kept), the second
  // is served by the segments and recorded as a template, the third replays it.
  it("replays a SYN from another one's walk where its backend is the same, and not where the select group picks another", () => {
    // Client ports by the backend the three-bucket group picks for their 5-tuples (from an executor without caches).
    const ct = new OvsConntrack();
    const ex = new LflowExecutor(southbound(), 'ls', { chassis: 'node1', ct, wordsOut: false });
    const byPick = new Map<string, number[]>();
    for (let p = 41000; p < 41060; p++) {
      const [f] = frameOf(syn(p));
      const buf = new Uint8Array(f.length + 8);
      buf.set(f);
      const out = ex.runFrame(buf, f.length, 'p1', 1000).outputs.map((o) => `${o.port} ${o.frame[5]}`).join();
      byPick.set(out, [...(byPick.get(out) ?? []), p]);
    }
    const [a, b] = [...byPick.values()];
    expect(a!.length).toBeGreaterThan(3);
    expect(b!.length).toBeGreaterThan(3);
    expect(compareSyns([syn(a![0]!), syn(a![1]!), syn(a![2]!)])).toEqual({ hits: 1, breaks: 0, templates: 1 });
    // Another backend: its route's segments are new (slow path), then its walk is recorded: no replay, no break.
    expect(compareSyns([syn(a![0]!), syn(a![1]!), syn(b![0]!), syn(b![1]!)])).toEqual({ hits: 0, breaks: 0, templates: 2 });
    expect(compareSyns([syn(a![0]!), syn(a![1]!), syn(b![0]!), syn(b![1]!), syn(a![2]!), syn(b![2]!), syn(b![3]!), syn(a![3]!)])).toEqual({ hits: 4, breaks: 0, templates: 2 });
    // Four calls a walk (untranslated: ingress ct_lb_mark and ct_commit, egress ct_next and ct_commit).
    expect(compareSyns([syn(41000, 64), syn(41001, 64), syn(41002, 64)])).toEqual({ hits: 1, breaks: 0, templates: 1 });
  });

  it('keeps apart SYNs a flow tells apart by their port, by the original tuple after a call, and by their flags', () => {
    // tcp.src == 50000 (TTL 64): not served from 41000's walk, nor 41000 from its.
    compareSyns([41000, 41001, 50000, 41002, 50000, 41003].map((p) => syn(p, 64)));
    compareSyns([50000, 50000, 41000, 41001, 50000, 41002].map((p) => syn(p, 64)));
    // ct_tp_dst == 81 after the balancer's call (TTL 30; the only read of the destination port there): a SYN to 81
    // with the backend of a template made from SYNs to 80 is not served from it (the original tuple's read put into
    // the key's mask through the key field it equals).
    const ct = new OvsConntrack();
    const ex = new LflowExecutor(southbound(), 'ls', { chassis: 'node1', ct, wordsOut: false });
    const pick = (p: number, dport = 80): number => {
      const [f] = frameOf(syn(p, 30, 0x02, dport));
      const buf = new Uint8Array(f.length + 8);
      buf.set(f);
      return ex.runFrame(buf, f.length, 'p1', 1000).outputs.reduce((n, o) => n + o.frame[33]!, 0);
    };
    const target = pick(41000, 81);
    const same = [];
    for (let p = 41001; same.length < 3; p++) if (pick(p) === target) same.push(p);
    expect(compareSyns([syn(same[0]!), syn(same[1]!), syn(41000, 30, 0x02, 81), syn(same[2]!)])).toMatchObject({ hits: 1, breaks: 0 });
    // A plain SYN routes apart from SYN|ECE and SYN|ECE|CWR (tcp.flags == 0x02 with TTL 64).
    const flags = [0xc2, 0x02, 0x42, 0xc2, 0x02, 0x42, 0x02, 0xc2, 0x42];
    expect(compareSyns(flags.map((f, i) => syn(41010 + i, 64, f))).hits).toBe(3);
  });

  it("takes the walk again from the call whose outcome is not the template's, without making any call twice", () => {
    // A SYN again on 41002's connection (SYN_SENT): the calls' outcomes are not a new connection's.
    // 41002's replay stops at its first call, the walk goes on from there; the template goes, so 41003 records one.
    expect(compareSyns([syn(41000, 64), syn(41001, 64), syn(41002, 64), syn(41002, 64), syn(41003, 64)])).toEqual({ hits: 1, breaks: 1, templates: 1 });
    // Answered by the pod, the connection is then established: its SYN again (an invalid packet or a reopening).
    compareSyns([syn(41000), syn(41001), syn(41002), { op: 'reply', sport: 41002, ip: 0, to: 0, flags: 0x12 }, syn(41002, 30, 0x10), syn(41002), syn(41003)]);
  });
});

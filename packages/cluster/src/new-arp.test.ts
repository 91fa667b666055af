/**
 * New clients' first ARP requests served without their sender in the key (PathCaches' new-client ARP entries):
 * the same traffic through a simulation with the caches and one without gives the same results, callbacks, wire
 * frames and state — counters, drops, br-provider's rule statistics and MAC tables (with their times), the wire's
 * table, MetalLB's drop counts, the pods' logs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import type { Bridge } from '@vippath/openflow';
import { DEFAULT_CLUSTER, defaultObjects } from './scenario.js';
import { SimulatedCluster } from './simulation.js';
import type { WireSegment } from './segment.js';
import type { InjectResult } from './recorder.js';

const VIP = '10.180.204.252';
const runs = Math.max(1, Math.ceil(Number(process.env.VIPPATH_PROPERTY_RUNS ?? 200) / 2));
const seed = process.env.VIPPATH_PROPERTY_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_PROPERTY_SEED ?? 20261124);

const clientMac = (c: number): string => `02:00:00:a7:00:${c.toString(16).padStart(2, '0')}`;
const clientIp = (c: number): string => `10.180.204.${100 + c}`;
const nodeMac = (n: number): string => `52:54:00:bb:00:0${n}`;

/** How a request's sender or target differs from a plain new client's. */
type Variant = 'plain' | 'plain' | 'sha' | 'garp' | 'other' | 'podmac' | 'podip' | 'nodemac' | 'mcast' | 'pad';
const VARIANTS: Variant[] = ['plain', 'plain', 'plain', 'plain', 'sha', 'garp', 'other', 'podmac', 'podip', 'nodemac', 'mcast', 'pad'];

type NEv =
  | { kind: 'arp'; mac: number; ip: number; v: Variant; gapMs: number }
  | { kind: 'syn'; mac: number; ip: number; gapMs: number }
  | { kind: 'down'; node: number; link: boolean; gapMs: number }
  | { kind: 'flow'; node: number; rule: number; gapMs: number }
  | { kind: 'flush'; node: number; gapMs: number }
  | { kind: 'limit'; node: number; limit: number; gapMs: number; above?: boolean };

const gap = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 200 }) }, { weight: 1, arbitrary: fc.constant(400_000) });
/** Rules reading the ARP sender (or the source MAC): new clients' ARPs must then take the full path; and one that does not. */
const RULES = [
  `priority=30000,arp,in_port=1,arp_spa=${clientIp(3)} actions=drop`,
  `priority=30000,in_port=1,dl_src=${clientMac(4)} actions=drop`,
  `priority=30000,arp,in_port=1,arp_sha=${clientMac(5)} actions=drop`,
  // Not on the sender: entries made before it are void all the same (br-provider's version).
  `priority=30000,arp,in_port=1,arp_op=1 actions=drop`,
];

const nevArb: fc.Arbitrary<NEv> = fc.oneof(
  // Senders from a small pool of MACs and addresses drawn apart: new MACs, MACs seen again, an address learned
  // with another MAC, a sender moving between MACs.
  { weight: 80, arbitrary: fc.record({ kind: fc.constant('arp' as const), mac: fc.oneof(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 25, max: 250 })), ip: fc.integer({ min: 0, max: 24 }), v: fc.constantFrom(...VARIANTS), gapMs: gap }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('syn' as const), mac: fc.integer({ min: 0, max: 24 }), ip: fc.integer({ min: 0, max: 24 }), gapMs: gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('down' as const), node: fc.integer({ min: 1, max: 3 }), link: fc.boolean(), gapMs: gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flow' as const), node: fc.integer({ min: 1, max: 3 }), rule: fc.integer({ min: 0, max: RULES.length - 1 }), gapMs: gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const), node: fc.integer({ min: 1, max: 3 }), gapMs: gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('limit' as const), node: fc.integer({ min: 1, max: 3 }), limit: fc.integer({ min: 3, max: 12 }), gapMs: gap }) },
);

function arpFrame(e: Extract<NEv, { kind: 'arp' }>, sim: SimulatedCluster): Uint8Array {
  const pods = [...sim.pods.values()].map((p) => p.pod);
  const pod = pods[e.mac % pods.length]!;
  let src = clientMac(e.mac);
  if (e.v === 'podmac') src = pod.mac;
  else if (e.v === 'nodemac') src = nodeMac(1 + (e.mac % 3));
  else if (e.v === 'mcast') src = `01:00:5e:00:00:${(e.mac + 1).toString(16).padStart(2, '0')}`;
  const sha = e.v === 'sha' ? clientMac(e.mac + 1) : src;
  const spa = e.v === 'garp' ? VIP : e.v === 'podip' ? pod.ip : clientIp(e.ip);
  const tpa = e.v === 'garp' ? VIP : e.v === 'other' ? (e.ip % 2 === 0 ? pod.ip : '10.180.204.99') : VIP;
  return buildFrame({ dst: 'ff:ff:ff:ff:ff:ff', src, vlans: [341], arp: { op: 1, senderMac: sha, senderIp: spa, targetMac: '00:00:00:00:00:00', targetIp: tpa }, padTo: e.v === 'pad' ? 64 + (e.ip % 3) * 4 : 60 });
}

function synFrame(e: Extract<NEv, { kind: 'syn' }>, sim: SimulatedCluster): Uint8Array {
  // To the owner's MAC as a client that resolved the VIP would; any node's when nobody owns it.
  const owner = sim.state.metallb.owners(VIP)[0] ?? 'node3';
  return buildFrame({ dst: nodeMac(Number(owner.slice(-1)) || 3), src: clientMac(e.mac), vlans: [341], ipv4: { src: clientIp(e.ip), dst: VIP }, tcp: { srcPort: 40000 + e.mac, dstPort: 80, flags: 0x02, seq: 1000, ack: 0 } });
}

/**
 * How frames enter: `process` (verdicts and callbacks), `wire` (the same, the wire captured), `inject` (whole
 * results, the caller's to keep, in turn with a transient result and process(); the wire captured) or `transient` (injectTransient's result, valid until the next
 * frame: a replay's summary lines; the wire captured).
 */
type Mode = 'process' | 'wire' | 'inject' | 'transient';
const MODES: Mode[] = ['process', 'wire', 'inject', 'transient'];

const hex = (f: Uint8Array): string => Buffer.from(f).toString('hex');
/** Everything a result says, read at once (a transient result is valid until the next frame). */
const resultText = (r: InjectResult): unknown => ({
  verdict: r.verdict, outside: r.outside.map(hex), background: r.background.map(hex), drops: r.drops.map((x) => ({ ...x })),
  delivered: r.delivered.map((x) => [x.pod, x.node, hex(x.frame)]), stages: r.stages.map((x) => ({ ...x })),
});

function runNarp(cache: boolean, events: NEv[], mode: Mode, wireLimit: number, stats?: { newArpHits: number; newArpEntries: number }): unknown {
  const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache: cache, wireMacLimit: wireLimit });
  const seen: unknown[] = [];
  if (mode !== 'process') sim.onWire = (from, f, now) => seen.push(`wire ${from} ${now} ${Buffer.from(f).toString('hex')}`);
  sim.onOutside = (f) => seen.push(`out ${Buffer.from(f).toString('hex')}`);
  sim.onDeliver = (pod, f, len) => seen.push(`${pod.pod.name} ${Buffer.from(f.subarray(0, len)).toString('hex')}`);
  const macs = new Set<string>();
  const kept: Array<[unknown, InjectResult]> = [];
  let now = 0;
  let n = 0;
  for (const e of events) {
    now += e.gapMs;
    const bridge = 'node' in e ? (sim.bridges.get(`node${e.node}`) as Bridge) : undefined;
    if (e.kind === 'down') sim.nodeDown(`node${e.node}`, now, { linkDown: e.link });
    else if (e.kind === 'flow') bridge!.addFlows(RULES[e.rule]!);
    else if (e.kind === 'flush') bridge!.flushMacs();
    else if (e.kind === 'limit') bridge!.macLimit = e.limit + (e.above ? bridge!.learnedMacs().length : 0);
    else {
      const f = e.kind === 'arp' ? arpFrame(e, sim) : synFrame(e, sim);
      macs.add(Buffer.from(f.subarray(6, 12)).toString('hex'));
      // Kept results among transient ones and process()'s: those reuse buffers a kept result must not hold.
      if (mode === 'inject' && n++ % 3 === 1) seen.push(resultText(sim.injectTransient(f, now)));
      else if (mode === 'inject' && n % 3 === 0) seen.push(sim.process(f, f.length, now));
      else if (mode === 'inject') {
        const r = sim.inject(f, now);
        // The caller's to keep: nothing later (the next frame's replay) may change it.
        kept.push([resultText(r), r]);
        seen.push(resultText(r));
      } else if (mode === 'transient') seen.push(resultText(sim.injectTransient(f, now)));
      else seen.push(sim.process(f, f.length, now));
    }
  }
  if (stats) {
    const c = sim.cacheStats();
    stats.newArpHits += c.newArpHits;
    stats.newArpEntries += c.newArpEntries;
  }
  for (const [text, r] of kept) expect(resultText(r)).toEqual(text);
  for (const b of sim.bridges.values()) expect(b.effects).toBeUndefined();
  const seg = (sim as unknown as { segment: WireSegment }).segment;
  return {
    seen, stages: { ...sim.stageCounts }, edges: sim.edges(), drops: Object.fromEntries(sim.dropCounts),
    wire: [sim.wireMacs, seg.evictions, [...macs].map((m) => seg.fdb.get(Number.parseInt(m, 16)) ?? null)],
    flows: [...sim.bridges].map(([n, b]) => [n, b.dumpFlows({ stats: true })]),
    macs: [...sim.bridges].map(([n, b]) => [n, b.learnedMacs(), b.macEvictions]),
    speakers: [...sim.state.metallb.speakers].map(([n, sp]) => [n, { ...sp.drops }]),
    logs: [...sim.pods.values()].map((p) => p.log), backends: [...sim.backendCounts],
  };
}

/** Tables at their limit: new clients one after another, br-provider's MAC limits and the wire's small and changing. */
const fullArb: fc.Arbitrary<NEv> = fc.oneof(
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('arp' as const), mac: fc.integer({ min: 0, max: 250 }), ip: fc.integer({ min: 0, max: 24 }), v: fc.constant('plain' as const), gapMs: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('syn' as const), mac: fc.integer({ min: 0, max: 250 }), ip: fc.integer({ min: 0, max: 24 }), gapMs: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('limit' as const), node: fc.integer({ min: 1, max: 3 }), limit: fc.integer({ min: 1, max: 8 }), gapMs: fc.integer({ min: 0, max: 50 }) }) },
);

describe('new clients\' first ARP requests through the caches', () => {
  it(`fall back to the full path when a table would forget a MAC: br-provider's limits from 1 up, the wire's 3, 6 or 8192 (${runs} runs, seed ${seed})`, () => {
    const stats = { newArpHits: 0, newArpEntries: 0 };
    fc.assert(
      fc.property(fc.array(fullArb, { minLength: 20, maxLength: 70, size: 'max' }), fc.constantFrom(3, 6, 8192, 8192, 8192), fc.constantFrom(...MODES), (events, wireLimit, mode) => {
        expect(runNarp(true, events, mode, wireLimit, stats)).toEqual(runNarp(false, events, mode, wireLimit));
      }),
      { numRuns: runs, seed },
    );
    console.log(`new-client ARP property (full tables): ${stats.newArpHits} hits, ${stats.newArpEntries} entries left`);
    expect(stats.newArpHits).toBeGreaterThan(runs);
  }, 600_000);

  for (const mode of ['process', 'wire', 'inject', 'transient'] as const) {
    it(`change nothing but speed: senders new, seen again, moved, colliding with a pod's or a node's MAC or address; gratuitous, other targets; takeovers, flushes, rules on the sender, full tables (${mode}; ${runs} runs, seed ${seed})`, () => {
      console.log(`new-client ARP property (${mode}): ${runs} runs, seed ${seed} (VIPPATH_PROPERTY_SEED / VIPPATH_PROPERTY_RUNS)`);
      const stats = { newArpHits: 0, newArpEntries: 0 };
      fc.assert(
        fc.property(fc.array(nevArb, { minLength: 20, maxLength: 70, size: 'max' }), fc.constantFrom(4, 6, 8192, 8192), (events, wireLimit) => {
          expect(runNarp(true, events, mode, wireLimit, stats)).toEqual(runNarp(false, events, mode, wireLimit));
        }),
        { numRuns: runs, seed },
      );
      console.log(`new-client ARP property (${mode}): ${stats.newArpHits} hits, ${stats.newArpEntries} entries left`);
      expect(stats.newArpHits).toBeGreaterThan(4 * runs);
    }, 600_000);
  }

  const arp = (mac: number, ip = mac % 25): NEv => ({ kind: 'arp', mac, ip, v: 'plain', gapMs: 10 });
  const same = (events: NEv[], wireLimit = 8192): { newArpHits: number; newArpEntries: number } => {
    const stats = { newArpHits: 0, newArpEntries: 0 };
    for (const mode of MODES) expect(runNarp(true, events, mode, wireLimit, stats)).toEqual(runNarp(false, events, mode, wireLimit));
    return stats;
  };

  it('one entry serves every new client of the VIP, whatever its MAC and address; the switch runs for each', () => {
    const events = Array.from({ length: 12 }, (_, i) => arp(100 + i, i));
    // 11 hits a mode: each of the four ways in is served.
    expect(same(events)).toEqual({ newArpHits: 44, newArpEntries: 4 });
  });

  it('a rule on the sender\'s address made after the entry: its request takes the full path (br-provider drops it)', () => {
    const rule: NEv[] = [1, 2, 3].map((node) => ({ kind: 'flow', node, rule: 0, gapMs: 1 }));
    // The rule first, then an entry could be made from a sender it does not match, and served to one it does.
    expect(same([...rule, arp(60, 10), arp(61, 3), arp(62, 11)]).newArpHits).toBe(0);
  });

  it('br-provider at its MAC limit with the owner\'s own entry the oldest: the full path forgets it and learns it again', () => {
    // node3 owns the VIP and holds [client, owner] at its limit. A client's learning and the owner's refresh share
    // a time, so from the second request on the owner's entry (learned first) is the oldest by NORMAL's tie-break:
    // the full path forgets it for the new client and learns it again for the reply; a replay would refresh it.
    const events: NEv[] = [arp(60), { kind: 'limit', node: 3, limit: 0, above: true, gapMs: 1 }, arp(61), arp(62), arp(63)];
    same(events);
    // Then room again: the entry made first refreshed an owner's entry that is gone (another stands in its place).
    same([...events, { kind: 'limit', node: 3, limit: 8, above: true, gapMs: 1 }, arp(64), arp(65)]);
  });

  it('a client the wire forgot while br-provider still holds it: its request refreshes br-provider\'s entry, it does not make another', () => {
    // The wire holds three MACs: 60 is forgotten by 63's; its next request is new to the wire only. Then a limit
    // just above what the bridges hold: a count of entries one too many would make the next client evict one.
    const events: NEv[] = [arp(60), arp(61), arp(62), arp(63), arp(60), ...[1, 2, 3].map((node): NEv => ({ kind: 'limit', node, limit: 1, above: true, gapMs: 1 })), arp(64), arp(65)];
    same(events, 3);
  });

  it('br-provider\'s MAC tables flushed after the entry was made: the full path, until a new entry', () => {
    const events: NEv[] = [arp(60), arp(61), ...[1, 2, 3].map((node): NEv => ({ kind: 'flush', node, gapMs: 1 })), arp(62), arp(63), arp(64)];
    same(events);
  });
});

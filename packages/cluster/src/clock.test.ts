/**
 * The datapath's time is a slot (Datapath.clock) and the OVN hop is handed the caller's time as an argument
 * (NodePath.ovnAt's `now`) instead of reading a field: whatever path a frame takes — a flow-cache hit, the way back's
 * replay, the full path — every stage that reads the time (the switch and its conntrack, the pods, br-provider's
 * NORMAL learning and ageing) must see exactly the time the frame was handed with, fractional, equal to the last
 * frame's, or earlier than it.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import { Bridge } from '@vippath/openflow';
import { LogicalSwitch } from '@vippath/ovn';
import { DEFAULT_CLUSTER, defaultObjects } from './scenario.js';
import { PodHost } from './pods.js';
import { SimulatedCluster } from './simulation.js';

const VIP = '10.180.204.252';
const runs = Number(process.env.VIPPATH_PROPERTY_RUNS ?? 60);
const seed = process.env.VIPPATH_PROPERTY_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_PROPERTY_SEED ?? 20261207);

type Step = { client: number; sport: number; flags: number; data: boolean; dt: number };

/** Time steps: none (the last frame's time), fractional, a step back, a gap past conntrack's and NORMAL's ageing. */
const dtArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 5, arbitrary: fc.double({ min: 0.000001, max: 50, noNaN: true }) },
  { weight: 2, arbitrary: fc.double({ min: -20, max: -0.000001, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(130_000.25, 400_000.5) },
);

/** Mostly pure ACKs of a few flows (the cache's hits), with handshakes, requests (the pods answer) and FINs. */
const stepArb: fc.Arbitrary<Step> = fc.record({
  client: fc.integer({ min: 0, max: 1 }),
  sport: fc.integer({ min: 40000, max: 40001 }),
  flags: fc.constantFrom(0x02, 0x10, 0x10, 0x10, 0x10, 0x18, 0x11),
  data: fc.boolean(),
  dt: dtArb,
});

function frameOf(s: Step): Uint8Array {
  const ip = `10.181.0.${10 + s.client}`;
  const mac = `52:54:00:cc:00:${(10 + s.client).toString(16).padStart(2, '0')}`;
  const data = s.data && s.flags !== 0x02;
  return buildFrame({ dst: '52:54:00:bb:00:03', src: mac, vlans: [341], ipv4: { src: ip, dst: VIP }, tcp: { srcPort: s.sport, dstPort: 80, flags: s.flags, seq: 1001, ack: 1, ...(data ? { payload: new TextEncoder().encode('GET /clientip HTTP/1.1\r\n\r\n') } : {}) } });
}

/** Every time handed to a stage while a frame runs, by stage. */
const seen: Array<[string, number]> = [];
type Method = (this: unknown, ...args: unknown[]) => unknown;
const watched: Array<{ proto: Record<string, Method>; name: string; arg: number }> = [
  { proto: LogicalSwitch.prototype as unknown as Record<string, Method>, name: 'processInto', arg: 4 },
  { proto: LogicalSwitch.prototype as unknown as Record<string, Method>, name: 'process', arg: 3 },
  { proto: PodHost.prototype as unknown as Record<string, Method>, name: 'answer', arg: 1 },
  { proto: Bridge.prototype as unknown as Record<string, Method>, name: 'processInto', arg: 3 },
  { proto: Bridge.prototype as unknown as Record<string, Method>, name: 'entryLookup', arg: 1 },
  { proto: Bridge.prototype as unknown as Record<string, Method>, name: 'normalLookup', arg: 2 },
  { proto: Bridge.prototype as unknown as Record<string, Method>, name: 'replayEffects', arg: 1 },
  { proto: Bridge.prototype as unknown as Record<string, Method>, name: 'learnAnew', arg: 2 },
];
const originals: Method[] = [];

beforeEach(() => {
  for (const w of watched) {
    const f = w.proto[w.name]!;
    originals.push(f);
    const label = `${w.proto === (PodHost.prototype as unknown) ? 'pod' : w.proto === (Bridge.prototype as unknown) ? 'bridge' : 'switch'}.${w.name}`;
    w.proto[w.name] = function (this: unknown, ...args: unknown[]): unknown {
      seen.push([label, args[w.arg] as number]);
      return f.apply(this, args);
    };
  }
});

afterEach(() => {
  for (let i = 0; i < watched.length; i++) watched[i]!.proto[watched[i]!.name] = originals[i]!;
  originals.length = 0;
});

function run(cache: boolean, steps: Step[], counts: Record<string, number>): { verdicts: string[]; hits: number } {
  const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER, { trace: false, flowCache: cache });
  const verdicts: string[] = [];
  let now = 0.5;
  for (const s of steps) {
    now = Math.max(0, now + s.dt);
    const f = frameOf(s);
    seen.length = 0;
    verdicts.push(sim.processAt(f, 0, f.length, now));
    for (const [stage, t] of seen) {
      counts[stage] = (counts[stage] ?? 0) + 1;
      if (!Object.is(t, now)) expect.fail(`${stage} saw ${t} for a frame at ${now} (${cache ? 'cached' : 'full path'})`);
    }
  }
  return { verdicts, hits: sim.cacheStats().hits + sim.cacheStats().backHits };
}

describe('the datapath time', () => {
  it(`reaches every stage as the frame's own time, on the cache's paths and the full path alike (seed ${seed})`, () => {
    const counts: Record<string, number> = {};
    let hits = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 40 }), (steps) => {
        const cached = run(true, steps, counts);
        const full = run(false, steps, counts);
        expect(cached.verdicts).toEqual(full.verdicts);
        hits += cached.hits;
      }),
      { seed, numRuns: runs },
    );
    // The runs went where the time is handed on: the cache's hits and way-back replays, the pods, the switch, NORMAL.
    expect(hits).toBeGreaterThan(0);
    for (const stage of ['switch.processInto', 'pod.answer', 'bridge.processInto', 'bridge.replayEffects']) expect(counts[stage] ?? 0, stage).toBeGreaterThan(0);
  });
});

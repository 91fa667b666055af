/**
 * The packet's time the executor hands to conntrack, on the walked run, the cached run and a connection's replay
 * (walked again or not): every call gets the frame's time exactly as given to runFrame — fractional capture times of
 * any size — and a cached executor answers as the plain one does. (Written for a Float64Array slot of the time, which
 * measured slower and was not merged; it holds for the executor's tagged `now` field as well.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '@vippath/wire';
import { OvsConntrack } from '../ct/index.js';
import { LflowExecutor } from './executor.js';
import { flowList, oneSwitch, vif } from './switch.test-helpers.js';
import type { SouthboundState } from './types.js';

const SEED = Number(process.env.VIPPATH_CLOCK_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.VIPPATH_CLOCK_RUNS ?? 40);

/** A call in the inport's zone, one in the outport's (a switch's stateful stages), both committing. */
function southbound(): SouthboundState {
  const { flows, add } = flowList();
  add('ingress', 0, 0, '1', 'ct_lb_mark;');
  add('ingress', 1, 10, 'ct.new', 'ct_commit; next;');
  add('ingress', 1, 0, '1', 'next;');
  add('ingress', 2, 100, 'inport == "p2"', 'outport = "p1"; output;');
  add('ingress', 2, 0, '1', 'outport = "p2"; output;');
  add('egress', 0, 0, '1', 'ct_next;');
  add('egress', 1, 10, 'ct.new', 'ct_commit; next;');
  add('egress', 1, 0, '1', 'next;');
  add('egress', 2, 0, '1', 'output;');
  return oneSwitch(flows, [vif('p1', 2, '00:00:00:00:00:01 10.0.1.1'), vif('p2', 3, '00:00:00:00:00:02 10.0.0.2')]);
}
const sb = southbound();

/** An executor whose conntrack records the time of every call (all three ways in). */
function recorded(cached: boolean): { ex: LflowExecutor; ct: OvsConntrack; times: number[] } {
  const ct = new OvsConntrack();
  const times: number[] = [];
  const spy = ct as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const [name, at] of [['execute', 5], ['executeWords', 6], ['executeHinted', 5]] as const) {
    const orig = spy[name]!;
    spy[name] = function (this: unknown, ...a: unknown[]) {
      times.push(a[at] as number);
      return orig.apply(this, a);
    };
  }
  const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct, wordsOut: false });
  if (cached) ex.enableMegaflows({});
  return { ex, ct, times };
}

const step = fc.record({
  port: fc.integer({ min: 0, max: 3 }),
  kind: fc.constantFrom('syn', 'ack', 'ack', 'ack', 'answer'),
  gap: fc.oneof(fc.double({ min: 0, max: 400_000, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true })),
  input: fc.boolean(),
});

describe('the executor’s time', () => {
  it('reaches every conntrack call as given, cached or not, on generated fractional times', () => {
    let calls = 0;
    let replays = 0;
    let walksAgain = 0;
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2 ** 42, noNaN: true }), fc.array(step, { minLength: 1, maxLength: 40 }), (t0, steps) => {
        const a = recorded(true);
        const b = recorded(false);
        let now = t0;
        for (const s of steps) {
          now += s.gap;
          const sport = 40000 + s.port;
          const client = { srcPort: sport, dstPort: 80, seq: s.kind === 'syn' ? 1000 : 1001, ack: s.kind === 'syn' ? 0 : 5001, flags: s.kind === 'syn' ? 0x002 : 0x010 };
          const f =
            s.kind === 'answer'
              ? buildFrame({ src: '00:00:00:00:00:02', dst: '00:00:00:00:00:01', ipv4: { src: '10.0.0.2', dst: '10.0.1.1' }, tcp: { srcPort: 80, dstPort: sport, seq: 5000, ack: 1001, flags: 0x012 } })
              : buildFrame({ src: '00:00:00:00:00:01', dst: '00:00:00:00:00:02', ipv4: { src: '10.0.1.1', dst: '10.0.0.2' }, tcp: client });
          const inport = s.kind === 'answer' ? 'p2' : 'p1';
          const show = (r: ReturnType<LflowExecutor['runFrame']>) => JSON.stringify({ out: r.outputs.map((o) => [o.port, [...o.frame.subarray(0, o.length)]]), drops: r.drops.map((d) => d.reason) });
          const seen: string[] = [];
          for (const x of [a, b]) {
            const from = x.times.length;
            seen.push(show(x.ex.runFrame(f.slice(), f.length, inport, now, false, s.input)));
            for (let i = from; i < x.times.length; i++) if (!Object.is(x.times[i], now)) expect({ call: i, time: x.times[i] }).toEqual({ call: i, time: now });
          }
          expect(seen[0]).toBe(seen[1]);
          expect(JSON.stringify(a.ct.connections(now))).toBe(JSON.stringify(b.ct.connections(now)));
        }
        calls += a.times.length;
        const st = a.ex.megaflowStats();
        replays += st.connHits;
        walksAgain += st.connBreaks;
        for (const x of [a, b]) expect(x.times.every((t) => t >= t0)).toBe(true);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`clock property: ${RUNS} runs, seed ${SEED} (VIPPATH_CLOCK_SEED / VIPPATH_CLOCK_RUNS): ${calls} conntrack calls checked, ${replays} replays, ${walksAgain} walked again`);
    // Connections' walks were replayed (the replay's time is an argument, not the slot).
    expect(replays).toBeGreaterThan(0);
    expect(calls).toBeGreaterThan(RUNS);
  }, 120_000);
});

/**
 * A ct fork plan's one-backend pick (executor.ts `CtPlan.one4`/`one6`, made by onlyBackend; forkCt takes it instead of
 * calling pickBackend while no --lb-dst is set) against pickBackend, the general form:
 * - on generated actions — 0–4 backends of either family, hash fields absent, accepted or refused by OVS — and a
 *   packet of either family: where the plan names a backend, pickBackend answers it for every packet's words;
 * - through executors on a chassis with OvsConntrack: a dual-stack VIP with one backend of each family, SYNs of both
 *   families with generated ports, each frame's outputs (ports and bytes) equal to an executor whose plans name no
 *   backend (every fork asks pickBackend), and the fast executor asking pickBackend never;
 * - with --lb-dst (ovn-trace's mode): a one-backend ct_lb_mark uses it up (pickBackend's rule), so a backend-less one
 *   after it in the walk asks for no DNAT.
 *
 * Seed: 20261207 unless VIPPATH_LBPICK_SEED gives one (`random`: a new one, printed); VIPPATH_LBPICK_RUNS (default 300).
 */
import fc from 'fast-check';
import { buildFrame, type DecodedFrame } from '@vippath/wire';
import { describe, expect, it } from 'vitest';
import { LflowExecutor, parseLbDst } from './executor.js';
import { CtNat, CtState, type ConntrackEngine, type CtRequest, type CtResult } from './ct-api.js';
import type { Action, LbBackend } from './actions.js';
import { W } from './fields.js';
import { OvsConntrack } from '../ct/engine.js';
import { localnet, oneSwitch, rowsOf, vif } from './switch.test-helpers.js';

const SEED_ENV = process.env.VIPPATH_LBPICK_SEED;
const SEED = SEED_ENV === 'random' ? (Math.random() * 2 ** 31) | 0 : SEED_ENV ? Number(SEED_ENV) : 20261207;
const RUNS = Number(process.env.VIPPATH_LBPICK_RUNS ?? 300);

type LbAction = Extract<Action, { k: 'ct_lb_mark' | 'ct_lb' }>;
interface Plan {
  one4: number;
  one6: number;
}
interface Inner {
  forkPlan(a: LbAction): Plan;
  pickBackend(backends: readonly LbBackend[], hashFields: string | undefined, v6: boolean, w: Uint32Array, node: undefined): number;
}

const backend = fc.record({ ipv6: fc.boolean(), b: fc.uint8Array({ minLength: 16, maxLength: 16 }), port: fc.integer({ min: 1, max: 65535 }) }).map(({ ipv6, b, port }): LbBackend => {
  const addr = new Uint8Array(16);
  addr.set(ipv6 ? b : b.subarray(0, 4));
  const ip4 = ipv6 ? 0 : ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  return { ipv6, addr, ip4, port, text: '' };
});
const HASH = [undefined, undefined, 'ip_src', 'ip_dst,tp_dst', 'ip_src,bogus', ''] as const;

describe("a ct fork plan's one-backend pick", () => {
  it('names only a backend pickBackend answers for every packet of the family', () => {
    console.log(`lb pick property: ${RUNS} runs, seed ${SEED} (VIPPATH_LBPICK_SEED / VIPPATH_LBPICK_RUNS)`);
    const ex = new LflowExecutor(oneSwitch(rowsOf([[0, 0, '1', 'drop;']]), [localnet()]), 'ls', { megaflows: true }) as unknown as Inner;
    const count = { named: 0, none: 0, oneRefused: 0, two: 0 };
    fc.assert(
      fc.property(
        fc.array(backend, { maxLength: 4 }),
        fc.constantFrom(...HASH),
        fc.boolean(),
        fc.array(fc.uint32Array({ minLength: W.SIZE, maxLength: W.SIZE }), { minLength: 6, maxLength: 6 }),
        (backends, hashFields, v6, packets) => {
          // A new action object each case: plans are kept per action.
          const a: LbAction = { k: 'ct_lb_mark', backends, ...(hashFields !== undefined ? { hashFields } : {}), text: '' };
          const plan = ex.forkPlan(a);
          const one = v6 ? plan.one6 : plan.one4;
          const n = backends.filter((b) => b.ipv6 === v6).length;
          if (one >= 0) {
            count.named++;
            for (const w of packets) expect(ex.pickBackend(backends, hashFields, v6, w, undefined)).toBe(one);
          } else {
            count.none++;
            if (n === 1) count.oneRefused++;
            if (n >= 2) count.two++;
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`lb pick property: ${JSON.stringify(count)}`);
    for (const [k, v] of Object.entries(count)) expect(v, k).toBeGreaterThan(0);
  });

  it("gives a dual-stack VIP's SYNs the outputs pickBackend gives, without asking it", () => {
    const flows = rowsOf(
      [
        [0, 100, 'ip4.dst == 10.0.0.100 && tcp', 'ct_lb_mark(backends=10.0.0.1:8080,[fd00::1]:8081);'],
        [0, 100, 'ip6.dst == fd00::100 && tcp', 'ct_lb_mark(backends=10.0.0.1:8080,[fd00::1]:8081);'],
        [0, 0, '1', 'drop;'],
        [1, 0, '1', 'outport = "p2"; output;'],
      ],
      [[0, 0, '1', 'output;']],
    );
    const sb = oneSwitch(flows, [localnet(), vif('p2', 2, '00:00:00:00:00:02 10.0.0.1 fd00::1')]);
    const make = (general: boolean): { ex: LflowExecutor; picks: number[] } => {
      const ex = new LflowExecutor(sb, 'ls', { chassis: 'node1', ct: new OvsConntrack(), megaflows: true });
      const inner = ex as unknown as Inner & { onlyBackend(a: LbAction, v6: boolean): number };
      // The general form: plans that name no backend, every fork asking pickBackend.
      if (general) inner.onlyBackend = () => -1;
      const picks: number[] = [];
      const pick = inner.pickBackend.bind(ex);
      inner.pickBackend = (b, h, v6, w, node) => {
        const i = pick(b, h, v6, w, node);
        picks.push(i);
        return i;
      };
      return { ex, picks };
    };
    const fast = make(false);
    const general = make(true);
    let v4 = 0;
    let v6n = 0;
    fc.assert(
      fc.property(fc.array(fc.record({ v6: fc.boolean(), sport: fc.integer({ min: 1024, max: 65535 }), client: fc.integer({ min: 2, max: 250 }) }), { minLength: 1, maxLength: 6 }), (syns) => {
        for (const s of syns) {
          const spec = s.v6
            ? { dst: '00:00:00:00:00:64', src: '52:54:00:00:00:01', ipv6: { src: `fd00::9:${s.client.toString(16)}`, dst: 'fd00::100', hopLimit: 64 }, tcp: { srcPort: s.sport, dstPort: 80, flags: 2 } }
            : { dst: '00:00:00:00:00:64', src: '52:54:00:00:00:01', ipv4: { src: `10.0.9.${s.client}`, dst: '10.0.0.100', ttl: 64 }, tcp: { srcPort: s.sport, dstPort: 80, flags: 2 } };
          const f = buildFrame(spec);
          const outs = [fast, general].map(({ ex }) => {
            const buf = new Uint8Array(f.length + 8);
            buf.set(f);
            const r = ex.runFrame(buf, f.length, 'ln', 1000);
            return r.outputs.map((o) => ({ port: o.port, bytes: Array.from(o.frame.subarray(0, o.length)) }));
          });
          expect(outs[0]).toEqual(outs[1]);
          expect(outs[0]!.length).toBe(1);
          if (s.v6) v6n++;
          else v4++;
        }
      }),
      { seed: SEED, numRuns: 60 },
    );
    expect(v4).toBeGreaterThan(0);
    expect(v6n).toBeGreaterThan(0);
    expect(fast.picks).toEqual([]);
    expect(general.picks.length).toBe(v4 + v6n);
  });

  it('leaves a one-backend pick to pickBackend while --lb-dst is set: the address is used up', () => {
    const asked: number[] = [];
    const ct: ConntrackEngine = {
      execute(_f: Uint8Array, _l: number, _d: DecodedFrame, r: CtRequest, res: CtResult): void {
        asked.push(r.nat);
        res.state = CtState.NEW | CtState.TRK;
      },
    };
    const flows = rowsOf([
      [0, 0, '1', 'ct_lb_mark(backends=10.0.0.1:8080);'],
      [1, 0, '1', 'ct_lb_mark;'],
      [2, 0, '1', 'outport = "p2"; output;'],
    ]);
    const ex = new LflowExecutor(oneSwitch(flows, [localnet(), vif('p2', 2, '00:00:00:00:00:02 10.0.0.1')]), 'ls', { ct, lbDst: parseLbDst('10.0.0.1:8080') });
    const f = buildFrame({ dst: '00:00:00:00:00:64', src: '52:54:00:00:00:01', ipv4: { src: '10.0.9.1', dst: '10.0.0.100', ttl: 64 }, tcp: { srcPort: 40000, dstPort: 80, flags: 2 } });
    const buf = new Uint8Array(f.length + 8);
    buf.set(f);
    ex.runFrame(buf, f.length, 'ln', 0);
    // The backend's DNAT, then the backend-less action's ct(nat): --lb-dst was used up by the first.
    expect(asked).toEqual([CtNat.DNAT, CtNat.APPLY]);
  });
});

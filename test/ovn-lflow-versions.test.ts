/**
 * The interpreter runs every switch flow vippath's northd writes, at every OVN version and profile: for
 * fast-check-generated Northbound databases (test/helpers/northd-nb-arb.ts, plus ACL tiers and `pass` from 24.03
 * on), `new LflowExecutor(state, datapath)` compiles every Logical_Flow row of every switch. Two things in the
 * generated NBs make flows that real OVN rejects too (ovn-controller fails to parse them and skips the flow), and the
 * executor must reject exactly those, with BAD_LFLOW: a `$address_set` no Address_Set row defines (expr.c
 * parse_addr_sets: "expecting address set name") and an ACL name holding `"` (northd writes `log(name="…")` raw).
 * The compile check runs on the NB with those repaired.
 * Runs: VIPPATH_LFLOW_VERSIONS_RUNS per version × profile (default 60); seed VIPPATH_LFLOW_VERSIONS_SEED.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LflowError, LflowExecutor, northd, type NbAcl, type NorthboundDb, type NorthdProfile, type OvnVersion } from '@vippath/ovn';
import { nbArb } from './helpers/northd-nb-arb.js';

const RUNS = Number(process.env.VIPPATH_LFLOW_VERSIONS_RUNS ?? 60);
const SEED = process.env.VIPPATH_LFLOW_VERSIONS_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.VIPPATH_LFLOW_VERSIONS_SEED ?? 20261201);
const VERSIONS: OvnVersion[] = ['23.03', '24.03', '25.03'];
const PROFILES: NorthdProfile[] = ['upstream', 'kube-ovn-1.14', 'kube-ovn-1.15'];

const allAcls = (nb: NorthboundDb): NbAcl[] => [...nb.switches.flatMap((s) => s.acls ?? []), ...(nb.portGroups ?? []).flatMap((p) => p.acls ?? [])];

/** ACL tiers 0..3 and `pass` (OVN ≥ 23.06): `tiers[i]` for the i-th ACL, `pass` turning some into pass. */
function withTiers(nb: NorthboundDb, tiers: number[], pass: boolean[]): NorthboundDb {
  const copy = structuredClone(nb);
  allAcls(copy).forEach((a, i) => {
    a.tier = tiers[i % tiers.length] ?? 0;
    if (pass[i % pass.length]) a.action = 'pass';
  });
  return copy;
}

/** The NB with what real OVN would reject repaired: referenced address sets defined (empty), quotes out of names. */
function repaired(nb: NorthboundDb): NorthboundDb {
  const copy = structuredClone(nb);
  const sets = new Set((copy.addressSets ?? []).map((s) => s.name));
  for (const a of allAcls(copy)) {
    for (const m of a.match.matchAll(/\$([A-Za-z0-9_.]+)/g)) {
      if (!sets.has(m[1]!)) (copy.addressSets ??= []).push({ name: m[1]!, addresses: [] }), sets.add(m[1]!);
    }
    if (a.name !== undefined) a.name = a.name.replace(/"/g, "'");
  }
  return copy;
}

const compileAll = (nb: NorthboundDb, ovnVersion: OvnVersion, profile: NorthdProfile): Array<{ dp: string; error: unknown }> => {
  const state = northd(nb, { ovnVersion, profile });
  const errors: Array<{ dp: string; error: unknown }> = [];
  for (const dp of state.flows.keys()) {
    try {
      new LflowExecutor(state, dp, { chassis: 'node1' });
    } catch (error) {
      errors.push({ dp, error });
    }
  }
  return errors;
};

const arb = fc.record({ nb: nbArb, tiers: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }), pass: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }) });

describe('every generated switch flow compiles, at every OVN version and profile', () => {
  for (const v of VERSIONS) {
    for (const profile of PROFILES) {
      it(`${v} ${profile}`, () => {
        console.log(`seed ${SEED}, ${RUNS} runs (${v}, ${profile})`);
        let rejected = 0;
        fc.assert(fc.property(arb, ({ nb, tiers, pass }) => {
          const db = v === '23.03' ? nb : withTiers(nb, tiers, pass);
          const fixed = compileAll(repaired(db), v, profile);
          expect(fixed.map((e) => `${e.dp}: ${(e.error as Error).message}`)).toEqual([]);
          for (const { error } of compileAll(db, v, profile)) {
            rejected++;
            expect(error).toBeInstanceOf(LflowError);
            expect((error as LflowError).code).toBe('BAD_LFLOW');
            expect((error as Error).message).toMatch(/unknown address set \$|log\(name="[^"]*"[^,]/);
          }
        }), { numRuns: RUNS, seed: SEED });
        // The generator reaches both OVN-rejected forms; the check above is not vacuous.
        if (RUNS >= 60) expect(rejected).toBeGreaterThan(0);
      });
    }
  }
});

/**
 * Half-edited YAML through everything that reads it: loading, lint, derived state, the simulation and one frame
 * through it. Results or a typed error (a VippathError: ManifestLoadError with file:line:column, MetalLB's
 * ManifestError with the object and field…) — never a TypeError or RangeError, never a runaway allocation.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterFrom, frameFromDescription, lint, loadManifests, SimulatedCluster, statusJson, withDefaults } from '@vippath/cluster';
import { VippathError } from '@vippath/wire';
import { announce, budget, seed } from './budget.js';

const seedText = readFileSync(fileURLToPath(new URL('../../examples/seed/manifests.yaml', import.meta.url)), 'utf8');
const good = readFileSync(fileURLToPath(new URL('../../examples/seed/default-with-vlan.yaml', import.meta.url)), 'utf8');
// A collected cluster as kubectl prints it: a List with managedFields, status, Pods, Endpoints, EndpointSlices.
const listText = readFileSync(fileURLToPath(new URL('../fixtures/snapshot/cluster.yaml', import.meta.url)), 'utf8');
const lines = [...seedText.split('\n'), ...good.split('\n'), ...listText.split('\n')];

// Values of the wrong type or shape where manifests have values.
const VALUES = ['[]', '{}', '-1', '1e9', '0', '999999999999', 'null', '~', '"x"', '[1, 2]', '{a: 1}', '10.180.204.0/33', '300.1.1.1', '10.180.204.254-10.180.204.250',
  'fd00::/200', 'true', '*a', '&a [1]', '"\\u0000"', "'10.180.204.250..10.180.204.1'", 'LoadBalancer', 'Local', '65536', 'TCP', 'SCTP', 'kube-ovn-2.0'];

const manifestArb = fc.oneof(
  // Lines dropped, duplicated, values replaced.
  fc.tuple(fc.constantFrom(seedText, good, listText), fc.array(fc.tuple(fc.constantFrom('drop', 'dup', 'value', 'indent'), fc.nat(), fc.constantFrom(...VALUES)), { minLength: 1, maxLength: 5 })).map(([text, edits]) => {
    const ls = text.split('\n');
    for (const [op, at, v] of edits) {
      const i = at % ls.length;
      if (op === 'drop') ls.splice(i, 1);
      else if (op === 'dup') ls.splice(i, 0, ls[i]!);
      else if (op === 'indent') ls[i] = ` ${ls[i]}`;
      else if (ls[i]!.includes(':')) ls[i] = `${ls[i]!.slice(0, ls[i]!.indexOf(':') + 1)} ${v}`;
    }
    return ls.join('\n');
  }),
  fc.array(fc.constantFrom(...lines), { maxLength: 40 }).map((ls) => ls.join('\n')),
  // An alias bomb.
  fc.constant('a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n'),
  fc.constant(good.replace('replicas: 3', 'replicas: 1000000000')),
);

describe('malformed manifests', () => {
  const runs = budget(1000);
  it(`load, lint, derive, simulate: results or typed errors (${runs} manifests)`, () => {
    announce('manifests', runs, 'manifests');
    let simulated = 0;
    let refused = 0;
    fc.assert(
      fc.property(manifestArb, (text) => {
        try {
          // As the CLI reads them: alone (no defaults mixed in), and with --defaults.
          const loaded = loadManifests(text, 'fuzz.yaml').objects;
          const objects = text.length % 2 ? withDefaults(loaded) : loaded;
          const cluster = clusterFrom(objects);
          lint(objects, cluster.flags);
          statusJson(objects, cluster);
          const sim = new SimulatedCluster(objects, cluster, { trace: false });
          expect(sim.state.pods.length).toBeLessThanOrEqual(4096);
          if (sim.state.services.some((s) => s.ingress.length)) {
            const f = frameFromDescription('tcp,dport=80', sim);
            sim.process(f, f.length, 0);
          }
          simulated++;
        } catch (e) {
          if (!(e instanceof VippathError)) throw e;
          expect(e.message.length).toBeGreaterThan(10);
          refused++;
        }
      }),
      { numRuns: runs, seed },
    );
    expect(simulated).toBeGreaterThan(runs / 20);
    expect(refused).toBeGreaterThan(runs / 20);
  }, 600_000);
});

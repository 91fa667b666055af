import { readdirSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const root = fileURLToPath(new URL('.', import.meta.url));
const packages = readdirSync(`${root}packages`).filter((name) => existsSync(`${root}packages/${name}/package.json`));

// Tests run against the TypeScript sources, so a change is tested without a rebuild;
// the consumer test in test/ checks the built, packed output separately.
const alias = packages.map((name) => ({
  find: name === 'vippath' ? /^vippath$/ : new RegExp(`^@vippath/${name}$`),
  replacement: `${root}packages/${name}/src/index.ts`,
}));

// Files whose real counterpart runs on the clock — the three-node testbed (ovn-controller's GARP timing, the
// daemons' convergence), a one-chassis ovn-controller, the kernel's TCP, Chromium, signals sent at moments of a
// replay — run alone, one at a time, after everything else: a second worker competing for the CPU would change what
// they observe, not only how long they take. Everything else is deterministic and shares the cores.
const onTheClock = [
  'test/testbed.test.ts',
  'test/testbed-caches.test.ts',
  'test/testbed-snapshot.test.ts',
  'test/testbed-snapshot-nb.test.ts',
  'test/verify-cli.test.ts',
  'test/hairpin-ovs.test.ts',
  'test/select-group-ovs.test.ts',
  'test/linux-tcp.test.ts',
  'test/report-browser.test.ts',
  'test/fuzz/outputs.fuzz.test.ts',
];

// The files that took longest in the pool in CI (its "slowest test files" line, session 26: ct-ovs 334 s, openflow-ovs
// 76 s, ovn-northd 57 s, flow-cache 51 s, consumer 42 s), longest first. Vitest's own order (BaseSequencer.sort)
// queues the pool project by project, alphabetically, and on a clean clone, without its results cache, the larger
// file first within each: ct-ovs, of the `scenarios` project, came 77th of the 131 files, after every cluster,
// examples, metallb, openflow, ovn and pcap file, so it could still run alone at the pool's end while the other core
// waited for it. Started first, a long file runs beside the many short ones (longest-processing-time first).
const longestFirst = [
  'test/ct-ovs.test.ts',
  'test/openflow-ovs.test.ts',
  'test/ovn-northd.test.ts',
  'packages/cluster/src/flow-cache.test.ts',
  'test/consumer.test.ts',
];

/** Vitest's order (group order first, then its project and file rules), with {@link longestFirst} moved to the front of their group. */
class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = longestFirst.findIndex((name) => f.moduleId === `${root}${name}`);
      return i < 0 ? longestFirst.length : i;
    };
    // Array.prototype.sort is stable: files of equal rank keep vitest's order.
    return (await super.sort(files)).sort((a, b) => a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder || rank(a) - rank(b));
  }
}

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    sequence: { sequencer: LongestFirstSequencer },
    // vitest's default is one worker fewer than the cores: one on the 2-core CI machine, which ran every file in turn.
    maxWorkers: Math.max(2, availableParallelism()),
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        // A hang guard, not a speed check: a file sharing the cores may take several times its time alone.
        test: { name, include: [`packages/${name}/src/**/*.test.ts`], testTimeout: 60_000 },
      })),
      { extends: true as const, test: { name: 'scenarios', include: ['test/**/*.test.ts'], exclude: onTheClock, testTimeout: 120_000 } },
      {
        extends: true as const,
        test: { name: 'on-the-clock', include: onTheClock, testTimeout: 120_000, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      { extends: true as const, test: { name: 'examples', include: ['examples/**/*.test.ts'], testTimeout: 60_000 } },
    ],
  },
});

import { readdirSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

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

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
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

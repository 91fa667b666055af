import { readdirSync, existsSync } from 'node:fs';
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

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, include: [`packages/${name}/src/**/*.test.ts`] },
      })),
      { extends: true as const, test: { name: 'scenarios', include: ['test/**/*.test.ts'], testTimeout: 120_000 } },
      { extends: true as const, test: { name: 'examples', include: ['examples/**/*.test.ts'], testTimeout: 60_000 } },
    ],
  },
});
